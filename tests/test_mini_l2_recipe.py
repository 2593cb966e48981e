"""The embedded-corpus recipe at --size tiny, both languages, every stage: what stages 1-9 leave behind,
re-runs, and an interrupted stage."""

import json
import math
import unicodedata

import kaldiio
import pytest

from dualasr.data.datadir import read_kaldi_map
from dualasr.data.validate import validate_data_dir
from mini_l2_run import REPO, run

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
            assert mat.shape[1] == 40 and f"{mat.shape[0]},40" == shapes[u]  # run.sh --n_mels 40
        assert (dump / "feats_dim").read_text() == "40\n"
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
        if r["metric"] != "mdd":
            assert math.isfinite(r["value"]) and r["n"] == 10 and r["errors"] >= 0
    table = (mini_l2_tiny / "exp" / "results.md").read_text()
    assert "| ko | surface | cer |" in table and "| en | meaning | wer |" in table


def test_mdd_table_prompted_and_prompt_free(mini_l2_tiny):
    """Stage 9 scores mispronunciation detection for every surface model (prompted: text.canonical)
    and for the dual models also prompt-free (canonical form of their own meaning hypothesis)."""
    rows = [r for r in json.loads((mini_l2_tiny / "exp" / "results.json").read_text()) if r["metric"] == "mdd"]
    assert {(r["lang"], r["model"], r["mode"]) for r in rows} == {
        (lang, m, mode) for lang in LANGS for m in ("so_surface", "do", "do_branch")
        for mode in ("prompted", "prompt-free") if m != "so_surface" or mode == "prompted"}
    for r in rows:
        assert r["n"] == 10 and min(r[k] for k in ("TA", "FR", "FA", "TR")) >= 0
        assert r["TA"] + r["FR"] + r["FA"] + r["TR"] > 0 and r["diag_correct"] <= r["TR"]
        if r["TR"]:
            assert r["precision"] == pytest.approx(100 * r["TR"] / (r["TR"] + r["FR"]), abs=1e-3)
            assert r["recall"] == pytest.approx(100 * r["TR"] / (r["TR"] + r["FA"]), abs=1e-3)
    # prompted counts sum to the canonical length: one decision per canonical unit (spaces removed)
    for lang in LANGS:
        canon = read_kaldi_map(mini_l2_tiny / "dump" / "fbank" / f"test_{lang}" / "text.canonical")
        n_units = sum(len("".join(t.split())) for t in canon.values())
        for r in rows:
            if r["lang"] == lang and r["mode"] == "prompted":
                assert r["TA"] + r["FR"] + r["FA"] + r["TR"] == n_units, r
    table = (mini_l2_tiny / "exp" / "results.md").read_text()
    assert "Mispronunciation detection" in table
    for lang in LANGS:
        for model, mode in (("SO", "prompted"), ("DO", "prompted"), ("DO", "prompt-free"),
                            ("do_branch", "prompted"), ("do_branch", "prompt-free")):
            assert f"| {lang} | {model} | {mode} |" in table, (lang, model, mode)


def test_side_by_side_training_starts_the_longest_jobs_first(mini_l2_tiny):
    """With --train_jobs 2 the queue is ordered by training frames x epochs, a two-output model counted as
    1.4 one-output ones: within a language every DO model comes before every SO model, and the order
    follows the same cost across languages (Korean trains more epochs than English at tiny)."""
    log = (mini_l2_tiny / "first_run.log").read_text()
    line = next(ln for ln in log.splitlines() if "training order, longest first:" in ln)
    order = line.split("longest first:")[1].split()
    assert sorted(order) == sorted(d.name for d in (mini_l2_tiny / "exp").iterdir()
                                   if (d / ".done_train").is_file() and "_aug" not in str(d))
    for lang in LANGS:
        mine = [d for d in order if d.endswith(f"_{lang}") or f"_{lang}_" in d]
        so = [i for i, d in enumerate(mine) if d.startswith("so_")]
        do = [i for i, d in enumerate(mine) if d.startswith("do")]
        assert so and do and max(do) < min(so), mine
    starts = [ln.split("training exp/")[1].split()[0] for ln in log.splitlines() if "training exp/" in ln]
    assert set(starts[:2]) == set(order[:2]) and starts[2:] == order[2:], (starts, order)


def test_rerun_is_a_noop(mini_l2_tiny):
    res = run(mini_l2_tiny, "--stop_stage", "9")
    assert "already done" in res.stderr and "already trained" in res.stderr and "already decoded" in res.stderr
    assert "greedy decoding of test_en already done" in res.stderr
    assert "training exp/" not in res.stderr


def test_decode_of_other_settings_is_not_taken_as_done(mini_l2_tiny, tmp_path):
    """Stage 8 records the decode settings it ran with: another decode config stops it with a one-line
    message naming the decode and both settings (nothing is decoded or removed); the same settings are done."""
    other = tmp_path / "decode.yaml"
    other.write_text("beam_size: 2\n")
    before = {p: p.read_text() for p in mini_l2_tiny.glob("exp/*/decode_test_en/text.*")}
    assert before
    res = run(mini_l2_tiny, "--langs", "en", "--stage", "8", "--stop_stage", "8", "--inference_config", str(other),
              check=False)
    assert res.returncode != 0
    line = next(x for x in res.stderr.splitlines() if "was made with" in x)
    assert "decode_test_en/.done_decode was made with 'decode settings {" in line and "--force true" in line
    assert '"beam_size": 2' in line
    assert {p: p.read_text() for p in before} == before
    res = run(mini_l2_tiny, "--langs", "en", "--stage", "8", "--stop_stage", "8")
    assert "already decoded" in res.stderr and "was made with" not in res.stderr
    # the same settings with a comment added (the file's bytes differ): still done
    commented = tmp_path / "commented.yaml"
    commented.write_text("# my copy\n" + (REPO / "conf" / "decode.yaml").read_text())
    res = run(mini_l2_tiny, "--langs", "en", "--stage", "8", "--stop_stage", "8", "--inference_config", str(commented))
    assert "already decoded" in res.stderr and "was made with" not in res.stderr


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
