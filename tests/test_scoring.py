"""Scoring against hand-computed examples, and the main table built from score.json rows."""

import json
import math

import pytest

from dualasr.bin import score as score_cli
from dualasr.report.tables import main_table
from dualasr.scoring import error_rate, mdd_counts, mdd_metrics, mdd_units, metrics_for, score_set, score_utt


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
    assert s["DO − SO"].endswith(" (1 run)")  # one seed: the table says the difference is a single run
    assert float(s["DO − SO"].split()[0]) == pytest.approx(do - so, abs=0.01)
    m = table[("en", "meaning", "wer")]
    assert float(m["SO"]) == 0.0 and float(m["DO"]) == pytest.approx(100 * 1 / 5, abs=0.005)
    assert not math.isnan(float(m["DO − SO"].split()[0]))


def test_per_counts_phones_not_letters():
    # one phone substituted (TH -> S) of 4; CER on the letters would count inside the symbols
    s = score_utt("u", "DH IH S TH", "DH IH S S", "en", "per")
    assert (s.errors, s.ref_len) == (1, 4)
    assert metrics_for("en", "word", "surface") == ("per",)
    assert metrics_for("en", "word", "meaning") == ("wer",)
    assert metrics_for("ko") == ("cer", "cer_space") and metrics_for("en", "char", "surface") == ("cer", "wer")


def test_mdd_counts_hand_made():
    # canonical  DH  IH  Z   S   IH  K
    # perceived  D   IH  -   S   IH  K  AH    (DH->D, Z deleted, AH added after K)
    # recognised D   IH  JH  SH  IH  K  AH
    # DH: mispronounced, recognised as perceived           -> TR, right diagnosis
    # IH, IH: correct, accepted                             -> TA x2
    # Z: deleted, recognised as JH                         -> TR, wrong diagnosis
    # S: correct, recognised as SH                         -> FR
    # K(+AH): addition after K, recognised with the AH     -> TR, right diagnosis
    canonical, perceived, recognised = "DH IH Z S IH K", "D IH S IH K AH", "D IH JH SH IH K AH"
    c = mdd_counts(*(mdd_units(t, "word") for t in (canonical, perceived, recognised)))
    assert c == {"TA": 2, "FR": 1, "FA": 0, "TR": 3, "diag_correct": 2}
    # a missed error: recognised says Z where the learner deleted it -> FA
    c2 = mdd_counts(*(mdd_units(t, "word") for t in (canonical, perceived, "D IH Z S IH K AH")))
    assert c2 == {"TA": 3, "FR": 0, "FA": 1, "TR": 2, "diag_correct": 2}
    m = mdd_metrics({k: c[k] + c2[k] for k in c})
    tr, fr, fa = 5, 1, 1
    assert m["precision"] == pytest.approx(100 * tr / (tr + fr))
    assert m["recall"] == pytest.approx(100 * tr / (tr + fa))
    assert m["f1"] == pytest.approx(2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]))
    assert m["diag_acc"] == pytest.approx(100 * 4 / 5)
    # characters (the embedded corpus): spaces are not units
    assert mdd_units("가치 가요") == ["가", "치", "가", "요"]


def test_score_cli_mdd_prompted_and_prompt_free(tmp_path):
    ref = tmp_path / "test"
    ref.mkdir()
    (ref / "text.surface").write_text("a D IH S\nb TH IH NG\n")
    (ref / "text.meaning").write_text("a this\nb thing\n")
    (ref / "text.canonical").write_text("a DH IH S\nb TH IH NG\n")
    (tmp_path / "lexicon.txt").write_text("THIS\tDH IH1 S\nTHIS\tDH AH0 S\nTHING\tTH IH1 NG\n")
    d = tmp_path / "exp" / "do_en" / "decode_test"
    d.mkdir(parents=True)
    (d / "text.surface").write_text("a D IH S\nb S IH NG\n")
    (d / "text.meaning").write_text("a this\nb sing\n")   # "sing" is not in the lexicon
    score_cli.main(["--ref_dir", str(ref), "--decode_dir", str(d), "--lang", "en", "--model", "do",
                    "--surface_token_type", "word", "--lexicon", str(tmp_path / "lexicon.txt")])
    rows = json.loads((d / "score_surface" / "score.json").read_text())
    assert [(r["metric"], r["errors"], r["ref_len"]) for r in rows] == [("per", 1, 6)]
    mdd = {r["mode"]: r for r in json.loads((d / "score_surface" / "mdd.json").read_text())}
    # prompted: a DH->D detected (TR, right diagnosis); b TH->S a false rejection
    assert {k: mdd["prompted"][k] for k in ("TA", "FR", "FA", "TR", "diag_correct")} == \
        {"TA": 4, "FR": 1, "FA": 0, "TR": 1, "diag_correct": 1}
    assert mdd["prompted"]["precision"] == 50.0 and mdd["prompted"]["recall"] == 100.0
    # prompt-free: canonical "DH IH S" from "this"; "sing" unknown -> b has no canonical phones,
    # so its three recognised phones attach to nothing and it scores no position
    assert mdd["prompt-free"]["oov_words"] == 1
    assert {k: mdd["prompt-free"][k] for k in ("TA", "FR", "FA", "TR")} == {"TA": 2, "FR": 0, "FA": 0, "TR": 1}
    assert (d / "score_surface" / "mdd_utt.prompted").read_text().splitlines()[1] == "a 2 0 0 1 1"
