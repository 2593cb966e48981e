"""dualasr.align: every token appears once, and the edits are a minimum edit script."""

import random

import pytest
from rapidfuzz.distance import Levenshtein

from dualasr.align import align, canonical


def test_align_covers_both_sequences_with_a_minimum_script():
    rng = random.Random(0)
    for _ in range(500):
        a = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        b = [rng.choice("abc") for _ in range(rng.randint(0, 7))]
        pairs = align(a, b)
        assert [p.ref for p in pairs if p.ref is not None] == a
        assert [p.hyp for p in pairs if p.hyp is not None] == b
        assert sum(p.op != "equal" for p in pairs) == Levenshtein.distance(a, b)
        assert all((p.ref == p.hyp) == (p.op == "equal") for p in pairs)


def test_align_phones_are_tokens_not_letters():
    pairs = align(["DH", "IH", "S"], ["D", "IH", "S"])
    assert [(p.op, p.ref, p.hyp) for p in pairs] == [("substitute", "DH", "D"), ("equal", "IH", "IH"),
                                                     ("equal", "S", "S")]


def test_canonical():
    assert canonical("같이 먹었어요", "ko") == "가치 머거써요"
    assert canonical("i think so", "en") == "i think so"
    with pytest.raises(ValueError, match="'fr'"):
        canonical("x", "fr")
