"""The embedded-corpus recipe at --size tiny, both languages, every stage: what stages 1-9 leave behind,
re-runs, and an interrupted stage."""

import json
import math
import unicodedata

import kaldiio
import pytest

from dualasr.data.datadir import read_kaldi_map
from dualasr.data.validate import validate_data_dir
from mini_l2_run import run

LANGS = ("ko", "en")
SETS = ("train", "dev", "test")
MODELS = {"so_surface": ("surface",), "so_meaning": ("meaning",), "do": ("surface", "meaning"),
          "do_branch": ("surface", "meaning")}

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lang", LANGS)
def test_data_dirs_are_valid_and_diverge(mini_l2_tiny, lang):
    for s in SETS:
        d = mini_l2_tiny / "data" / f"{s}_{lang}"
        rep = validate_data_dir(d, sample_rate=16000)
        assert rep.ok, rep.errors
        sur, mea = read_kaldi_map(d / "text.surface"), read_kaldi_map(d / "text.meaning")
        if s == "train":
            assert sum(sur[u] != mea[u] for u in sur) > 0.5 * len(sur)
        assert (d / "divergence_hist.txt").is_file()


@pytest.mark.parametrize("lang", LANGS)
def test_features_and_tokens(mini_l2_tiny, lang, monkeypatch):
    monkeypatch.chdir(mini_l2_tiny)  # feats.scp names its arks relative to the recipe dir
    for s in SETS:
        data = mini_l2_tiny / "data" / f"{s}_{lang}"
        dump = mini_l2_tiny / "dump" / "fbank" / f"{s}_{lang}"
        feats = read_kaldi_map(dump / "feats.scp")
        # every kept utterance is one of the data dir's, and the per-utterance files line up
        assert set(feats) <= set(read_kaldi_map(data / "wav.scp"))
        for f in ("feats_shape", "text.surface", "text.meaning", "utt2spk"):
            assert list(read_kaldi_map(dump / f)) == list(feats), f
        if s == "test":
            assert set(feats) == set(read_kaldi_map(data / "wav.scp")), "test sets are never filtered"
        shapes = read_kaldi_map(dump / "feats_shape")
        for u in list(feats)[:5]:
            mat = kaldiio.load_mat(feats[u])
            assert mat.shape[1] == 80 and f"{mat.shape[0]},80" == shapes[u]
    for o in ("surface", "meaning"):
        # Korean is tokenized as jamo (the template's --hangul jamo): its token list holds NFD jamo
        unit = "char_jamo" if lang == "ko" else "char"
        tokens = (mini_l2_tiny / "data" / "token_list" / lang / f"{o}_{unit}" / "tokens.txt").read_text().split("\n")
        assert tokens[0] == "<blank>" and tokens[1] == "<unk>" and tokens[-2] == "<sos/eos>"
        text = read_kaldi_map(mini_l2_tiny / "dump" / "fbank" / f"train_{lang}" / f"text.{o}")
        form = "NFD" if lang == "ko" else "NFC"
        chars = {c for t in text.values() for c in unicodedata.normalize(form, t).replace(" ", "")}
        assert chars <= set(tokens), f"token list misses {sorted(chars - set(tokens))[:5]}"


def test_results_json_has_every_model_output_and_language(mini_l2_tiny):
    rows = json.loads((mini_l2_tiny / "exp" / "results.json").read_text())
    have = {(r["lang"], r["model"], r["output"], r["metric"]) for r in rows}
    for lang in LANGS:
        metrics = ("cer", "cer_space") if lang == "ko" else ("cer", "wer")
        for model, outputs in MODELS.items():
            for o in outputs:
                for m in metrics:
                    assert (lang, model, o, m) in have, (lang, model, o, m)
            assert not any(r["model"] == model and r["lang"] == lang and r["output"] not in outputs for r in rows)
    for r in rows:
        assert math.isfinite(r["value"]) and r["n"] == 10 and r["errors"] >= 0
    table = (mini_l2_tiny / "exp" / "results.md").read_text()
    assert "| ko | surface | cer |" in table and "| en | meaning | wer |" in table


def test_rerun_is_a_noop(mini_l2_tiny):
    res = run(mini_l2_tiny, "--stop_stage", "9")
    assert "already done" in res.stderr and "already trained" in res.stderr and "already decoded" in res.stderr
    assert "greedy decoding of test_en already done" in res.stderr
    assert "training exp/" not in res.stderr


def test_interrupted_feature_stage_is_redone(mini_l2_tiny):
    out = mini_l2_tiny / "dump" / "fbank" / "org" / "dev_en"
    good = (out / "feats.scp").read_text()
    # as if the stage had been killed half-way: a truncated scp and no done marker
    (out / "feats.scp").write_text(good.splitlines()[0] + "\n")
    (mini_l2_tiny / "dump" / ".done" / "feats_dev_en").unlink()
    res = run(mini_l2_tiny, "--langs", "en", "--stage", "3", "--stop_stage", "3")
    assert "features of dev_en already done" not in res.stderr
    assert (out / "feats.scp").read_text() == good
    assert (mini_l2_tiny / "dump" / ".done" / "feats_dev_en").is_file()
