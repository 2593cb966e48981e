"""English (Korean learner) surface rules of the embedded corpus: every rule, plus properties."""

import doctest
import random

import pytest

from dualasr.synth import rules_en
from dualasr.synth.rules_en import (LEARNER_RULES, drop_articles, epenthetic_vowel, f_to_p,
                                    r_l_confusion, surface_en, th_stopping, v_to_b, z_to_j)


def test_doctests():
    result = doctest.testmod(rules_en)
    assert result.attempted > 5 and result.failed == 0


def test_every_rule_has_examples():
    for rule, _share in LEARNER_RULES:
        assert ">>>" in (rule.__doc__ or ""), rule.__name__


@pytest.mark.parametrize("rule, text, expected", [
    (th_stopping, "think", "sink"), (th_stopping, "the", "de"), (th_stopping, "three brothers", "sree broders"),
    (th_stopping, "i think so", "i sink so"),
    (f_to_p, "fish", "pish"), (f_to_p, "photo coffee", "poto coppee"),
    (v_to_b, "very heavy", "bery heaby"),
    (r_l_confusion, "rice", "lice"), (r_l_confusion, "light", "right"), (r_l_confusion, "really", "learry"),
    (z_to_j, "zoo", "joo"), (z_to_j, "pizza", "pijja"),
    (epenthetic_vowel, "bag", "baggu"), (epenthetic_vowel, "desk", "desku"), (epenthetic_vowel, "church", "churchi"),
    (epenthetic_vowel, "box", "boksu"), (epenthetic_vowel, "it is red", "it is reddu"),
    (epenthetic_vowel, "pen milk", "pen milku"),
    (drop_articles, "the fish and a bag", "fish and bag"), (drop_articles, "the", "the"),
])
def test_rule_at_p1(rule, text, expected):
    assert rule(text, random.Random(0), 1.0) == expected
    assert rule(text, random.Random(0), 0.0) == text


def test_rate_follows_p():
    text = " ".join(["very"] * 1000)
    assert 250 < v_to_b(text, random.Random(1), 0.3).count("bery") < 350


def test_surface():
    assert surface_en("i think so", 0.0, random.Random(0)) == "i think so"
    full = surface_en("the three brothers drove the van to the zoo", 1.0, random.Random(0))
    assert "th" not in full and "v" not in full and "z" not in full and full != ""
    assert surface_en("they fed a zebra", 0.6, random.Random(4)) == surface_en("they fed a zebra", 0.6, random.Random(4))
