"""The embedded corpus end to end: `--size tiny` for ko and en, rendered by espeak-ng for real."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from dualasr.data.datadir import DATA_FILES, read_data_dir, read_kaldi_map
from dualasr.align import canonical
from dualasr.analysis.divergence import DEFAULT_BINS, parse_bins
from dualasr.analysis.divergence import distance as divergence_distance
from dualasr.synth.corpus import SIZES, TEST_BINS, build, distance, plan_corpus
from dualasr.synth.rules_ko import standard_pronunciation
from dualasr.synth.sentences import _ko_plain

LANGS = ("ko", "en")
SETS = ("train", "dev", "test")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "dualasr.bin.synth", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two tiny corpora from the same seed: one through the CLI (2 jobs), one through build() (1 job)."""
    root = tmp_path_factory.mktemp("synth")
    out = {}
    for lang in LANGS:
        proc = run_cli("--lang", lang, "--size", "tiny", "--seed", "7", "--nj", "2",
                       "--datadir", str(root / "a/data"), "--wavdir", str(root / "a/wav"))
        assert proc.returncode == 0, proc.stderr
        out[lang] = proc.stdout.splitlines()
        build(lang, "tiny", 7, 1, root / "b/data", root / "b/wav")
    return root, out


def _dir(root, run, name, lang):
    return root / run / "data" / f"{name}_{lang}"


@pytest.mark.parametrize("lang", LANGS)
def test_data_dirs(corpus, lang):
    root, summary = corpus
    assert [line.split(":")[0] for line in summary[lang]] == [f"{s}_{lang}" for s in SETS]
    spk_of, sent_of = {}, {}
    for name in SETS:
        d = _dir(root, "a", name, lang)
        maps = {f: read_kaldi_map(d / f) for f in DATA_FILES if f != "spk2utt"}
        ids = list(maps["wav.scp"])
        assert ids == sorted(ids, key=str.encode) and len(ids) >= 10
        for f, m in maps.items():
            assert list(m) == ids, f"{d}/{f}: ids differ from wav.scp"
        spk2utt = read_kaldi_map(d / "spk2utt")
        assert sorted(u for us in spk2utt.values() for u in us.split()) == sorted(ids)
        for u in read_data_dir(d):
            assert u.uttid.startswith(u.spk + "-") and u.uttid[len(u.spk) + 1:].isdigit()
            assert u.spk.startswith(lang + "-") and u.meaning and u.surface
            # text.canonical: the surface with no learner error (ko standard pronunciation, en spelling)
            assert u.canonical == (standard_pronunciation(u.meaning) if lang == "ko" else u.meaning)
            spk_of.setdefault(u.spk, set()).add(name)
            sent_of.setdefault(u.meaning, set()).add(name)
            assert Path(u.wav).is_absolute()
            x, sr = sf.read(u.wav, dtype="int16", always_2d=True)
            assert sr == 16000 and x.shape[1] == 1 and 0.3 < len(x) / sr < 8 and np.abs(x).max() > 1000
            assert sf.info(u.wav).subtype == "PCM_16"
        n_train = {"train": 60, "dev": 10, "test": 10}[name]
        assert len(ids) == n_train
    assert all(len(sets) == 1 for sets in spk_of.values()), "a speaker is in two sets"
    assert all(len(sets) == 1 for sets in sent_of.values()), "a sentence is in two sets"
    assert len(set().union(*spk_of.values())) == 3


@pytest.mark.parametrize("lang", LANGS)
def test_divergence_and_histogram(corpus, lang):
    root, _ = corpus
    n_utts = n_diff = 0
    for name in SETS:
        d = _dir(root, "a", name, lang)
        utts = read_data_dir(d)
        dists = [distance(lang, u.surface, u.meaning) for u in utts]
        lines = (d / "divergence_hist.txt").read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith("#")
        hist = {int(a): int(b) for a, b in (line.split() for line in lines[1:])}
        assert list(hist) == list(range(max(dists) + 1))
        assert hist == {k: dists.count(k) for k in hist} and sum(hist.values()) == len(utts)
        n_utts += len(utts)
        n_diff += sum(u.surface != u.meaning for u in utts)
    assert n_diff > 0.5 * n_utts


@pytest.mark.parametrize("lang", LANGS)
def test_same_seed_same_bytes(corpus, lang):
    root, _ = corpus
    for name in SETS:
        a, b = _dir(root, "a", name, lang), _dir(root, "b", name, lang)
        for f in ("utt2spk", "spk2utt", "text.surface", "text.meaning", "divergence_hist.txt", "utt2dur"):
            assert (a / f).read_bytes() == (b / f).read_bytes(), f
        wa, wb = read_kaldi_map(a / "wav.scp"), read_kaldi_map(b / "wav.scp")
        for uttid in wa:
            assert Path(wa[uttid]).read_bytes() == Path(wb[uttid]).read_bytes(), uttid


def test_other_seed_gives_other_texts(corpus, tmp_path):
    root, _ = corpus
    build("en", "tiny", 8, 2, tmp_path / "data", tmp_path / "wav")
    assert (tmp_path / "data/train_en/text.meaning").read_bytes() != \
        (_dir(root, "b", "train", "en") / "text.meaning").read_bytes()


def test_rerun_reuses_only_wavs_made_from_the_same_input(corpus, tmp_path):
    root, _ = corpus
    wavdir = tmp_path / "wav"
    shutil.copytree(root / "b" / "wav", wavdir)  # seed 7's wavs and manifests
    setdir = wavdir / "dev_en"
    manifest = json.loads((setdir / "synth_manifest.json").read_text(encoding="utf-8"))
    kept, stale = sorted(manifest)[:2]
    good = {u: (setdir / f"{u}.wav").read_bytes() for u in (kept, stale)}
    for u in (kept, stale):  # overwrite both with silence
        sf.write(setdir / f"{u}.wav", np.zeros(1600), 16000, subtype="PCM_16")
    manifest[stale] = "en-us+m1 -s 100 -p 50 | some other text"
    (setdir / "synth_manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    build("en", "tiny", 7, 1, tmp_path / "data", wavdir)
    assert (setdir / f"{stale}.wav").read_bytes() == good[stale]  # input changed: rendered again
    assert (setdir / f"{kept}.wav").read_bytes() != good[kept]  # same input: reused as it was
    (setdir / "synth_manifest.json").unlink()  # no record: nothing is trusted
    build("en", "tiny", 7, 1, tmp_path / "data", wavdir)
    assert (setdir / f"{kept}.wav").read_bytes() == good[kept]


@pytest.mark.parametrize("args, needle", [
    (["--lang", "fr"], "invalid choice: 'fr'"),
    (["--lang", "ko", "--size", "huge"], "invalid choice: 'huge'"),
    (["--lang", "ko", "--nj", "0"], "--nj must be at least 1"),
    (["--lang", "ko", "--espeak", "/nonexistent/espeak-ng"], "espeak-ng not found"),
])
def test_cli_errors_are_one_line(args, needle, tmp_path):
    proc = run_cli(*args, "--datadir", str(tmp_path / "d"), "--wavdir", str(tmp_path / "w"))
    assert proc.returncode == 2
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_synthesis_failure_is_one_line(tmp_path):
    proc = run_cli("--lang", "en", "--size", "tiny", "--espeak", "false",
                   "--datadir", str(tmp_path / "d"), "--wavdir", str(tmp_path / "w"))
    assert proc.returncode == 1 and "espeak-ng failed on utterance en-" in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error" in line]  # the rest is the progress bar
    assert len(errors) == 1 and "exit status 1" in errors[0] and not (tmp_path / "d").exists()


@pytest.mark.parametrize("lang", LANGS)
def test_default_size_plan(lang):
    """The default size meets the corpus' targets (planned texts only; no audio)."""
    plan = plan_corpus(lang, "default", 1)
    assert len(plan["train"]) >= 2000 and len(plan["test"]) == 200
    sentences = {u.meaning for utts in plan.values() for u in utts}
    assert len(sentences) >= 400 and len(sentences) == sum(SIZES["default"].sentences)
    assert _bin_counts(lang, plan["test"]) == [40] * 5  # the goal: >= 40 per divergence bin
    utts = [u for utts in plan.values() for u in utts]
    dists = [distance(lang, u.surface, u.meaning) for u in utts]
    assert sum(d > 0 for d in dists) > 0.5 * len(utts) and max(dists) > 10 and min(dists) == 0
    for u in utts:
        assert 3 <= len(u.meaning.split()) <= 7
        if lang == "en":
            assert u.meaning == u.meaning.lower() and all(c.isalpha() or c == " " for c in u.meaning)


def _bin_counts(lang, utts):
    """Utterances per divergence bin, counted as the analysis counts them: its default bins over its
    canonical-perceived distance (the surface against the meaning's canonical pronunciation)."""
    bins = parse_bins(DEFAULT_BINS)
    dists = [divergence_distance(u.surface, canonical(u.meaning, lang), lang, "char") for u in utts]
    return [sum(d in b for d in dists) for b in bins]


def test_test_bins_are_the_analysis_bins():
    assert [(b.lo, b.hi) for b in parse_bins(DEFAULT_BINS)] == list(TEST_BINS)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size,per_bin", [("tiny", 2), ("small", 12)])
def test_test_set_fills_every_bin(lang, size, per_bin):
    """The test set holds an equal share of utterances in every distance bin; sets stay disjoint."""
    plan = plan_corpus(lang, size, 3)
    assert _bin_counts(lang, plan["test"]) == [per_bin] * 5
    assert len(plan["test"]) == SIZES[size].sentences[2]
    sents = [{u.meaning for u in plan[s]} for s in SETS]
    spks = [{u.spk for u in plan[s]} for s in SETS]
    for a in range(3):
        for b in range(a + 1, 3):
            assert not sents[a] & sents[b] and not spks[a] & spks[b]
    assert len(sents[2]) == len(plan["test"])  # one utterance per test sentence
    for u in plan["test"]:  # the recorded rate gives the surface's distance bin from an error-free start
        assert u.rate == 0.0 or 0.0 < u.rate <= 1.0


def test_korean_plain_sentences_are_pronounced_as_written():
    """Distance 0 is reachable in Korean: the plain template's sentences fire no standard rule."""
    import random
    rng = random.Random(5)
    for _ in range(200):
        s = _ko_plain(rng)
        assert standard_pronunciation(s) == s
    plan = plan_corpus("ko", "default", 1)
    assert sum(distance("ko", u.surface, u.meaning) == 0 for u in plan["train"]) >= 40
