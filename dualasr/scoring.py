"""Error rates with jiwer: CER and WER per utterance, per output and per language.

Metrics by language (``METRICS``):
- ``ko``: ``cer`` on characters with spaces removed, and ``cer_space`` with spaces kept;
- ``en`` (and any other language): ``cer`` with spaces kept, and ``wer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import jiwer

METRICS = {"ko": ("cer", "cer_space")}
DEFAULT_METRICS = ("cer", "wer")


def metrics_for(lang: str) -> Tuple[str, ...]:
    return METRICS.get(lang, DEFAULT_METRICS)


def _prepare(text: str, lang: str, metric: str) -> str:
    text = " ".join(text.split())
    if metric == "cer" and lang == "ko":
        text = text.replace(" ", "")
    return text


@dataclass
class UttScore:
    uttid: str
    errors: int
    ref_len: int
    alignment: str


def score_utt(uttid: str, ref: str, hyp: str, lang: str, metric: str) -> UttScore:
    ref_p, hyp_p = _prepare(ref, lang, metric), _prepare(hyp, lang, metric)
    unit_len = len(ref_p.split()) if metric == "wer" else len(ref_p)
    if not ref_p:  # jiwer refuses an empty reference: every hypothesis unit is an insertion
        n_hyp = len(hyp_p.split()) if metric == "wer" else len(hyp_p)
        return UttScore(uttid, n_hyp, 0, f"REF: \nHYP: {hyp_p}\n")
    out = jiwer.process_words(ref_p, hyp_p) if metric == "wer" else jiwer.process_characters(ref_p, hyp_p)
    errors = out.substitutions + out.deletions + out.insertions
    align = jiwer.visualize_alignment(out, show_measures=False).split("\n", 2)[-1].strip("\n")
    return UttScore(uttid, errors, unit_len, align)


def score_set(refs: Dict[str, str], hyps: Dict[str, str], lang: str, metric: str,
              where: str = "hypotheses") -> List[UttScore]:
    """Score every reference utterance. A missing hypothesis is an error naming the utterance."""
    missing = [u for u in refs if u not in hyps]
    if missing:
        raise ValueError(f"{where}: no hypothesis for utterance {missing[0]} ({len(missing)} missing)")
    return [score_utt(u, refs[u], hyps[u], lang, metric) for u in refs]


def error_rate(scores: List[UttScore]) -> float:
    ref = sum(s.ref_len for s in scores)
    return 100.0 * sum(s.errors for s in scores) / ref if ref else float("nan")
