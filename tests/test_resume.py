"""Kill and resume: SIGKILL the recipe in the middle of a stage, re-run ``run.sh``, and get the same
results as a run that was never interrupted.

Each test takes a private copy of the prepared English tiny recipe (``tiny_recipe``: stages 1-6 done),
starts ``run.sh`` in its own process group, kills the whole group with SIGKILL once the stage is under
way, and runs the same command again.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch
import yaml

from tiny_recipe import BASE_ARGS, copy_recipe, run_recipe

SETS = ("train_en", "dev_en", "test_en")
# two epochs instead of the tiny config's three: the kill lands in the second one
TRAIN = ("--stage", "7", "--stop_stage", "7", "--train_args", "--max_epoch 2")


def kill_when(rdir: Path, args, ready, what: str, timeout: float = 300) -> None:
    """Start ``./run.sh BASE_ARGS args`` in ``rdir``; SIGKILL its process group once ``ready()``."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(rdir / "killed.log", "w") as log:
        proc = subprocess.Popen(["./run.sh", *BASE_ARGS, *args], cwd=rdir, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    t0 = time.time()
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"run.sh ended (code {proc.returncode}) before {what}:\n"
                            + (rdir / "killed.log").read_text()[-2000:])
            if time.time() - t0 > timeout:
                pytest.fail(f"no {what} after {timeout} s")
            time.sleep(0.01)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"run.sh was not killed (code {proc.returncode})"


def read_feats(rdir: Path, s: str, filtered: bool = False) -> dict:
    """uttid -> features of a set (ark paths are absolute; relative ones, from older runs, are read
    from the recipe dir)."""
    scp = rdir / "dump" / "fbank" / ("" if filtered else "org") / s / "feats.scp"
    cwd = os.getcwd()
    os.chdir(rdir)
    try:
        return {k: np.array(v) for k, v in kaldiio.load_scp(str(scp)).items()}
    finally:
        os.chdir(cwd)


@pytest.mark.slow
def test_kill_feature_extraction(tiny_recipe, tmp_path):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    shutil.rmtree(rdir / "dump")  # stages 3-4 from scratch
    dev_ark = rdir / "dump" / "fbank" / "org" / "dev_en" / "feats.1.ark"
    # killed once train_en is done and the features of dev_en are being written
    kill_when(rdir, ("--stage", "3", "--stop_stage", "4"),
              lambda: dev_ark.is_file() and dev_ark.stat().st_size > 0, "dev_en features")
    assert not (rdir / "dump" / ".done" / "feats_test_en").exists(), "the kill came after stage 3"
    run_recipe(rdir, "--stage", "3", "--stop_stage", "4", log_name="rerun.log")
    for s in SETS:
        for filtered in (False, True):
            got, want = read_feats(rdir, s, filtered), read_feats(tiny_recipe, s, filtered)
            assert list(got) == list(want), (s, filtered)
            for k in want:
                assert np.array_equal(got[k], want[k]), (s, k)
        for f in ("feats_shape", "text.surface", "text.meaning"):
            assert (rdir / "dump/fbank" / s / f).read_text() == (tiny_recipe / "dump/fbank" / s / f).read_text()
        got, want = (np.load(d / "dump/fbank/org" / s / "cmvn.npz") for d in (rdir, tiny_recipe))
        for k in ("count", "sum", "sum_square"):
            assert np.array_equal(got[k], want[k]), (s, k)
        assert all(line.split(" ", 1)[1].startswith(str(rdir.resolve())) for line in
                   (rdir / "dump/fbank" / s / "feats.scp").read_text().splitlines())
        # test sets are copied without their arks: feats.scp points into fbank/org
        assert not list((rdir / "dump/fbank" / s).glob("*.ark"))


def load_state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


@pytest.mark.slow
def test_kill_training_mid_epoch_and_decoding(tiny_recipe, tmp_path, monkeypatch):
    clean = copy_recipe(tiny_recipe, tmp_path / "clean" / "asr1")
    run_recipe(clean, *TRAIN)

    rdir = copy_recipe(tiny_recipe, tmp_path / "killed" / "asr1")
    mdir = rdir / "exp" / "do_en"
    log = mdir / "train.log"
    # ESPnet logs "2/2epoch started" after saving checkpoint.pth at the end of epoch 1
    kill_when(rdir, TRAIN, lambda: log.is_file() and "2/2epoch started" in log.read_text(), "epoch 2")
    assert (mdir / "checkpoint.pth").is_file() and not (mdir / "2epoch.pth").exists(), "not killed in epoch 2"
    out = run_recipe(rdir, *TRAIN, log_name="rerun.log")
    assert "The training was resumed using" in log.read_text(), out[-2000:]
    assert "exp/do_en: resuming after epoch 1 of 2" in out  # stage 7 counts the epochs still to train

    # ESPnet seeds every epoch (seed + epoch) and the batches of an epoch are a function of the epoch,
    # so on the CPU a resumed epoch repeats the interrupted one exactly: bit-identical models.
    for name in ("1epoch.pth", "2epoch.pth", "valid.acc.ave.pth"):
        got, want = load_state(mdir / name), load_state(clean / "exp/do_en" / name)
        assert list(got) == list(want)
        for k in want:
            assert torch.equal(got[k], want[k]), f"{name}: {k} differs after the resume"

    # Decoding killed once a job has written hypotheses: the re-run resumes from them and ends with
    # the hypotheses of the uninterrupted run's decode (the models are identical).
    # One decode job (--nj 1) over the whole test set, one utterance a batch, killed once it has written a
    # hypothesis: with two jobs of five utterances, or the decode config's batches of 16, a tiny model could
    # finish its job before the kill landed.
    decode = ("--stage", "8", "--stop_stage", "8", "--nj", "1", "--inference_args", "--batch_size 1")
    run_recipe(clean, *decode, log_name="decode.log")
    ddir = mdir / "decode_test_en"
    hyps = ddir / "logdir" / "output.1" / "text.surface"
    kill_when(rdir, decode, lambda: hyps.is_file() and hyps.read_text().count("\n") >= 1, "hypotheses")
    written = hyps.read_text().count("\n")
    assert not (ddir / ".done_decode").exists(), "the kill came after decoding"
    run_recipe(rdir, *decode, log_name="decode.log")
    assert "already decoded, resuming" in (ddir / "logdir" / "decode.1.log").read_text()
    for o in ("surface", "meaning"):
        got = (ddir / f"text.{o}").read_text()
        assert got == (clean / "exp/do_en/decode_test_en" / f"text.{o}").read_text(), o
    assert 1 <= written < len(got.splitlines()), "the kill did not land mid-job"

    # Paths are resolved once: config.yaml records absolute paths, and the model loads from anywhere.
    conf = yaml.safe_load((mdir / "config.yaml").read_text())
    assert os.path.isabs(conf["normalize_conf"]["stats_file"])
    assert all(os.path.isabs(p) for p, _, _ in conf["train_data_path_and_name_and_type"])
    from dualasr.analysis.layout import load_model

    monkeypatch.chdir(tmp_path)
    model, args = load_model(mdir)
    assert model.token_lists["surface"] == conf["token_list_surface"]
    # a path relative to the model dir (as a packed model would hold it) loads as well
    shutil.copy(conf["normalize_conf"]["stats_file"], mdir / "cmvn.npz")
    conf["normalize_conf"]["stats_file"] = "cmvn.npz"
    (mdir / "config.yaml").write_text(yaml.safe_dump(conf, allow_unicode=True))
    model2, args2 = load_model(mdir)
    assert Path(args2.normalize_conf["stats_file"]).resolve() == (mdir / "cmvn.npz").resolve()
    for k, v in model.state_dict().items():
        assert torch.equal(v, model2.state_dict()[k])


def _fake_train_dir(d: Path, epoch: int = 2) -> dict:
    """What ESPnet's trainer leaves after ``epoch`` epochs: checkpoint.pth, {n}epoch.pth, links."""
    d.mkdir()
    model = torch.nn.Linear(3, 2).state_dict()
    torch.save({"model": model, "reporter": {"stats": {}, "epoch": epoch}, "optimizers": [], "schedulers": [],
                "scaler": None}, d / "checkpoint.pth")
    for e in range(1, epoch + 1):
        torch.save(model, d / f"{e}epoch.pth")
    (d / "latest.pth").symlink_to(f"{epoch}epoch.pth")
    return model


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


def test_repair_checkpoint(tmp_path):
    from dualasr.bin.repair_checkpoint import repair

    d = tmp_path / "ok"
    _fake_train_dir(d)
    assert repair(d) == "" and sorted(p.name for p in d.iterdir()) == [
        "1epoch.pth", "2epoch.pth", "checkpoint.pth", "latest.pth"]

    for how in ("missing", "cut"):  # killed between (or during) the two saves of epoch 2
        d = tmp_path / how
        model = _fake_train_dir(d)
        (d / "2epoch.pth").unlink() if how == "missing" else _cut(d / "2epoch.pth")
        assert repair(d) == f"{d / '2epoch.pth'}: missing or unreadable (killed after checkpoint.pth was written): rewritten from it"
        got = torch.load(d / "2epoch.pth")
        assert all(torch.equal(got[k], v) for k, v in model.items())

    d = tmp_path / "ckpt_cut"  # killed while checkpoint.pth was written
    _fake_train_dir(d)
    _cut(d / "checkpoint.pth")
    assert repair(d) == (f"{d / 'checkpoint.pth'}: unreadable (killed while it was written): removed it and 3 epoch "
                         "file(s); training restarts from epoch 1")
    assert list(d.iterdir()) == []
