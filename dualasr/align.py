"""Token alignment and canonical forms, shared by MDD scoring and pronunciation feedback.

One place aligns two token sequences (rapidfuzz's Levenshtein edit operations, not a hand-written
DP) and one place says what a learner *should* have said (the canonical form of a meaning text):

- Korean: the standard-pronunciation rules applied to the spelling (``dualasr.synth.rules_ko``);
- English: the spelling itself (the embedded corpus' surface is a respelling in letters).

    >>> [(p.op, p.ref, p.hyp) for p in align("a b c".split(), "a x c d".split())]
    [('equal', 'a', 'a'), ('substitute', 'b', 'x'), ('equal', 'c', 'c'), ('insert', None, 'd')]
    >>> canonical("같이 먹었어요", "ko")
    '가치 머거써요'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

OPS = ("equal", "substitute", "delete", "insert")


@dataclass(frozen=True)
class Pair:
    """One step of an alignment: ``ref``/``hyp`` is ``None`` for an insertion/deletion.
    ``ref_index``/``hyp_index`` are the positions in the two sequences (``None`` likewise)."""

    op: str
    ref: Optional[str]
    hyp: Optional[str]
    ref_index: Optional[int]
    hyp_index: Optional[int]


def align(ref: Sequence[str], hyp: Sequence[str]) -> List[Pair]:
    """A minimum-edit alignment of two token sequences, one :class:`Pair` per step, in order.

    Every ref token and every hyp token appears exactly once. Tokens are compared as strings, so
    a token is a phone, a character, a syllable or a word, as the caller splits them."""
    from rapidfuzz.distance import Levenshtein

    ref, hyp = list(ref), list(hyp)
    pairs: List[Pair] = []
    i = j = 0
    for op in Levenshtein.editops(ref, hyp):
        while i < op.src_pos and j < op.dest_pos:  # the matching run before this edit
            pairs.append(Pair("equal", ref[i], hyp[j], i, j))
            i, j = i + 1, j + 1
        if op.tag == "replace":
            pairs.append(Pair("substitute", ref[i], hyp[j], i, j))
            i, j = i + 1, j + 1
        elif op.tag == "delete":
            pairs.append(Pair("delete", ref[i], None, i, None))
            i += 1
        else:
            pairs.append(Pair("insert", None, hyp[j], None, j))
            j += 1
    while i < len(ref) and j < len(hyp):
        pairs.append(Pair("equal", ref[i], hyp[j], i, j))
        i, j = i + 1, j + 1
    assert i == len(ref) and j == len(hyp), "editops did not cover both sequences"
    return pairs


def canonical(meaning: str, lang: str) -> str:
    """The canonical (expected) pronunciation of a meaning text, in the embedded corpus' surface
    units: Korean standard pronunciation in Hangul, English spelling."""
    if lang == "ko":
        from dualasr.synth.rules_ko import standard_pronunciation

        return standard_pronunciation(meaning)
    if lang == "en":
        return meaning
    raise ValueError(f"no canonical form for language {lang!r} (known: ko, en)")
