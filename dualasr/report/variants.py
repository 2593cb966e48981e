"""The report's dual-output variants (``do_<name>``): each variant's difference from SO with a paired
bootstrap CI in the main table, DO − SO surface CER per divergence bin with one line per variant (one
figure), the sparse residuals' sparsity, and generated sentences on which variant (if any) removes the
DO surface penalty while keeping the meaning result.

Inputs, all written by the recipe: the score files, ``exp/analysis/divergence/bins.csv`` (``do``) and
``exp/analysis/divergence/models/<model>/bins.csv`` (every other dual model, stage 10), and
``exp/<model>_<lang>*/sparsity.csv`` (``do_sparse``, stage 7).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np

from dualasr.report.report import read_csv, significance
from dualasr.report.tables import cell_values, dual_models

# "removes the penalty": the variant's surface CER is at most SO's (its CI reaches 0 or below when seeds > 1);
# "keeps the meaning result": its meaning CER is at most DO's.


def _col(m: str) -> str:
    return f"{m.upper() if m == 'do' else m} − SO"


def add_bootstrap_ci(main: List[Dict[str, str]], expdir: Path, lang_sets: Sequence[Tuple[str, str]],
                     results: List[dict], metrics: Dict[Tuple[str, str], Sequence[str]], n_boot: int = 1000
                     ) -> List[Dict[str, object]]:
    """Append ``[ci_low, ci_high]`` to each variant's (``do_*``) ``− SO`` cell of ``main`` where it has
    more than one seed; return the bootstrap rows of every dual model (with a ``model`` column)."""
    rows = []
    for m in dual_models(results):
        for r in significance(expdir, lang_sets, metrics, do_model=m, n_boot=n_boot):
            rows.append({"model": m, **r})
            if m == "do" or int(r["seeds"]) < 2:  # DO's CI is in the significance table; its cell stays as it was
                continue
            for line in main:
                if (line["lang"], line["output"], line["metric"]) == (r["lang"], r["output"], r["metric"]):
                    line[_col(m)] = f"{line[_col(m)]} [{r['ci_low']}, {r['ci_high']}]"
    return rows


def variant_bins(ana: Path) -> Dict[str, List[Dict[str, str]]]:
    """bins.csv rows per dual model: ``do`` from analysis/divergence, the others from divergence/models/."""
    out = {}
    do = read_csv(ana / "divergence" / "bins.csv")
    if do:
        out["do"] = do
    for f in sorted((ana / "divergence" / "models").glob("*/bins.csv")):
        out[f.parent.name] = read_csv(f)
    return out


def plot_variant_bins(path: Path, by_model: Dict[str, List[Dict[str, str]]], output: str = "surface",
                      unit: str = "char") -> bool:
    """DO − SO ``output`` CER per divergence bin, one subplot per language, one line per dual model.
    Returns False (no file) when no model has rows for it."""
    from dualasr.report.figures import _plt, save

    sel = {m: [r for r in rows if r["output"] == output and r["unit"] == unit] for m, rows in by_model.items()}
    sel = {m: rows for m, rows in sel.items() if rows}
    if not sel:
        return False
    plt = _plt()
    langs = list(dict.fromkeys(r["lang"] for rows in sel.values() for r in rows))
    fig, axes = plt.subplots(1, len(langs), figsize=(5.5 * len(langs), 4.2), squeeze=False, sharey=True)
    for ax, lang in zip(axes[0], langs):
        labels = list(dict.fromkeys(r["bin"] for rows in sel.values() for r in rows if r["lang"] == lang))
        for m, rows in sel.items():
            by_bin = {r["bin"]: r for r in rows if r["lang"] == lang}
            if not by_bin:
                continue
            y = [float(by_bin[b]["delta"]) if b in by_bin and int(by_bin[b]["n"]) > 0 else np.nan for b in labels]
            ax.plot(range(len(labels)), y, marker="o", label=m, linewidth=2.2 if m == "do" else 1.2)
        ax.axhline(0.0, color="grey", linewidth=0.8)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_title(lang)
        ax.set_xlabel(f"surface–meaning edit distance ({unit}s)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel(f"model − SO {output} CER (points)")
    fig.suptitle(f"Dual-output variants: {output} CER gap to SO by divergence bin", fontsize=9)
    fig.tight_layout()
    save(fig, path)
    return True


def sparsity_rows(expdir: Path) -> List[Dict[str, str]]:
    """Every ``exp/<model dir>/sparsity.csv`` (do_sparse), with the model dir's name."""
    rows = []
    for f in sorted(Path(expdir).glob("*/sparsity.csv")):
        rows += [{"model_dir": f.parent.name, **r} for r in read_csv(f)]
    return rows


def sentences_variants(results: List[dict], sig_rows: List[Dict[str, object]]) -> List[str]:
    """Per language (CER): whether DO pays a surface penalty, and which variant removes it while keeping
    DO's meaning CER."""
    variants = [m for m in dual_models(results) if m != "do"]
    if not variants:
        return []
    out = []
    for lang in dict.fromkeys(r["lang"] for r in results):
        so_s = cell_values(results, lang, "so_surface", "surface", "cer")
        so_m = cell_values(results, lang, "so_meaning", "meaning", "cer")
        do_s = cell_values(results, lang, "do", "surface", "cer")
        do_m = cell_values(results, lang, "do", "meaning", "cer")
        if not (so_s and so_m and do_s and do_m):
            continue
        penalty = float(np.mean(do_s) - np.mean(so_s))
        keep, fail = [], []
        for m in variants:
            v_s, v_m = cell_values(results, lang, m, "surface", "cer"), cell_values(results, lang, m, "meaning", "cer")
            if not (v_s and v_m):
                continue
            ds = float(np.mean(v_s) - np.mean(so_s))
            ci = next((r for r in sig_rows if (r["model"], r["lang"], r["output"], r["metric"]) == (m, lang, "surface", "cer")
                       and int(r["seeds"]) > 1), None)
            removes = float(ci["ci_low"]) <= 0 if ci else ds <= 0
            keeps = float(np.mean(v_m)) <= float(np.mean(do_m))
            desc = (f"{m} (surface {ds:+.2f}" + (f" [{ci['ci_low']}, {ci['ci_high']}]" if ci else "")
                    + f", meaning {float(np.mean(v_m) - np.mean(so_m)):+.2f} vs SO)")
            (keep if removes and keeps else fail).append(desc)
        if not keep and not fail:
            continue
        head = (f"In {lang}, DO's surface CER is {penalty:+.2f} points from SO's and its meaning CER "
                f"{float(np.mean(do_m) - np.mean(so_m)):+.2f}")
        if penalty <= 0:
            head += "; DO pays no surface penalty here, so there is none to remove"
        if keep:
            s = head + "; with surface CER at most SO's and meaning CER at most DO's: " + ", ".join(keep)
        else:
            s = head + "; no variant has surface CER at most SO's with meaning CER at most DO's"
        if fail:
            s += "; the others: " + ", ".join(fail)
        if len(so_s) < 2 or len(do_s) < 2:
            s += (". These are single runs (one seed of each model): each difference may move by as much with "
                  "another seed, so none is a finding until several seeds agree (`--seeds`, `make paper`)")
        out.append(s + ".")
    return out



class Variants:
    """The report's variant parts: built once in build_report (which annotates ``main`` with the CIs),
    then asked for the extra tables and the README section."""

    def __init__(self, expdir: Path, lang_sets: Sequence[Tuple[str, str]], results: List[dict],
                 main: List[Dict[str, str]], n_boot: int = 1000):
        metrics: Dict[Tuple[str, str], List[str]] = {}  # what stage 9 scored, per language and output
        for r in results:
            if r["metric"] not in metrics.setdefault((r["lang"], r["output"]), []):
                metrics[(r["lang"], r["output"])].append(r["metric"])
        self.results = results
        self.sig = add_bootstrap_ci(main, expdir, lang_sets, results, metrics, n_boot)
        self.sparsity = sparsity_rows(expdir)

    def tables(self) -> List[Tuple[str, str, list]]:
        """The extra tables, as (file stem, title, rows)."""
        return [
            ("variants_significance", "Paired bootstrap of each dual model vs SO (delta and CI in points)",
             self.sig if len({r["model"] for r in self.sig}) > 1 else []),
            ("residual_sparsity", "do_sparse: share of residual entries with |r| <= tol, and their L1 norm",
             self.sparsity),
        ]

    def append_section(self, outdir: Path, ana: Path) -> None:
        """Append section 5 (sentences, sparsity, the divergence figure) to the report's README, when any
        ``do_*`` model was scored."""
        from dualasr.files import write_atomic

        if not any(r["model"].startswith("do_") for r in self.results):
            return
        fig = outdir / "figures" / "variants" / "divergence_surface_cer.png"
        images = [str(fig.relative_to(outdir))] if plot_variant_bins(fig, variant_bins(ana)) else []
        lines = sentences_variants(self.results, self.sig)
        lines += [f"{r['model_dir']}: {100 * float(r['sparsity']):.1f} % of the {r['output']} residual's "
                  f"{r['entries']} entries have |r| <= {r['tol']} (L1 {float(r['l1']):.4g})." for r in self.sparsity]
        text = ["## 5. Dual-output variants", ""]
        text += [f"- {s}" for s in lines] or ["(no variant has scores for both outputs and both SO models)"]
        text.append("")
        text += [f"![{Path(i).stem}]({i})" for i in images] + [""]
        readme = outdir / "README.md"
        write_atomic(readme, readme.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + "\n".join(text))
