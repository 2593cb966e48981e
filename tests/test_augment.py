"""Noise and reverberation (stage 2, dualasr.augment): deterministic assets, the SNR ESPnet's augmentation
gives, disjoint train and test pools, and the augmented part of the shared tiny run (``exp_aug``)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from dualasr.augment import augment_dir, make_assets
from dualasr.data.datadir import Utterance, read_data_dir, read_kaldi_map, write_data_dir, write_kaldi_map

FS = 16000


def _corpus(tmp: Path, n_spk: int = 4, per_spk: int = 2) -> Path:
    """A training data dir of ``n_spk`` speakers whose 'speech' is band-limited noise bursts (2 s each)."""
    rng = np.random.default_rng(0)
    utts = []
    for s in range(n_spk):
        for i in range(per_spk):
            x = rng.normal(size=2 * FS) * np.hanning(2 * FS) * 0.1
            path = tmp / "wav" / f"s{s}-{i}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(path, x, FS, subtype="PCM_16")
            utts.append(Utterance(f"s{s}-{i}", str(path), f"s{s}", "a b", "a b"))
    write_data_dir(tmp / "train", utts)
    return tmp / "train"


def _digests(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.wav"))}


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("augment")
    train = _corpus(tmp)
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        make_assets(tmp / name, train, seed, FS)
    return tmp


def test_rirs_and_noises_are_deterministic_for_a_seed(assets):
    a, b, c = (_digests(assets / n) for n in "abc")
    from dualasr.augment import SIZES

    assert len(a) == sum(n["rirs"] + 3 * n["colour"] + n["babble"] for n in SIZES.values())
    assert a == b, "same seed, other files"
    for pool in ("train", "test"):
        rirs = read_kaldi_map(assets / "a" / pool / "rirs.scp")
        noises = read_kaldi_map(assets / "a" / pool / "noises.scp")
        assert rirs and noises and all(Path(p).is_file() for p in [*rirs.values(), *noises.values()])
        assert {"white", "pink", "brown", "babble"} <= {line.split("\t")[1] for line in
                                                       (assets / "a" / pool / "noises.tsv").read_text().splitlines()[1:]}
    # another seed: every file differs
    assert set(a) == set(c) and all(a[k] != c[k] for k in a)


def test_rooms_follow_the_stated_ranges(assets):
    from dualasr.augment import ABSORPTION, DISTANCE, ROOM_RANGES

    lines = (assets / "a" / "train" / "rooms.tsv").read_text().splitlines()
    head = lines[0].split("\t")
    for line in lines[1:]:
        r = dict(zip(head, line.split("\t")))
        for key, (lo, hi) in zip(("length", "width", "height"), ROOM_RANGES):
            assert lo <= float(r[key]) <= hi, r
        assert ABSORPTION[0] <= float(r["absorption"]) <= ABSORPTION[1]
        assert DISTANCE[0] <= float(r["distance"]) <= DISTANCE[1]
        assert 0.02 < float(r["rt60"]) < 3.0, r


def test_test_pool_shares_no_noise_rir_or_speaker_with_the_train_pool(assets):
    pools = {p: _digests(assets / "a" / p) for p in ("train", "test")}
    assert not set(pools["train"].values()) & set(pools["test"].values()), "a file of the test pool is in the train pool"
    for kind in ("rirs.scp", "noises.scp"):
        tr = read_kaldi_map(assets / "a" / "train" / kind)
        te = read_kaldi_map(assets / "a" / "test" / kind)
        assert not set(tr) & set(te) and not set(tr.values()) & set(te.values())

    def babble_speakers(pool):
        rows = (assets / "a" / pool / "noises.tsv").read_text().splitlines()[1:]
        return {s for r in rows if r.split("\t")[1] == "babble" for s in r.split("\t")[2].split()}

    assert babble_speakers("train") and babble_speakers("test")
    assert not babble_speakers("train") & babble_speakers("test")


def test_noise_augmentation_gives_the_requested_snr(tmp_path, assets):
    """A constant-power signal through ESPnet's noise augmentation (noise_db_range 10, then 3): the written
    wav minus the clean one has the requested power ratio, within 0.5 dB."""
    t = np.arange(3 * FS) / FS
    clean = 0.2 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 1330 * t)) / 2
    path = tmp_path / "tone.wav"
    soundfile.write(path, clean, FS, subtype="PCM_16")
    clean = soundfile.read(path)[0]
    write_data_dir(tmp_path / "src", [Utterance("u1", str(path), "s", "x", "x")])
    for snr in (10, 3):
        dst = tmp_path / f"noisy{snr}"
        augment_dir(tmp_path / "src", dst, 1, "test", noise_scp=assets / "a" / "test" / "noises.scp",
                    noise_db_range=str(snr))
        noisy = soundfile.read(read_kaldi_map(dst / "wav.scp")["u1"])[0]
        assert noisy.shape == clean.shape
        got = 10 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))
        assert abs(got - snr) < 0.5, (snr, got)


def test_augment_dir_is_deterministic_per_utterance(tmp_path, assets):
    src = assets / "train"
    kw = dict(rir_scp=assets / "a" / "train" / "rirs.scp", rir_apply_prob=0.5,
              noise_scp=assets / "a" / "train" / "noises.scp", noise_apply_prob=0.5, noise_db_range="5_20")
    augment_dir(src, tmp_path / "x", 1, "train", **kw)
    # the same utterances in another order, and alone: the same audio for each utterance
    utts = read_data_dir(src)
    write_data_dir(tmp_path / "one", [utts[3]])
    augment_dir(tmp_path / "one", tmp_path / "y", 1, "train", **kw)
    x, y = read_kaldi_map(tmp_path / "x" / "wav.scp"), read_kaldi_map(tmp_path / "y" / "wav.scp")
    u = utts[3].uttid
    assert Path(x[u]).read_bytes() == Path(y[u]).read_bytes()
    # something was applied to most utterances, and other seeds or purposes draw otherwise
    changed = [not np.allclose(soundfile.read(x[v.uttid])[0], soundfile.read(v.wav)[0], atol=1e-3) for v in utts]
    assert sum(changed) >= len(utts) // 2, changed
    augment_dir(src, tmp_path / "z", 1, "test_noisy", **kw)
    z = read_kaldi_map(tmp_path / "z" / "wav.scp")
    assert any(Path(x[v.uttid]).read_bytes() != Path(z[v.uttid]).read_bytes() for v in utts)
    assert read_kaldi_map(tmp_path / "x" / "text.surface") == read_kaldi_map(src / "text.surface")


def test_copies_and_the_clean_ones_beside_them(tmp_path, assets):
    """copies=2 with keep_clean: each utterance three times (clean, aug1-, aug2-), speakers renamed with
    their utterances, copy 1 the same audio as a single realisation, copy 2 another draw; utt2speed
    follows the new ids."""
    src = assets / "train"
    kw = dict(rir_scp=assets / "a" / "train" / "rirs.scp", rir_apply_prob=1.0,
              noise_scp=assets / "a" / "train" / "noises.scp", noise_apply_prob=1.0, noise_db_range="5_20")
    utts = read_data_dir(src)
    write_data_dir(tmp_path / "src", utts)
    write_kaldi_map(tmp_path / "src" / "utt2speed", [(u.uttid, "1") for u in utts])
    one = augment_dir(tmp_path / "src", tmp_path / "one", 1, "train", **kw)
    n = augment_dir(tmp_path / "src", tmp_path / "three", 1, "train", copies=2, keep_clean=True, **kw)
    assert (one, n) == (len(utts), 3 * len(utts))
    wav1, wav3 = read_kaldi_map(tmp_path / "one" / "wav.scp"), read_kaldi_map(tmp_path / "three" / "wav.scp")
    spk3 = read_kaldi_map(tmp_path / "three" / "utt2spk")
    assert set(read_kaldi_map(tmp_path / "three" / "utt2speed")) == set(wav3)
    for u in utts:
        assert wav3[u.uttid] == u.wav and spk3[u.uttid] == u.spk  # the clean one, as it was
        assert spk3[f"aug1-{u.uttid}"] == f"aug1-{u.spk}" and spk3[f"aug2-{u.uttid}"] == f"aug2-{u.spk}"
        assert Path(wav3[f"aug1-{u.uttid}"]).read_bytes() == Path(wav1[u.uttid]).read_bytes()
        assert Path(wav3[f"aug2-{u.uttid}"]).read_bytes() != Path(wav1[u.uttid]).read_bytes()
    with pytest.raises(SystemExit, match="0 augmented copies"):
        augment_dir(src, tmp_path / "none", 1, "train", copies=0, **kw)


def test_bad_input_names_the_file(tmp_path, assets):
    with pytest.raises(SystemExit, match="missing.scp: no such file"):
        augment_dir(assets / "train", tmp_path / "x", 1, "train", noise_scp=tmp_path / "missing.scp")


# ------------------------------------------------------------ the augmented part of the shared tiny run
@pytest.mark.slow
def test_recipe_trains_on_augmented_audio_and_scores_the_robustness_sets(mini_l2_tiny):
    r = mini_l2_tiny
    clean, aug = read_kaldi_map(r / "data" / "train_en" / "wav.scp"), read_kaldi_map(r / "data" / "train_en_aug" / "wav.scp")
    # the clean utterances as they were, beside one augmented copy of each (--augment_keep_clean true)
    assert set(aug) == set(clean) | {f"aug1-{u}" for u in clean}
    assert all(aug[u] == clean[u] for u in clean)
    changed = sum(not np.array_equal(soundfile.read(aug[f"aug1-{u}"])[0], soundfile.read(clean[u])[0]) for u in clean)
    # rir and noise each with probability 0.8: all but about 1 in 25 copies changed
    assert 0.8 * len(clean) <= changed <= len(clean), changed
    cfg = (r / "exp_aug" / "so_surface_en" / "config.yaml").read_text()
    assert "dump/fbank/train_en_aug/feats.scp" in cfg and "dump/fbank/train_en/feats.scp" not in cfg
    # the robustness sets: data dirs of the test utterances, dumped whole, decoded and scored
    test = read_kaldi_map(r / "data" / "test_en" / "wav.scp")
    rows = json.loads((r / "exp_aug" / "results.json").read_text())
    for kind in ("noisy", "reverb"):
        d = r / "data" / f"test_{kind}_en"
        assert set(read_kaldi_map(d / "wav.scp")) == set(test)
        assert read_kaldi_map(d / "text.meaning") == read_kaldi_map(r / "data" / "test_en" / "text.meaning")
        assert set(read_kaldi_map(r / "dump" / "fbank" / f"test_{kind}_en" / "feats.scp")) == set(test)
        for m in ("so_surface", "do"):
            assert any(x["test_set"] == f"test_{kind}_en" and x["model"] == m and x["metric"] == "cer" for x in rows)
            # greedy branch decoding is for the clean test set only (the branch table's)
            assert not (r / "exp_aug" / f"{m}_en" / f"decode_test_{kind}_en" / "att_greedy").exists()
        assert not any(x["test_set"] == f"test_{kind}_en" and x.get("decode", "joint") != "joint" for x in rows)
    assert (r / "exp_aug" / "so_surface_en" / "decode_test_en" / "att_greedy" / "text.surface").is_file()
    # the robustness sets were made from the test pool, training from the train pool (stage 2's records)
    done = r / "data" / ".done"
    assert "augment/en/test/noises.scp" in (done / "aug_test_noisy_en").read_text()
    assert "augment/en/test/rirs.scp" in (done / "aug_test_reverb_en").read_text()
    train_rec = (done / "aug_train_en_aug").read_text()
    assert "augment/en/train/rirs.scp" in train_rec and "augment/en/train/noises.scp" in train_rec
    # stage 2's record of the training audio travels with the features to the report (stages 3, 4, 12)
    rec = json.loads((r / "dump" / "fbank" / "train_en_aug" / "augmentation.json").read_text())
    assert (rec["rir_apply_prob"], rec["noise_apply_prob"], rec["noise_db_range"], rec["keep_clean"]) == (
        0.8, 0.8, "5_20", True)
    assert json.loads((r / "exp_aug" / "report" / "training_audio.json").read_text()) == {
        "so_surface_en": rec, "do_en": rec}
    assert ("Training audio: augmented offline with ESPnet's CommonPreprocessor (stage 2): reverberation with "
            "probability 0.8 and noise with probability 0.8 at 5–20 dB SNR, one realisation of each utterance, "
            "beside the clean utterance.") in (r / "exp_aug" / "report" / "README.md").read_text()
    assert not (r / "exp" / "report" / "training_audio.json").exists()
    assert "Training audio" not in (r / "exp" / "report" / "README.md").read_text()
    tr = {**read_kaldi_map(r / "data/augment/en/train/rirs.scp"), **read_kaldi_map(r / "data/augment/en/train/noises.scp")}
    te = {**read_kaldi_map(r / "data/augment/en/test/rirs.scp"), **read_kaldi_map(r / "data/augment/en/test/noises.scp")}
    digest = lambda p: hashlib.sha256(Path(p).read_bytes()).hexdigest()  # noqa: E731
    assert not {digest(p) for p in tr.values()} & {digest(p) for p in te.values()}
    # babble only from training speakers
    test_spk = set(read_kaldi_map(r / "data" / "test_en" / "utt2spk").values()) | set(
        read_kaldi_map(r / "data" / "dev_en" / "utt2spk").values())
    train_spk = set(read_kaldi_map(r / "data" / "train_en" / "utt2spk").values())
    for pool in ("train", "test"):
        for line in (r / "data/augment/en" / pool / "noises.tsv").read_text().splitlines()[1:]:
            spks = set(line.split("\t")[2].split())
            assert spks <= train_spk and not spks & test_spk, line
    # results.md: the main table is of the clean set; the robustness table has clean, noisy, reverb and DO − SO
    md = (r / "exp_aug" / "results.md").read_text()
    assert "## Robustness" in md and "| en | test_en | surface | cer | DO − SO |" in md
    report = (r / "exp_aug" / "report" / "README.md").read_text()
    assert "Robustness" in report and (r / "exp_aug" / "report" / "robustness.csv").is_file()
    # the first part of the run made no robustness set: its report has no such table
    assert "Robustness" not in (r / "exp" / "report" / "README.md").read_text()
    assert not (r / "exp" / "report" / "robustness.csv").exists()


def test_robustness_table_from_score_rows():
    from dualasr.report.tables import clean_rows, robustness_table, split_condition

    assert split_condition("test_noisy_en", "en") == ("test_en", "noisy")
    assert split_condition("test_reverb", "ko") == ("test", "reverb")
    assert split_condition("test_en", "en") == ("test_en", "clean")
    rows = []
    errors = {("so_surface", "test_en"): 10, ("so_surface", "test_noisy_en"): 25, ("so_surface", "test_reverb_en"): 15,
              ("do", "test_en"): 12, ("do", "test_noisy_en"): 20, ("do", "test_reverb_en"): 18}
    for (m, t), e in errors.items():
        for o in (("surface",) if m == "so_surface" else ("surface", "meaning")):
            for metric in ("cer", "wer"):
                rows.append(dict(lang="en", model=m, output=o, metric=metric, test_set=t, seed=None, errors=e, ref_len=100))
    assert robustness_table(clean_rows(rows)) == []  # no robustness set: no table
    table = robustness_table(rows)
    surface = [r for r in table if r["output"] == "surface"]
    assert [r["model"] for r in surface] == ["SO", "DO", "DO − SO"]
    assert {r["metric"] for r in table} == {"cer"}
    so, do, delta = surface
    assert (so["clean"], so["noisy"], so["reverb"], so["noisy ÷ clean"]) == ("10.00", "25.00", "15.00", "2.50")
    assert (delta["clean"], delta["noisy"], delta["reverb"]) == ("+2.00 (1 run)", "-5.00 (1 run)", "+3.00 (1 run)")
    # meaning: DO only (no so_meaning rows), so no difference row
    assert [r["model"] for r in table if r["output"] == "meaning"] == ["DO"]


def test_one_training_speaker_is_refused_naming_the_file(tmp_path):
    train = _corpus(tmp_path, n_spk=1)
    with pytest.raises(SystemExit, match=r"train/utt2spk: babble needs at least 2 training speakers"):
        make_assets(tmp_path / "out", train, 1, FS)
