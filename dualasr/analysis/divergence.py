"""Surface–meaning divergence: how the DO - SO gap grows with the distance between the two references.

For each test utterance, d = Levenshtein(surface reference, meaning reference). Utterances are grouped
into distance bins; per bin and per output we report the pooled SO and DO error rates, DO - SO with a
paired bootstrap 95% CI, and over all utterances the Spearman correlation between d and the
per-utterance DO - SO error-rate difference.

Typical use (one group per language and output)::

    d = read_distances("data/test_en", "en", "char")
    rows = join_scores(d, read_utt_scores(so_file), read_utt_scores(do_file), where="en/surface")
    bins, corrs = analyze({("en", "surface"): rows})
    header = [f.name for f in fields(BinResult)]
    write_atomic("exp/divergence/bins.csv", csv_text(header, [csv_row(b) for b in bins]))
    plot_divergence("exp/divergence/divergence.png", bins)
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Dict, List, Mapping, Sequence, Tuple

import numpy as np
from rapidfuzz.distance import Levenshtein

from dualasr.data.datadir import read_kaldi_map
from dualasr.analysis.stats import bootstrap_deltas, error_rate

LANGS = ("ko", "en")
UNITS = ("char", "word")
DEFAULT_BINS = "0,1-2,3-5,6-10,11+"


def units(text: str, lang: str, unit: str) -> str | List[str]:
    """The sequence the distance is counted on.

    ``char``: characters; spaces removed for ``ko`` (Korean spacing varies between transcribers),
    kept (runs collapsed to one) for ``en``. ``word``: whitespace-separated words.
    """
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {LANGS}")
    if unit == "word":
        return text.split()
    if unit == "char":
        return "".join(text.split()) if lang == "ko" else " ".join(text.split())
    raise ValueError(f"unknown unit {unit!r}: expected one of {UNITS}")


def distance(surface_ref: str, meaning_ref: str, lang: str, unit: str = "char") -> int:
    """Levenshtein distance between the surface and meaning references, in ``unit``s."""
    return Levenshtein.distance(units(surface_ref, lang, unit), units(meaning_ref, lang, unit))


@dataclass(frozen=True)
class Bin:
    """Distances lo..hi inclusive; ``hi`` None means no upper bound."""

    lo: int
    hi: int | None

    @property
    def label(self) -> str:
        if self.hi is None:
            return f">{self.lo - 1}" if self.lo > 0 else ">=0"
        return str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"

    def __contains__(self, d: int) -> bool:
        return d >= self.lo and (self.hi is None or d <= self.hi)


def parse_bins(spec: str = DEFAULT_BINS) -> List[Bin]:
    """Parse a spec like ``0,1-2,3-5,6-10,11+`` into bins.

    The bins must start at 0, follow each other without gap or overlap, and the last one must be
    open (``N+``), so every distance falls into exactly one bin.
    """
    bins: List[Bin] = []
    for part in spec.split(","):
        part = part.strip()
        m = re.fullmatch(r"([0-9]+)(?:-([0-9]+)|(\+))?", part)
        if not m:
            raise ValueError(f"bin spec {spec!r}: cannot parse {part!r} (use N, N-M or N+)")
        lo = int(m.group(1))
        hi = None if m.group(3) else int(m.group(2) or lo)
        if bins and bins[-1].hi is None:
            raise ValueError(f"bin spec {spec!r}: {part!r} comes after the open bin {bins[-1].label}")
        expected = bins[-1].hi + 1 if bins else 0
        if lo != expected or (hi is not None and hi < lo):
            raise ValueError(f"bin spec {spec!r}: {part!r} should start at {expected} and not end before it")
        bins.append(Bin(lo, hi))
    if bins[-1].hi is not None:
        raise ValueError(f"bin spec {spec!r}: the last bin must be open-ended, e.g. {bins[-1].hi + 1}+")
    return bins


def bin_index(d: int, bins: Sequence[Bin]) -> int:
    """Index of the bin holding distance ``d``."""
    for i, b in enumerate(bins):
        if d in b:
            return i
    raise ValueError(f"distance {d} falls in no bin of {[b.label for b in bins]}")


@dataclass(frozen=True)
class UttScore:
    """One utterance of one (language, output): its distance and both systems' errors on it."""

    uttid: str
    d: int
    so_errors: int
    so_ref_len: int
    do_errors: int
    do_ref_len: int


@dataclass(frozen=True)
class BinResult:
    """One row of the bin table. Rates in percent; delta = DO - SO and its CI in points."""

    lang: str
    output: str
    bin: str
    n: int
    so_rate: float
    do_rate: float
    delta: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Correlation:
    """Spearman rho between d and the per-utterance DO - SO rate difference (utterances with ref_len > 0)."""

    lang: str
    output: str
    n: int
    rho: float
    p_value: float


def _columns(rows: Sequence[UttScore]) -> Tuple[np.ndarray, ...]:
    """Columns d, so_e, so_n, do_e, do_n of ``rows`` as arrays."""
    if not rows:
        return tuple(np.zeros(0) for _ in range(5))
    return tuple(np.asarray(c, dtype=np.float64) for c in zip(*(astuple(r)[1:] for r in rows)))


def bin_results(
    rows: Sequence[UttScore],
    lang: str,
    output: str,
    bins: Sequence[Bin] | str = DEFAULT_BINS,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> List[BinResult]:
    """Per-bin SO and DO rates and DO - SO with a bootstrap CI (utterances resampled within the bin).

    Every bin gets a row, empty ones with n = 0 and NaN values.
    """
    bins = parse_bins(bins) if isinstance(bins, str) else list(bins)
    d, so_e, so_n, do_e, do_n = _columns(rows)
    which = np.empty(len(rows), dtype=int)
    for k, r in enumerate(rows):
        try:
            which[k] = bin_index(r.d, bins)
        except ValueError as e:
            raise ValueError(f"{lang}/{output}: utterance {r.uttid}: {e}") from None
    rng = np.random.default_rng(seed)
    tail = (1.0 - confidence) / 2 * 100
    out = []
    for i, b in enumerate(bins):
        sel = which == i
        so_rate, do_rate = error_rate(so_e[sel], so_n[sel]), error_rate(do_e[sel], do_n[sel])
        boot = bootstrap_deltas(so_e[sel], so_n[sel], do_e[sel], do_n[sel], n_boot, rng)
        boot = boot[np.isfinite(boot)]
        low, high = np.percentile(boot, [tail, 100 - tail]) if boot.size else (math.nan, math.nan)
        out.append(BinResult(lang, output, b.label, int(sel.sum()), so_rate, do_rate, do_rate - so_rate,
                             float(low), float(high)))
    return out


def spearman(rows: Sequence[UttScore], lang: str, output: str) -> Correlation:
    """Spearman correlation of d with the per-utterance (DO rate - SO rate), with its p-value."""
    from scipy.stats import spearmanr  # here: importing this module (every analysis CLI) stays light

    d, so_e, so_n, do_e, do_n = _columns(rows)
    keep = (so_n > 0) & (do_n > 0)
    if keep.sum() < 3:
        return Correlation(lang, output, int(keep.sum()), math.nan, math.nan)
    diff = 100.0 * (do_e[keep] / do_n[keep] - so_e[keep] / so_n[keep])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant input: scipy warns and returns NaN, which we keep
        res = spearmanr(d[keep], diff)
    return Correlation(lang, output, int(keep.sum()), float(res.statistic), float(res.pvalue))


def analyze(
    groups: Mapping[Tuple[str, str], Sequence[UttScore]],
    bins: Sequence[Bin] | str = DEFAULT_BINS,
    n_boot: int = 1000,
    seed: int = 0,
) -> Tuple[List[BinResult], List[Correlation]]:
    """Bin table and correlations for every (lang, output) group."""
    table: List[BinResult] = []
    corrs: List[Correlation] = []
    for (lang, output), rows in groups.items():
        table += bin_results(rows, lang, output, bins, n_boot, seed)
        corrs.append(spearman(rows, lang, output))
    return table, corrs


def csv_row(result) -> List[str]:
    """A BinResult or Correlation as CSV cells: floats at 4 decimals, p-values at 4 digits."""
    return [f"{v:.4g}" if f.name == "p_value" else f"{v:.4f}" if isinstance(v, float) else str(v)
            for f, v in zip(fields(result), astuple(result))]


def plot_divergence(
    path: Path | str,
    results: Sequence[BinResult],
    unit: str = "char",
    metric: str = "error rate",
) -> None:
    """PNG of DO - SO (points) against the distance bin: one subplot per output, one line per
    language, the bootstrap CI as a band. Written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not results:
        raise ValueError(f"{path}: no results to plot")
    outputs = list(dict.fromkeys(r.output for r in results))
    labels = list(dict.fromkeys(r.bin for r in results))
    fig, axes = plt.subplots(1, len(outputs), figsize=(5 * len(outputs), 4), sharey=True, squeeze=False)
    for ax, output in zip(axes[0], outputs):
        for lang in dict.fromkeys(r.lang for r in results if r.output == output):
            by_bin = {r.bin: r for r in results if r.output == output and r.lang == lang}
            x = np.arange(len(labels))
            delta, low, high = (
                np.array([getattr(by_bin[b], f) if b in by_bin else np.nan for b in labels])
                for f in ("delta", "ci_low", "ci_high")
            )
            (line,) = ax.plot(x, delta, marker="o", label=lang)
            ax.fill_between(x, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xticks(np.arange(len(labels)), labels)
        ax.set_title(f"{output} output")
        ax.set_xlabel(f"surface–meaning edit distance ({unit}s)")
        ax.grid(alpha=0.3)
        ax.legend(title="language")
    axes[0][0].set_ylabel(f"DO − SO {metric} (points)")
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.png")
    fig.savefig(tmp, dpi=150)
    plt.close(fig)
    os.replace(tmp, path)


def read_distances(data_dir: Path | str, lang: str, unit: str = "char") -> Dict[str, int]:
    """uttid -> Levenshtein(surface, meaning) from ``text.surface`` and ``text.meaning`` of a data dir."""
    data_dir = Path(data_dir)
    surface = read_kaldi_map(data_dir / "text.surface")
    meaning = read_kaldi_map(data_dir / "text.meaning")
    for have, lack, lack_name in ((surface, meaning, "text.meaning"), (meaning, surface, "text.surface")):
        for u in have:
            if u not in lack:
                raise ValueError(f"{data_dir / lack_name}: utterance {u} is missing")
    return {u: distance(surface[u], meaning[u], lang, unit) for u in surface}


def read_utt_scores(path: Path | str) -> Dict[str, Tuple[int, int]]:
    """Read per-utterance scores, one ``uttid errors ref_len`` line each (spaces, tabs or commas).

    A first line starting with ``uttid`` is taken as a header and skipped.
    """
    out: Dict[str, Tuple[int, int]] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = [p for p in re.split(r"[,\s]+", line.strip()) if p]
            if not parts or (lineno == 1 and parts[0] == "uttid"):
                continue
            if len(parts) != 3 or not all(re.fullmatch(r"[0-9]+", p) for p in parts[1:]):
                raise ValueError(
                    f"{path}:{lineno}: expected 'uttid errors ref_len' with counts >= 0, got {line.strip()!r}"
                )
            if parts[0] in out:
                raise ValueError(f"{path}:{lineno}: duplicate utterance {parts[0]}")
            out[parts[0]] = (int(parts[1]), int(parts[2]))
    return out


def join_scores(
    distances: Mapping[str, int],
    so: Mapping[str, Tuple[int, int]],
    do: Mapping[str, Tuple[int, int]],
    where: str = "",
) -> List[UttScore]:
    """Join distances with SO and DO (errors, ref_len) per utterance; every id must be in all three.

    ``where`` (e.g. ``en/surface``) goes into the error message.
    """
    for name, scores in (("SO scores", so), ("DO scores", do)):
        for u in distances:
            if u not in scores:
                raise ValueError(f"{where}: utterance {u} is missing from the {name}")
        for u in scores:
            if u not in distances:
                raise ValueError(f"{where}: utterance {u} of the {name} is not in the references")
    return [UttScore(u, d, *so[u], *do[u]) for u, d in sorted(distances.items())]
