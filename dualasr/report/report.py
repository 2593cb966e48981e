"""exp/report/: the paper's tables (markdown, LaTeX, CSV), its figures, and a README that reads them.

Everything is regenerated from exp/: the score files (``*/decode_*/score_*/score.json`` and
``utt_errors.<metric>``) and the analyses' outputs under ``exp/analysis/{divergence,cka,cross_decoder}``.
An analysis that has not run leaves its section out (the README says so). Each README sentence is
built from the numbers in the tables; none is typed by hand.

Seeds: a main-table cell is mean ± sd over the seeds; the paired bootstrap of SO vs DO resamples
utterances whose errors and reference lengths are summed over the seeds (seeds stay together).
"""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from dualasr.analysis.layout import SO_MODELS, model_dirs, pooled_utt_errors, train_config
from dualasr.analysis.stats import paired_bootstrap
from dualasr.files import csv_text, write_atomic
from dualasr.report.tables import BRANCH_TITLE, branch_table, cell_values, gather, gather_branches, main_table
from dualasr.report.tables import ROBUST_TITLE, gather_mdd, mdd_table, robustness_table, split_condition, to_markdown

METRIC_NAMES = {"cer": "CER", "cer_space": "CER (with spaces)", "wer": "WER", "per": "PER"}
SIG_HEADER = ["lang", "output", "metric", "test_set", "seeds", "n", "so_rate", "do_rate", "delta", "ci_low",
              "ci_high", "p_value"]


def read_csv(path: Path) -> List[Dict[str, str]]:
    """Rows of a CSV file as dicts (empty list when the file does not exist)."""
    if not path.is_file():
        return []
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))



def _tex_escape(s: str) -> str:
    s = str(s)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                 ("$", r"\$"), ("{", r"\{"), ("}", r"\}")):
        s = s.replace(a, b)
    return s.replace("±", r"$\pm$").replace("−", "$-$").replace("ρ", r"$\rho$").replace(">", r"$>$")


def to_latex(table: Sequence[Dict[str, object]], caption: str, label: str) -> str:
    """A booktabs ``table`` environment of ``table`` (rows of equal keys). Written by hand: the only
    library doing this here would be pandas, which the stack does not otherwise need."""
    if not table:
        return f"% {caption}: no rows\n"
    cols = list(table[0].keys())
    numeric = [not all(_is_text(r.get(c, "")) for r in table) for c in cols]
    spec = "".join("r" if n else "l" for n in numeric)
    lines = [r"\begin{table}[t]", r"\centering", f"\\caption{{{_tex_escape(caption)}}}", f"\\label{{{label}}}",
             f"\\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(_tex_escape(c) for c in cols) + r" \\",
             r"\midrule"]
    lines += [" & ".join(_tex_escape(r.get(c, "")) for c in cols) + r" \\" for r in table]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _is_text(v) -> bool:
    try:
        float(str(v).split(" ")[0].replace("−", "-"))
        return False
    except ValueError:
        return True


def significance(expdir: Path, lang_sets: Sequence[Tuple[str, str]], metrics: Dict[str, Sequence[str]],
                 do_model: str = "do", n_boot: int = 1000, seed: int = 0) -> List[Dict[str, object]]:
    """Paired bootstrap of SO vs DO per language, output and metric (utterance errors summed over seeds).

    ``metrics`` maps ``(lang, output)`` (or ``lang``, for every output) to the metrics scored."""
    rows = []
    for lang, test_set in lang_sets:
        for o in ("surface", "meaning"):
            so_m = SO_MODELS[o]
            if not model_dirs(expdir, so_m, lang) or not model_dirs(expdir, do_model, lang):
                continue
            for metric in metrics.get((lang, o), metrics.get(lang, ())):
                so = pooled_utt_errors(expdir, so_m, lang, test_set, o, metric)
                do = pooled_utt_errors(expdir, do_model, lang, test_set, o, metric)
                if set(so) != set(do):
                    raise ValueError(f"{expdir}: {so_m}_{lang} and {do_model}_{lang} scored other utterances of {test_set}")
                ids = sorted(so)
                r = paired_bootstrap([so[u][0] for u in ids], [so[u][1] for u in ids], [do[u][0] for u in ids],
                                     [do[u][1] for u in ids], n_boot=n_boot, seed=seed)
                rows.append(dict(lang=lang, output=o, metric=metric, test_set=test_set,
                                 seeds=len(model_dirs(expdir, do_model, lang)), n=r.n, so_rate=f"{r.so_rate:.2f}",
                                 do_rate=f"{r.do_rate:.2f}", delta=f"{r.delta:+.2f}", ci_low=f"{r.ci_low:+.2f}",
                                 ci_high=f"{r.ci_high:+.2f}", p_value=f"{r.p_value:.4g}"))
    return rows


def _higher(delta: float) -> str:
    return "higher" if delta > 0 else "lower"


def _change(delta: float) -> str:
    if abs(delta) < 0.005:
        return "leaves"
    return "raises" if delta > 0 else "lowers"


def sentences_main(results: List[dict], sig: List[Dict[str, object]], do_model: str = "do") -> List[str]:
    """One sentence per language and output on the main table's first metric (CER, or PER for phones)."""
    out, seen = [], set()
    for line in main_table(results):
        lang, o, metric = line["lang"], line["output"], line["metric"]
        if (lang, o) in seen:
            continue
        seen.add((lang, o))
        so = cell_values(results, lang, SO_MODELS[o], o, metric)
        do = cell_values(results, lang, do_model, o, metric)
        if not so or not do:
            continue
        delta = float(np.mean(do) - np.mean(so))
        if len(so) == 1 and len(do) == 1:  # one run each: a difference, not an effect
            s = (f"In a single run (one seed) in {lang}, DO's {o} {METRIC_NAMES[metric]} is "
                 f"{'the same as' if _change(delta) == 'leaves' else f'{abs(delta):.2f} points {_higher(delta)} than'}"
                 f" SO's (SO {line['SO']} %, DO {line['DO']} %")
        else:
            s = (f"DO {_change(delta)} {o} {METRIC_NAMES[metric]} {'unchanged' if _change(delta) == 'leaves' else f'by {abs(delta):.2f} points'}"
                 f" in {lang} over {len(do)} seeds (SO {line['SO']} %, DO {line['DO']} %")
        for r in sig:
            if (r["lang"], r["output"], r["metric"]) == (lang, o, metric):
                s += f"; paired bootstrap p = {r['p_value']}, 95 % CI [{r['ci_low']}, {r['ci_high']}]"
        s += ")."
        if len(so) == 1 and len(do) == 1:
            s += (" The bootstrap resamples utterances, not training runs: a second seed can move the "
                  "difference by as much, so it is no finding until several seeds (`--seeds`, `make paper`) agree.")
        out.append(s)
    return out


def sentences_divergence(bins: List[Dict[str, str]], corr: List[Dict[str, str]], seeds: int = 1) -> List[str]:
    """Per language and output (character distance, or phones): the gap at the first and last
    non-empty bin, and ρ; each sentence names the distance (canonical–perceived or surface–meaning).
    With ``seeds`` == 1 each sentence says that its gaps come from a single run."""
    out = []
    first_unit = ("char", "phone")
    for lang, o in dict.fromkeys((r["lang"], r["output"]) for r in bins if r["unit"] in first_unit):
        sel = [r for r in bins if (r["lang"], r["output"]) == (lang, o) and r["unit"] in first_unit and int(r["n"]) > 0]
        if not sel:
            continue
        first, last = sel[0], sel[-1]
        unit = first["unit"]
        metric = METRIC_NAMES.get(first["metric"], first["metric"])
        which = first.get("distance", "surface-meaning").replace("-", "–")
        s = (f"In {lang} ({which} distance in {unit}s), DO − SO {o} {metric} is {float(first['delta']):+.2f} points "
             f"at distance {first['bin']} (n = {first['n']})")
        if last is not first:
            s += f" and {float(last['delta']):+.2f} points at distance {last['bin']} (n = {last['n']})"
        for c in corr:
            if (c["lang"], c["output"], c["unit"]) == (lang, o, unit):
                if math.isnan(float(c["rho"])):
                    s += "; Spearman ρ is undefined (distance or per-utterance gap constant, or under 3 utterances)"
                else:
                    s += f"; Spearman ρ between distance and the per-utterance gap is {float(c['rho']):.2f} (p = {c['p_value']})"
        if seeds == 1:
            s += " (a single run of each model, one seed)"
        out.append(s + ".")
    return out


def trained_configs(expdir: Path, models: Sequence[str], langs: Sequence[str]):
    """``(model kind, model dir, training config)`` of every trained model dir (one with a config.yaml) of
    ``models`` x ``langs``, every seed."""
    for m in models:
        for lang in langs:
            for _seed, d in model_dirs(expdir, m, lang):
                if (d / "config.yaml").is_file():
                    yield m, d, train_config(d)


def init_mode(expdir: Path, models: Sequence[str], langs: Sequence[str]) -> str:
    """One sentence: did the model kinds start from their own initial weights (``init_seed`` in each
    model's config.yaml, dual_asr.sh's default) or from shared ones (``--shared_init true``)?"""
    seen = []
    for m, d, c in trained_configs(expdir, models, langs):
        seen.append((m, c.get("seed"), c.get("init_seed")))
    if not seen:
        return ""
    kinds = sorted({m for m, _, _ in seen})
    if all(k is None for _, _, k in seen):
        return (f"Initialisation: shared. Every model kind ({', '.join(kinds)}) starts from the weights its "
                "training seed draws (`--shared_init true`), so models of one seed share their initial encoder.")
    return (f"Initialisation: independent. Each model kind and seed draws its own initial weights "
            f"({', '.join(kinds)}; so_surface from its training seed, as ESPnet's ASRTask, the others from "
            "`init_seed` in their config.yaml).")


def _reference_source(ref: List[Dict[str, str]], lang: str) -> str:
    for r in ref:
        if r["lang"] == lang:
            return (f"two so_surface models, seed {r['seed_a']} (`{Path(r['dir_a']).name}`) and seed {r['seed_b']} "
                    f"(`{Path(r['dir_b']).name}`)")
    return ""


def sentences_cka(diag: List[Dict[str, str]], ref: Sequence[Dict[str, str]] = ()) -> List[str]:
    """Per language: the CKA of the last encoder layers of each pair, placed against the reference
    (two so_surface models from different seeds: what "the same task" gives) when it exists."""
    out = []
    for lang in dict.fromkeys(r["lang"] for r in diag):
        last = {}
        for r in diag:
            if r["lang"] == lang:
                last[(r["model_a"], r["model_b"])] = r  # the last row of a pair is its deepest layer
        reference = next((r for (a, b), r in last.items() if b == "reference"), None)
        pairs = {k: r for k, r in last.items() if k[1] != "reference"}
        parts = [f"{a}–{b} {float(r['cka']):.2f}" for (a, b), r in pairs.items()]
        if reference is None:
            out.append(f"In {lang}, the last encoder layers have linear CKA " + ", ".join(parts)
                       + " (no same-task reference in this run: it needs a second so_surface seed, which "
                       "`make paper` trains (`--seeds \"1 2 3\"`), as does `--reference_seed 2`).")
            continue
        rv = float(reference["cka"])
        place = []
        for (a, b), r in pairs.items():
            d = float(r["cka"]) - rv
            where = "at" if abs(d) < 0.005 else ("above" if d > 0 else "below")
            place.append(f"{a}–{b} {float(r['cka']):.2f} ({where} it{'' if where == 'at' else f' by {abs(d):.2f}'})")
        src = _reference_source(list(ref), lang)
        out.append(f"In {lang}, the reference for the same task, {src or 'two so_surface seeds'}, has last-layer "
                   f"linear CKA {rv:.2f}; against it: " + ", ".join(place) + ".")
    return out


def sentences_cross(swap: List[Dict[str, str]], dec: List[Dict[str, str]],
                    tf: Sequence[Dict[str, str]] = ()) -> List[str]:
    """Per language and output: the swapped decoders' error rates against the unswapped ones, and the
    teacher-forced token accuracy / cross-entropy of each decoder on a foreign encoder against its own."""
    out = []
    for lang, o in dict.fromkeys([(r["lang"], r["output"]) for r in swap] + [(r["lang"], r["output"]) for r in tf]):
        rows = [r for r in swap if (r["lang"], r["output"]) == (lang, o)]
        metric = rows[0]["metric"] if rows else "cer"
        rate = {(r["encoder"], r["decoder"]): float(r["rate"]) for r in rows if r["metric"] == metric}
        so = SO_MODELS[o]
        do = next((r["decoder"] for r in [*rows, *tf] if (r["lang"], r["output"]) == (lang, o)
                   and not r["decoder"].startswith("so_")), "do")
        name = METRIC_NAMES.get(metric, metric)
        parts = []
        if (do, so) in rate and (so, so) in rate:
            parts.append(f"the {so} decoder gives {o} {name} {rate[(do, so)]:.2f} % on the DO encoder against "
                         f"{rate[(so, so)]:.2f} % on its own")
        if (so, do) in rate and (do, do) in rate:
            parts.append(f"the DO {o} decoder gives {rate[(so, do)]:.2f} % on the {so} encoder against "
                         f"{rate[(do, do)]:.2f} % on its own")
        t = {(r["encoder"], r["decoder"]): r for r in tf if (r["lang"], r["output"]) == (lang, o)}
        for dec_m, name in ((so, f"the {so} decoder"), (do, f"the DO {o} decoder")):
            own = t.get((dec_m, dec_m))
            foreign = [(e, r) for (e, d_), r in t.items() if d_ == dec_m and e != dec_m]
            if own and foreign:
                parts.append(f"teacher-forced, {name} reads " + ", ".join(
                    f"the {e} encoder with token accuracy {float(r['acc']):.1f} % (cross-entropy {float(r['ce']):.2f})"
                    for e, r in foreign) + f" against {float(own['acc']):.1f} % ({float(own['ce']):.2f}) on its own")
        d = [r for r in dec if (r["lang"], r["output"]) == (lang, o) and r["layer_a"] == r["layer_b"]]
        if d:
            parts.append(f"teacher-forced, the last DO and SO {o} decoder blocks have CKA {float(d[-1]['cka']):.2f}")
        if parts:
            out.append(f"In {lang}, " + "; ".join(parts) + ".")
    return out


def sentence_clipping(lang: str, grads: Dict[str, List[Tuple[float, float, Optional[float]]]],
                      do_model: str = "do") -> Optional[str]:
    """Whether the gradient clip bound the models of ``lang`` (``grads``: model -> (gradient norm, % of
    steps clipped, grad_clip) of each of its dirs' last epoch), and what that does to DO - SO."""
    so = [g for m, gs in grads.items() if m.startswith("so_") for g in gs]
    do = grads.get(do_model, [])
    if not so or not do or any(math.isnan(g[1]) for g in so + do):
        return None
    if min(g[1] for g in do) < 50.0:
        return None
    clips = sorted({g[2] for g in so + do if g[2] is not None})
    ratio = (sum(g[0] for g in do) / len(do)) / (sum(g[0] for g in so) / len(so))
    shares = [g[1] for g in so + do]
    clip = "/".join(f"{c:g}" for c in clips) or "?"
    lo, hi = f"{min(shares):.0f}", f"{max(shares):.0f}"
    return (f"In {lang}, the gradient clip (grad_clip {clip}) bound on {lo if lo == hi else f'{lo}-{hi}'} % of the "
            f"last epoch's steps, and the DO model's gradient norm was {ratio:.1f} x its SO models' (mean). A clip that "
            "binds on almost every step scales each step's gradient by grad_clip / its norm. In a DO model that norm "
            "sums both outputs' gradients, so one output's large gradient shrinks the other output's update in the "
            "same step, which never happens in an SO model: the clip treats DO and SO models differently, and the "
            "DO - SO differences can include that. Training with `--train_args \"--grad_clip N\"`, N above these "
            "gradient norms, shows how much.")


def training_curves(expdir: Path, results: List[dict], outdir: Path) -> Tuple[List[str], List[str]]:
    """The figure of validation values against wall time of every trained model (from each model dir's
    ESPnet train.log), one sentence per model dir on where its last epoch left it (with its gradient norm
    and how often the clip bound), and one per language on what a binding clip does to DO - SO."""
    from dualasr.report.figures import training_curves as plot
    from dualasr.report.trainlog import grad_clip, parse_train_log

    series, lines, grads = {}, [], {}
    for lang, model in dict.fromkeys((r["lang"], r["model"]) for r in results):
        for _seed, d in model_dirs(expdir, model, lang):
            log = parse_train_log(d / "train.log")
            if not log.epochs:
                continue
            keys = [k for k in log.epochs[-1].valid if k.startswith(("cer_ctc_", "acc_"))]
            series[(lang, d.name)] = ([e.seconds / 60 for e in log.epochs],
                                      {k: [e.valid.get(k, float("nan")) for e in log.epochs] for k in keys})
            first, last = log.epochs[0], log.epochs[-1]
            parts = []
            for k in sorted(k for k in keys if k.startswith("cer_ctc_")):
                prev = log.epochs[-2].valid.get(k) if len(log.epochs) > 1 else None
                s = f"CTC CER on {k[len('cer_ctc_'):]} {100 * first.valid[k]:.1f} % → {100 * last.valid[k]:.1f} %"
                if prev is not None:
                    s += f" ({100 * (last.valid[k] - prev):+.1f} points in the last epoch)"
                parts.append(s)
            gnorm, share, clip = last.train.get("grad_norm"), last.train.get("clip"), grad_clip(d)
            if gnorm is not None and share is not None:
                grads.setdefault(lang, {}).setdefault(model, []).append((gnorm, share, clip))
                parts.append(f"last epoch's gradient norm {gnorm:.1f}, clipped to {clip if clip is None else f'{clip:g}'}"
                             f" on {share:.0f} % of its steps")
            lines.append(f"{d.name}: {len(log.epochs)} epochs in {last.seconds / 60:.1f} min (validation on dev); "
                         + "; ".join(parts) + ".")
    lines += [c for lang, g in grads.items() if (c := sentence_clipping(lang, g))]
    if not series:
        return [], []
    path = outdir / "figures" / "training" / "curves.png"
    plot(path, series)
    return lines, [str(path.relative_to(outdir))]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


AUDIO_RECORD = "training_audio.json"  # the report's record of each model's training audio (training_audio)


def training_audio(expdir: Path, models: Sequence[str], langs: Sequence[str]) -> Tuple[str, Dict[str, dict]]:
    """How each model's training audio was made: stage 2's record (``dualasr.augment.RECORD``), which stages 3-4
    carry beside the training features that config.yaml names. Returns one sentence (empty when no model
    has a record beside its features) and ``{"<model>_<lang>": record or None}``."""
    from dualasr.augment import RECORD, describe

    recs: Dict[str, Optional[dict]] = {}
    for _m, d, c in trained_configs(expdir, models, langs):
        data = c.get("train_data_path_and_name_and_type") or []
        if not data:
            continue
        feats = Path(data[0][0])
        rec = feats.parent / RECORD
        if rec.is_file():
            recs[d.name] = json.loads(rec.read_text(encoding="utf-8"))
        else:  # no record beside features that are still there
            recs[d.name] = None if feats.parent.is_dir() else {"missing": str(feats.parent)}
    if not any(recs.values()):
        return "", recs
    # no record: clean audio, or audio augmented before stage 2 wrote records; the report does not guess
    words = {name: ("no augmentation record" if not r else f"unknown ({r['missing']} is gone)" if "missing" in r
                    else describe(r)) for name, r in recs.items()}
    if len(set(words.values())) == 1:
        return (f"Training audio: augmented offline with ESPnet's CommonPreprocessor (stage 2): "
                f"{next(iter(words.values()))}.", recs)
    return ("Training audio (stage 2, ESPnet's CommonPreprocessor): " +
            "; ".join(f"{name}: {w}" for name, w in sorted(words.items())) + ".", recs)


def build_report(expdir: Path, lang_sets: Sequence[Tuple[str, str]], outdir: Optional[Path] = None,
                 do_model: str = "do", n_boot: int = 1000) -> Path:
    """Write exp/report/ and return the path of its README.md."""
    expdir = Path(expdir)
    outdir = Path(outdir or expdir / "report")
    ana = expdir / "analysis"
    results = gather(expdir)
    branches = gather_branches(expdir)
    if not results:
        raise FileNotFoundError(f"{expdir}: no */decode_*/score_*/score.json; run the score stage (9) first")
    langs = [lang for lang, _ in lang_sets]
    # the robustness sets of each language's test set (<test>_noisy, <test>_reverb; --robust_test_sets): their
    # own table, absent when none was scored
    robust = robustness_table([r for r in results if r["lang"] in langs and
                               split_condition(r["test_set"], r["lang"])[0] == dict(lang_sets)[r["lang"]]])
    results = [r for r in results if r["lang"] in langs and
               r["test_set"] == dict(lang_sets)[r["lang"]]]
    branches = [r for r in branches if r["lang"] in langs and r["test_set"] == dict(lang_sets)[r["lang"]]]
    outdir.mkdir(parents=True, exist_ok=True)
    main = main_table(results)
    metrics: Dict[Tuple[str, str], List[str]] = {}  # what stage 9 scored: per output (PER for phone tokens)
    for r in results:
        if r["metric"] not in metrics.setdefault((r["lang"], r["output"]), []):
            metrics[(r["lang"], r["output"])].append(r["metric"])
    sig = significance(expdir, lang_sets, metrics, do_model, n_boot)
    bins, corr = read_csv(ana / "divergence" / "bins.csv"), read_csv(ana / "divergence" / "spearman.csv")
    diag, ref = read_csv(ana / "cka" / "diagonal.csv"), read_csv(ana / "cka" / "reference.csv")
    swap, dec = read_csv(ana / "cross_decoder" / "swap.csv"), read_csv(ana / "cross_decoder" / "decoder_cka.csv")
    tf = read_csv(ana / "cross_decoder" / "teacher_forced.csv")
    branch = branch_table(results + branches) if branches else []

    one_run = (" — one seed: each DO − SO is the difference of two single runs"
               if sig and max(int(r["seeds"]) for r in sig) == 1 else "")
    tables = [  # (file stem, title, rows): the paper's order
        ("main", "Error rates (%) of SO and DO models, and DO − SO" + one_run, main),
        ("robustness", ROBUST_TITLE + one_run, robust),
        ("branches", BRANCH_TITLE, branch),
        ("mdd", "Mispronunciation detection (surface output; %): prompted and prompt-free canonical forms",
         mdd_table([r for r in gather_mdd(expdir) if r["lang"] in langs
                    and r["test_set"] == dict(lang_sets)[r["lang"]]])),
        ("significance", "Paired bootstrap of DO vs SO (utterances resampled; delta and CI in points)" + one_run, sig),
        ("divergence", "DO − SO by edit distance: canonical–perceived where the test set has text.canonical, "
                       "else surface–meaning (column distance; points, bootstrap 95 % CI)" + one_run, bins),
        ("divergence_spearman", "Spearman ρ of distance vs the per-utterance DO − SO gap", corr),
        ("cka_summary", "Encoder linear CKA, layer i vs layer i (model_b reference: a second so_surface seed)", diag),
        ("cka_reference", "CKA reference: the two so_surface models compared", ref),
        ("teacher_forced", "Teacher-forced decoders on every encoder: token accuracy (%) and cross-entropy (nats/token)", tf),
        ("decoder_swap", "Decoder swap, decoded as stage 8: error rates (%) of each encoder + decoder", swap),
    ]
    from dualasr.report.variants import Variants  # (imports this module)
    var = Variants(expdir, lang_sets, results, main, n_boot)  # the do_* variants: CIs into main, tables, section 5
    tables += var.tables()
    md, tex = ["# Tables\n"], []
    for stem, title, rows in tables:
        if not rows:
            continue
        write_atomic(outdir / f"{stem}.csv", csv_text(list(rows[0]), rows))
        md.append(to_markdown([{k: str(v) for k, v in r.items()} for r in rows], title))
        tex.append(to_latex(rows, title, f"tab:{stem}"))
    write_atomic(outdir / "tables.md", "\n".join(md))
    write_atomic(outdir / "tables.tex", "\n".join(tex))

    figs = [("divergence", sorted((ana / "divergence").glob("divergence_*.png"))),
            ("cka", sorted((ana / "cka").glob("*/*.png")) + sorted((ana / "cka").glob("diagonal.png"))),
            ("cross_decoder", sorted((ana / "cross_decoder").glob("*.png")))]
    copied: Dict[str, List[str]] = {}
    for name, paths in figs:
        for p in paths:
            rel = p.relative_to(ana / name)
            dst = outdir / "figures" / name / rel
            _copy(p, dst)
            copied.setdefault(name, []).append(str(dst.relative_to(outdir)))

    readme = ["# Report", "",
              f"Regenerated from `{expdir}` by `python -m dualasr.bin.report`; all tables are in "
              "[tables.md](tables.md) (also `tables.tex` and one CSV per table).", ""]

    def section(title, lines, images, missing):
        readme.extend([f"## {title}", ""])
        if not lines and not images:
            readme.extend([f"({missing})", ""])
            return
        readme.extend(f"- {s}" for s in lines)
        readme.append("")
        readme.extend(f"![{Path(i).stem}]({i})" for i in images)
        readme.append("")

    models = sorted({r["model"] for r in results})
    init = init_mode(expdir, models, langs)
    audio, audio_recs = training_audio(expdir, models, langs)
    if audio:
        write_atomic(outdir / AUDIO_RECORD, json.dumps(audio_recs, indent=1, sort_keys=True) + "\n")
    elif (outdir / AUDIO_RECORD).exists():
        (outdir / AUDIO_RECORD).unlink()  # an earlier report's: these models trained on clean audio
    section("1. SO vs DO error rates", [x for x in (init, audio) if x] + sentences_main(results, sig, do_model), [],
            "no scores")
    readme.append(to_markdown(main))
    if robust:
        readme.append(to_markdown(robust, ROBUST_TITLE + one_run))
    if branch:
        readme.append(to_markdown(branch, BRANCH_TITLE))
    seeds = min((int(r["seeds"]) for r in sig), default=1)
    section("2. Divergence (edit distance in the surface's units)", sentences_divergence(bins, corr, seeds),
            copied.get("divergence", []),
            "stage 10 (divergence) has not run")
    section("3. Encoder representation similarity (CKA)", sentences_cka(diag, ref), copied.get("cka", []),
            "stage 11 (cka) has not run")
    section("4. Cross-task decoder analysis", sentences_cross(swap, dec, tf), copied.get("cross_decoder", []),
            "stage 11 (cross_decoder) has not run")
    write_atomic(outdir / "README.md", "\n".join(readme))
    var.append_section(outdir, ana)
    curve_lines, curve_figs = training_curves(expdir, results, outdir)
    curves = ["## 6. Training curves (validation against wall time)", ""]
    curves += [f"- {s}" for s in curve_lines] or ["(no model dir has a train.log with a finished epoch)"]
    curves += [""] + [f"![{Path(i).stem}]({i})" for i in curve_figs] + [""]
    readme_path = outdir / "README.md"
    write_atomic(readme_path, readme_path.read_text(encoding="utf-8").rstrip("\n") + "\n\n" + "\n".join(curves))
    return outdir / "README.md"
