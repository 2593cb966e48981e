"""Significance and spread: paired bootstrap of SO vs DO error rates, mean ± sd across seeds.

Error rates are pooled, as scoring tools report them: 100 * sum(errors) / sum(ref_len) over the
utterances. The bootstrap resamples utterances with replacement and keeps the pairing: one resample
picks the same utterances for both systems.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Bootstrap resamples are drawn in chunks of about this many (resample, utterance) cells.
_CHUNK_CELLS = 2_000_000


def _counts(values: Sequence, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D float64 array of non-negative whole numbers, or raise naming ``name``."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D sequence, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr)))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] = {arr[bad[0]]}: counts must be whole numbers >= 0")
    return arr


def error_rate(errors: Sequence, ref_len: Sequence) -> float:
    """Pooled error rate in percent: 100 * sum(errors) / sum(ref_len); NaN when sum(ref_len) is 0."""
    e, n = _counts(errors, "errors"), _counts(ref_len, "ref_len")
    total = n.sum()
    return 100.0 * e.sum() / total if total > 0 else math.nan


def bootstrap_deltas(
    so_errors: Sequence,
    so_ref_len: Sequence,
    do_errors: Sequence,
    do_ref_len: Sequence,
    n_boot: int = 1000,
    rng: np.random.Generator | int = 0,
) -> np.ndarray:
    """``n_boot`` resampled values of (DO rate - SO rate), in points; utterances resampled in pairs.

    Vectorised: each resample is a row of multinomial counts w [n], and the pooled sums of a chunk
    of resamples are one matrix product W @ [so_e, so_n, do_e, do_n]. Resamples whose reference
    length sums to 0 give NaN.
    """
    cols = [
        _counts(so_errors, "so_errors"),
        _counts(so_ref_len, "so_ref_len"),
        _counts(do_errors, "do_errors"),
        _counts(do_ref_len, "do_ref_len"),
    ]
    n = cols[0].size
    if any(c.size != n for c in cols):
        raise ValueError(f"paired inputs differ in length: {[c.size for c in cols]}")
    if n == 0:
        return np.full(n_boot, math.nan)
    rng = np.random.default_rng(rng)
    table = np.stack(cols, axis=1)  # [n, 4]
    chunk = max(1, _CHUNK_CELLS // n)
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        sums = rng.multinomial(n, np.full(n, 1.0 / n), size=b) @ table  # [b, 4]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + b] = 100.0 * (sums[:, 2] / sums[:, 3] - sums[:, 0] / sums[:, 1])
    return out


@dataclass(frozen=True)
class PairedResult:
    """DO - SO on the same utterances: rates in percent, delta and CI in points."""

    n: int
    so_rate: float
    do_rate: float
    delta: float
    ci_low: float
    ci_high: float
    p_value: float


def paired_bootstrap(
    so_errors: Sequence,
    so_ref_len: Sequence,
    do_errors: Sequence,
    do_ref_len: Sequence,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> PairedResult:
    """Paired bootstrap test of DO vs SO error rate on the same utterances.

    The CI is the percentile interval of the resampled deltas. The two-sided p-value tests
    delta = 0 by shifting the bootstrap distribution to the null (Berg-Kirkpatrick et al. 2012):
    p = (1 + #{|delta* - delta| >= |delta|}) / (1 + n_boot). Identical systems give p = 1.
    """
    boot = bootstrap_deltas(so_errors, so_ref_len, do_errors, do_ref_len, n_boot, seed)  # validates
    so_rate, do_rate = error_rate(so_errors, so_ref_len), error_rate(do_errors, do_ref_len)
    delta = do_rate - so_rate
    boot = boot[np.isfinite(boot)]
    if boot.size == 0 or not math.isfinite(delta):
        return PairedResult(len(so_errors), so_rate, do_rate, delta, math.nan, math.nan, math.nan)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    p = (1 + np.count_nonzero(np.abs(boot - delta) >= abs(delta))) / (1 + boot.size)
    return PairedResult(len(so_errors), so_rate, do_rate, delta, float(low), float(high), float(p))


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) across seeds; sd is NaN for a single value."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError("mean_sd: no values")
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else math.nan


def format_mean_sd(values: Sequence[float], digits: int = 2) -> str:
    """'12.34 ± 0.56' across seeds, or just '12.34' for a single seed."""
    mean, sd = mean_sd(values)
    return f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"
