"""Error rates with jiwer: CER and WER per utterance, per output and per language.

Metrics by language (``METRICS``) for an output tokenized in characters (or bpe):
- ``ko``: ``cer`` on characters with spaces removed, and ``cer_space`` with spaces kept;
- ``en`` (and any other language): ``cer`` with spaces kept, and ``wer``.

An output tokenized in words (``--surface_token_type word``: space-separated phones, one phone one
token) is scored per token alone: ``per`` (phone error rate) for the surface, ``wer`` for the
meaning. Letters inside a phone symbol are never counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import jiwer

METRICS = {"ko": ("cer", "cer_space")}
DEFAULT_METRICS = ("cer", "wer")


def metrics_for(lang: str, token_type: str = "char", output: str = "surface") -> Tuple[str, ...]:
    """The metrics of one output: by language, or per token for word-tokenized outputs."""
    if token_type == "word":
        return ("per",) if output == "surface" else ("wer",)
    return METRICS.get(lang, DEFAULT_METRICS)


TOKEN_METRICS = ("wer", "per")  # counted on whitespace-separated tokens


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
    by_token = metric in TOKEN_METRICS
    unit_len = len(ref_p.split()) if by_token else len(ref_p)
    if not ref_p:  # jiwer refuses an empty reference: every hypothesis unit is an insertion
        n_hyp = len(hyp_p.split()) if by_token else len(hyp_p)
        return UttScore(uttid, n_hyp, 0, f"REF: \nHYP: {hyp_p}\n")
    out = jiwer.process_words(ref_p, hyp_p) if by_token else jiwer.process_characters(ref_p, hyp_p)
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


# ---- mispronunciation detection and diagnosis (MDD) ----
# Three sequences per utterance: the canonical pronunciation (what should have been said, the
# data dir's text.canonical), the perceived one (the human label, text.surface) and the recognised
# one (the model's surface hypothesis). Both the perceived and the recognised sequence are aligned
# to the canonical one with dualasr.align.align (rapidfuzz editops); what no library does is the
# bookkeeping below, the standard MDD counts over canonical positions.

MDD_COUNTS = ("TA", "FR", "FA", "TR", "diag_correct")


def mdd_units(text: str, token_type: str = "char") -> List[str]:
    """The units MDD counts: one token each for word tokens (phones), else characters without spaces."""
    return text.split() if token_type == "word" else list("".join(text.split()))


def _realisations(canonical: List[str], said: List[str]) -> List[Tuple[str, ...]]:
    """For each canonical position, what was said there: the aligned unit (nothing for a deletion)
    followed by any units inserted right after it (insertions before the first position go to it)."""
    from dualasr.align import align

    out: List[List[str]] = [[] for _ in canonical]
    pos = 0
    for p in align(canonical, said):
        if p.op == "insert":
            if out:
                out[max(pos - 1, 0)].append(p.hyp)
            continue
        pos = p.ref_index + 1
        if p.op != "delete":
            out[p.ref_index].append(p.hyp)
    return [tuple(r) for r in out]


def mdd_counts(canonical: List[str], perceived: List[str], recognised: List[str]) -> Dict[str, int]:
    """TA/FR/FA/TR counts of one utterance, and how many TR the model diagnosed right.

    A canonical unit is mispronounced when what was said there (its realisation, see
    :func:`_realisations`) is not the unit itself: a substitution, a deletion, or an insertion
    after it. TA: correct, accepted; FR: correct, rejected; FA: mispronounced, accepted; TR:
    mispronounced, rejected; ``diag_correct``: TR whose recognised realisation equals the perceived one.
    """
    per, rec = _realisations(canonical, perceived), _realisations(canonical, recognised)
    c = dict.fromkeys(MDD_COUNTS, 0)
    for unit, p, r in zip(canonical, per, rec):
        mis_p, mis_r = p != (unit,), r != (unit,)
        key = ("TR" if mis_r else "FA") if mis_p else ("FR" if mis_r else "TA")
        c[key] += 1
        if key == "TR" and p == r:
            c["diag_correct"] += 1
    return c


def mdd_metrics(counts: Dict[str, int]) -> Dict[str, float]:
    """precision = TR/(TR+FR), recall = TR/(TR+FA), F1, diagnosis accuracy = diag_correct/TR (in %)."""
    tr, fr, fa = counts["TR"], counts["FR"], counts["FA"]
    nan = float("nan")
    precision = 100.0 * tr / (tr + fr) if tr + fr else nan
    recall = 100.0 * tr / (tr + fa) if tr + fa else nan
    f1 = 2 * precision * recall / (precision + recall) if tr else (0.0 if fr + fa else nan)
    diag = 100.0 * counts["diag_correct"] / tr if tr else nan
    return dict(precision=precision, recall=recall, f1=f1, diag_acc=diag)


def mdd_set(canonical: Dict[str, str], perceived: Dict[str, str], recognised: Dict[str, str],
            token_type: str = "char", where: str = "hypotheses") -> Dict[str, Dict[str, int]]:
    """Per-utterance MDD counts over every utterance of ``perceived``; a missing one is an error."""
    out = {}
    for u in perceived:
        for name, m in (("canonical", canonical), ("hypothesis", recognised)):
            if u not in m:
                raise ValueError(f"{where}: no {name} for utterance {u}")
        out[u] = mdd_counts(mdd_units(canonical[u], token_type), mdd_units(perceived[u], token_type),
                            mdd_units(recognised[u], token_type))
    return out
