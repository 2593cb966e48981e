"""Result rows (exp/results.json) and the paper's main table.

A row is ``{lang, model, output, metric, test_set, seed, decode, n, errors, ref_len, value}``;
``value`` is the error rate in %, ``decode`` the decoding (``joint``: stage 8's CTC/attention search;
``ctc_greedy``, ``att_greedy``: each branch alone, stage 9). The main table puts, for each language, output and metric, the SO model of that
output (``so_surface`` or ``so_meaning``) beside every multi-output model (``do``, ``do_*``) and
their difference. Several seeds give mean ± sd per cell.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from dualasr.files import write_atomic

LANG_ORDER = ("ko", "en")
OUTPUT_ORDER = ("surface", "meaning")
METRIC_ORDER = ("cer", "per", "cer_space", "wer")


DECODES = ("joint", "ctc_greedy", "att_greedy")
BRANCH_TITLE = "Each branch alone: error rates (%) of the joint decoding, CTC greedy and attention greedy"
DECODE_NAMES = {"joint": "joint", "ctc_greedy": "CTC greedy", "att_greedy": "attention greedy"}


def gather(expdir: Path) -> List[dict]:
    """The rows of stage 8's joint decoding."""
    rows = []
    for f in sorted(Path(expdir).glob("*/decode_*/score_*/score.json")):
        rows.extend({"decode": "joint", **r} for r in json.loads(f.read_text(encoding="utf-8")))
    return rows


def gather_branches(expdir: Path) -> List[dict]:
    """The rows of the CTC-only and attention-only greedy decodings (``<decode dir>/<mode>/score_*``)."""
    rows = []
    for mode in DECODES[1:]:
        for f in sorted(Path(expdir).glob(f"*/decode_*/{mode}/score_*/score.json")):
            rows.extend(json.loads(f.read_text(encoding="utf-8")))
    return rows


def gather_mdd(expdir: Path) -> List[dict]:
    """The MDD rows of stage 9 (``score_surface/mdd.json``; ``metric`` is ``mdd``, ``mode`` prompted
    or prompt-free, with the TA/FR/FA/TR counts)."""
    rows = []
    for f in sorted(Path(expdir).glob("*/decode_*/score_surface/mdd.json")):
        rows.extend(json.loads(f.read_text(encoding="utf-8")))
    return rows


MDD_MODES = ("prompted", "prompt-free")


def mdd_table(rows: List[dict]) -> List[Dict[str, str]]:
    """Mispronunciation detection per language, model and canonical source (counts pooled over
    test sets and seeds): SO (so_surface) against the dual models, prompted and prompt-free."""
    from dualasr.scoring import MDD_COUNTS, mdd_metrics

    rows = [r for r in rows if r.get("metric") == "mdd"]
    table = []
    models = ["so_surface"] + dual_models(rows)
    for lang in _order({r["lang"] for r in rows}, LANG_ORDER):
        for mode in _order({r["mode"] for r in rows if r["lang"] == lang}, MDD_MODES):
            for m in models:
                sel = [r for r in rows if (r["lang"], r["mode"], r["model"]) == (lang, mode, m)]
                if not sel:
                    continue
                c = {k: sum(r[k] for r in sel) for k in MDD_COUNTS}
                v = mdd_metrics(c)
                name = "SO" if m == "so_surface" else "DO" if m == "do" else m
                table.append({"lang": lang, "model": name, "canonical": mode,
                              **{k: str(c[k]) for k in ("TA", "FR", "FA", "TR")},
                              **{k: f"{v[k]:.2f}" for k in ("precision", "recall", "f1")},
                              "diagnosis": f"{v['diag_acc']:.2f}"})
    return table


def write_results_json(path: Path, rows: List[dict]) -> None:
    write_atomic(path, json.dumps(rows, ensure_ascii=False, indent=1) + "\n")


def _order(values: Iterable[str], preferred: Sequence[str]) -> List[str]:
    values = set(values)
    return [v for v in preferred if v in values] + sorted(values - set(preferred))


def dual_models(rows: List[dict]) -> List[str]:
    names = {r["model"] for r in rows if not r["model"].startswith("so_")}
    return sorted(names, key=lambda m: (m != "do", m))


def cell_values(rows: List[dict], lang: str, model: str, output: str, metric: str) -> List[float]:
    """One value per seed (the test sets pooled by errors / ref_len)."""
    by_seed: Dict[Optional[int], List[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if (r["lang"], r["model"], r["output"], r["metric"]) == (lang, model, output, metric):
            by_seed[r.get("seed")][0] += r["errors"]
            by_seed[r.get("seed")][1] += r["ref_len"]
    return [100.0 * e / n for e, n in by_seed.values() if n]


def fmt(values: List[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"


ONE_RUN = "(1 run)"  # marks a difference of single runs: one seed measures no run-to-run variation


def fmt_delta(a: List[float], b: List[float]) -> str:
    if not a or not b:
        return "–"
    delta = f"{np.mean(b) - np.mean(a):+.2f}"
    return f"{delta} {ONE_RUN}" if len(a) == 1 and len(b) == 1 else delta


def main_table(rows: List[dict]) -> List[Dict[str, str]]:
    """Rows of the main table: lang, output, metric, SO, then per dual model its value and − SO."""
    table = []
    duals = dual_models(rows)
    for lang in _order({r["lang"] for r in rows}, LANG_ORDER):
        lrows = [r for r in rows if r["lang"] == lang]
        for output in _order({r["output"] for r in lrows}, OUTPUT_ORDER):
            for metric in _order({r["metric"] for r in lrows if r["output"] == output}, METRIC_ORDER):
                so = cell_values(lrows, lang, f"so_{output}", output, metric)
                line = {"lang": lang, "output": output, "metric": metric, "SO": fmt(so)}
                for m in duals:
                    v = cell_values(lrows, lang, m, output, metric)
                    line[m.upper() if m == "do" else m] = fmt(v)
                    line[f"{m.upper() if m == 'do' else m} − SO"] = fmt_delta(so, v)
                table.append(line)
    return table


def branch_table(rows: List[dict]) -> List[Dict[str, str]]:
    """Per language, model, output and metric: the joint decode beside each branch decoded alone."""
    table = []
    models = sorted({r["model"] for r in rows}, key=lambda m: (not m.startswith("so_"), m != "do", m))
    for lang in _order({r["lang"] for r in rows}, LANG_ORDER):
        for model in models:
            mrows = [r for r in rows if (r["lang"], r["model"]) == (lang, model)]
            for output in _order({r["output"] for r in mrows}, OUTPUT_ORDER):
                for metric in _order({r["metric"] for r in mrows if r["output"] == output}, METRIC_ORDER):
                    line = {"lang": lang, "model": model, "output": output, "metric": metric}
                    for d in DECODES:
                        sel = [r for r in mrows if r.get("decode", "joint") == d]
                        line[DECODE_NAMES[d]] = fmt(cell_values(sel, lang, model, output, metric))
                    table.append(line)
    return table


def to_markdown(table: List[Dict[str, str]], title: Optional[str] = None) -> str:
    if not table:
        return (f"## {title}\n\n" if title else "") + "(no results)\n"
    cols = list(table[0].keys())
    out = [f"## {title}\n"] if title else []
    out.append("| " + " | ".join(cols) + " |")
    out.append("|" + "|".join("---" if c in ("lang", "test set", "model", "output", "metric", "canonical") else "---:"
                               for c in cols) + "|")
    for line in table:
        out.append("| " + " | ".join(line.get(c, "–") for c in cols) + " |")
    return "\n".join(out) + "\n"


# Robustness test sets (stage 2, --robust_test_sets): <test>_noisy and <test>_reverb beside <test>
# (with a language suffix: <test>_noisy_<lang>). These names are reserved for them.
CONDITIONS = ("clean", "noisy", "reverb")
ROBUST_TITLE = ("Robustness: error rates (%) on the clean test set, with additive noise (noisy) and in simulated "
                "rooms (reverb), each ratio to clean, and DO − SO under each condition")


def split_condition(test_set: str, lang: str) -> tuple:
    """(the clean test set, condition): ``test_noisy_en`` -> (``test_en``, ``noisy``); ``test_en`` -> (``test_en``, ``clean``)."""
    base, suffix = test_set, ""
    if base.endswith(f"_{lang}"):
        base, suffix = base[: -len(lang) - 1], f"_{lang}"
    for c in CONDITIONS[1:]:
        if base.endswith(f"_{c}"):
            return base[: -len(c) - 1] + suffix, c
    return test_set, "clean"


def clean_rows(rows: List[dict]) -> List[dict]:
    """The rows of clean test sets (the main, branch and MDD tables are of clean speech)."""
    return [r for r in rows if split_condition(r["test_set"], r["lang"])[1] == "clean"]


def robustness_table(rows: List[dict]) -> List[Dict[str, str]]:
    """Per language, clean test set, output and model: the first metric (CER, or PER for phones) on the
    clean, noisy and reverb sets, each ratio to clean, then DO − SO per condition for every dual model.
    Empty when no robustness test set was scored."""
    by = defaultdict(list)  # (lang, clean set) -> rows
    for r in rows:
        clean, cond = split_condition(r["test_set"], r["lang"])
        by[(r["lang"], clean)].append({**r, "condition": cond})
    table = []
    duals = dual_models(rows)
    for lang in _order({lang for lang, _ in by}, LANG_ORDER):
        for clean in sorted(c for lg, c in by if lg == lang):
            sel = by[(lang, clean)]
            if {r["condition"] for r in sel} == {"clean"}:
                continue
            for output in _order({r["output"] for r in sel}, OUTPUT_ORDER):
                metric = next((m for m in METRIC_ORDER if any(r["output"] == output and r["metric"] == m for r in sel)), None)
                if metric is None:
                    continue

                def vals(model, cond):
                    return cell_values([r for r in sel if r["condition"] == cond], lang, model, output, metric)

                models = [m for m in [f"so_{output}"] + duals if any(r["model"] == m and r["output"] == output for r in sel)]
                for m in models:
                    line = {"lang": lang, "test set": clean, "output": output, "metric": metric,
                            "model": "SO" if m.startswith("so_") else "DO" if m == "do" else m}
                    clean_v = vals(m, "clean")
                    for cond in CONDITIONS:
                        line[cond] = fmt(vals(m, cond))
                    for cond in CONDITIONS[1:]:
                        v = vals(m, cond)
                        line[f"{cond} ÷ clean"] = (f"{np.mean(v) / np.mean(clean_v):.2f}" if v and clean_v
                                                   and np.mean(clean_v) > 0 else "–")
                    table.append(line)
                so = f"so_{output}"
                for m in duals:
                    if m not in models or so not in models:
                        continue
                    name = "DO" if m == "do" else m
                    line = {"lang": lang, "test set": clean, "output": output, "metric": metric, "model": f"{name} − SO"}
                    for cond in CONDITIONS:
                        line[cond] = fmt_delta(vals(so, cond), vals(m, cond))
                    line["noisy ÷ clean"] = line["reverb ÷ clean"] = "–"
                    table.append(line)
    return table
