"""Scoring against hand-computed examples, and the main table built from score.json rows."""

import json
import math

import pytest

from dualasr.bin import score as score_cli
from dualasr.report.tables import main_table
from dualasr.scoring import error_rate, score_set, score_utt


def test_korean_cer_without_and_with_spaces():
    # ref "가치 가요" vs hyp "같이 가요": without spaces 가치가요 / 같이가요 -> 2 substitutions of 4
    s = score_utt("u", "가치 가요", "같이 가요", "ko", "cer")
    assert (s.errors, s.ref_len) == (2, 4)
    # with spaces the space counts as a character: 5 reference characters, and a missing space is an error
    s = score_utt("u", "가치 가요", "가치가요", "ko", "cer_space")
    assert (s.errors, s.ref_len) == (1, 5)
    assert score_utt("u", "가치 가요", "가치가요", "ko", "cer").errors == 0


def test_english_cer_and_wer():
    # "i think so" -> "i sink so": one substituted word of 3; characters: t->s, h deleted = 2 of 10
    w = score_utt("u", "i think so", "i sink so", "en", "wer")
    assert (w.errors, w.ref_len) == (1, 3)
    c = score_utt("u", "i think so", "i sink so", "en", "cer")
    assert (c.errors, c.ref_len) == (2, 10)
    assert "think" in w.alignment and "sink" in w.alignment


def test_pooled_rate_and_empty_reference():
    refs = {"a": "i think so", "b": "yes"}
    hyps = {"a": "i sink so", "b": "yes yes"}
    scores = score_set(refs, hyps, "en", "wer")
    assert error_rate(scores) == pytest.approx(100 * (1 + 1) / (3 + 1))
    assert score_utt("u", "", "extra words", "en", "wer").errors == 2


def test_missing_hypothesis_names_the_utterance():
    with pytest.raises(ValueError, match="no hypothesis for utterance b"):
        score_set({"a": "x", "b": "y"}, {"a": "x"}, "en", "cer", where="hyp.txt")


def test_score_cli_and_main_table(tmp_path):
    ref = tmp_path / "test_en"
    ref.mkdir()
    (ref / "text.surface").write_text("a i sink so\nb de cat\n")
    (ref / "text.meaning").write_text("a i think so\nb the cat\n")
    rows = []
    for model, hyp in (("so_surface", {"surface": "a i sink so\nb de cap\n"}),
                       ("so_meaning", {"meaning": "a i think so\nb the cat\n"}),
                       ("do", {"surface": "a i think so\nb de cat\n", "meaning": "a i think so\nb a cat\n"})):
        d = tmp_path / "exp" / f"{model}_en" / "decode_test_en"
        d.mkdir(parents=True)
        for o, text in hyp.items():
            (d / f"text.{o}").write_text(text)
        score_cli.main(["--ref_dir", str(ref), "--decode_dir", str(d), "--lang", "en", "--model", model])
        for o in hyp:
            rows += json.loads((d / f"score_{o}" / "score.json").read_text())
            per_utt = (d / f"score_{o}" / "utt_errors.cer").read_text().splitlines()
            assert per_utt[0] == "uttid errors ref_len" and len(per_utt) == 3
    table = {(r["lang"], r["output"], r["metric"]): r for r in main_table(rows)}
    # surface CER: SO 1 error / 17 chars ("i sink so" 9 + "de cat" 6 ... spaces kept)
    s = table[("en", "surface", "cer")]
    so = 100 * 1 / (len("i sink so") + len("de cat"))
    do = 100 * 2 / (len("i sink so") + len("de cat"))  # "sink" -> "think": s->t + inserted h
    assert float(s["SO"]) == pytest.approx(so, abs=0.005)
    assert float(s["DO"]) == pytest.approx(do, abs=0.005)
    assert float(s["DO − SO"]) == pytest.approx(do - so, abs=0.01)
    m = table[("en", "meaning", "wer")]
    assert float(m["SO"]) == 0.0 and float(m["DO"]) == pytest.approx(100 * 1 / 5, abs=0.005)
    assert not math.isnan(float(m["DO − SO"]))
