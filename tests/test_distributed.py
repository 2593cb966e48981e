"""Distributed (DDP) training through ESPnet's own code path, on the CPU with gloo.

* Two ranks of ``python -m dualasr.bin.dual_asr_train`` started with the env:// variables
  (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT): ESPnet's external-launcher mode
  (``--multiprocessing_distributed false``). Both ranks must join the gloo group and finish, and
  the model rank 0 saved must load and decode with DualSpeech2Text.
* The recipe's stage 7 on the real one-node Slurm cluster with ``--nproc_per_node 2``: one Slurm
  job, two ranks started by srun (utils/srun_ddp.sh).
* Fast checks of the option plumbing: ``--num_nodes`` -> ``sbatch --nodes``, and the errors when a
  multi-node run is asked of the local backend or srun_ddp.sh runs outside Slurm.

The training tests use the tiny config for one epoch on 60 synthetic English utterances.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import kaldiio
import pytest
import torch
from tiny_recipe import REPO, copy_recipe, make_recipe_dir, run_recipe

from dualasr import slurm
from dualasr.launcher import main as launcher_main

HOST = socket.gethostname().split(".")[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def train_args(rdir: Path, out: str) -> list:
    """dual_asr_train arguments for a DO model on the tiny recipe's English data (as stage 7 builds them)."""
    args = ["--config", str(REPO / "conf" / "train_tiny.yaml"), "--model_conf", "outputs=[surface,meaning]",
            "--normalize_conf", "stats_file=dump/fbank/train_en/cmvn.npz", "--token_type", "char",
            "--input_size", (rdir / "dump" / "fbank" / "train_en" / "feats_dim").read_text().strip()]
    for o in ("surface", "meaning"):
        args += [f"--token_list_{o}", f"data/token_list/en/{o}_char/tokens.txt"]
    for mode, data in (("train", "train_en"), ("valid", "dev_en")):
        args += [f"--{mode}_data_path_and_name_and_type", f"dump/fbank/{data}/feats.scp,speech,kaldi_ark"]
        for o in ("surface", "meaning"):
            args += [f"--{mode}_data_path_and_name_and_type", f"dump/fbank/{data}/text.{o},text_{o},text"]
        for shape in ("speech", "text_surface", "text_meaning"):
            args += [f"--{mode}_shape_file", f"exp/stats_en/{mode}/{shape}_shape"]
    return args + ["--max_epoch", "1", "--output_dir", out]


def assert_decodes(rdir: Path, model_dir: str, monkeypatch) -> None:
    """The saved model loads in DualSpeech2Text and gives a string per output for test utterances."""
    from dualasr.bin.dual_asr_inference import DualSpeech2Text

    monkeypatch.chdir(rdir)  # config.yaml names the token lists and CMVN stats relative to the recipe
    s2t = DualSpeech2Text.from_files(f"{model_dir}/config.yaml", f"{model_dir}/valid.acc.ave.pth", beam_size=2)
    assert s2t.outputs == ["surface", "meaning"]
    feats = kaldiio.load_scp("dump/fbank/test_en/feats.scp")
    for key in sorted(feats)[:2]:
        out = s2t(torch.tensor(feats[key], dtype=torch.float32))
        assert set(out) == {"surface", "meaning"}, key
        assert all(isinstance(t, str) for t in out.values()), (key, out)


@pytest.mark.slow
def test_two_ranks_env_launcher_train_and_decode(tiny_recipe, tmp_path, monkeypatch):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    port = _free_port()
    cmd = [sys.executable, "-m", "dualasr.bin.dual_asr_train", *train_args(rdir, "exp/ddp_do_en"),
           "--ngpu", "0", "--multiprocessing_distributed", "false", "--dist_backend", "gloo"]
    procs, logs = [], []
    for rank in (0, 1):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1",
               "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1"}
        log = open(rdir / f"rank{rank}.log", "w")
        procs.append(subprocess.Popen(cmd, cwd=rdir, env=env, stdout=log, stderr=subprocess.STDOUT))
        logs.append(log)
    codes = []
    for p, log in zip(procs, logs):
        try:
            codes.append(p.wait(timeout=600))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
        log.close()
    text = [(rdir / f"rank{r}.log").read_text(errors="replace") for r in (0, 1)]
    for r in (0, 1):
        assert codes[r] == 0, f"rank {r} failed (code {codes[r]}):\n" + "\n".join(text[r].splitlines()[-20:])
        # each rank joined the gloo group of two
        assert f"[Gloo] Rank {r} is connected to 1 peer ranks" in text[r], text[r][-2000:]
    # rank 0 logs as rank 0 of 2 (ESPnet's prefix) and finished the epoch; rank 1 logs errors only
    assert f"[{HOST}:0/2]" in text[0] and "The training was finished at 1 epochs" in text[0]
    assert "Traceback" not in text[1]
    config = (rdir / "exp/ddp_do_en/config.yaml").read_text()
    assert "distributed: true" in config and "dist_backend: gloo" in config
    assert_decodes(rdir, "exp/ddp_do_en", monkeypatch)


@pytest.mark.slow
def test_recipe_stage7_srun_two_ranks_on_slurm(slurm_cluster, tiny_recipe, tmp_path, monkeypatch):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    env = {**slurm_cluster.env, "cmd_backend": "slurm"}
    run_recipe(rdir, "--stage", "7", "--stop_stage", "7", "--nproc_per_node", "2",
               "--train_args", "--max_epoch 1", env=env, log_name="train_srun.log")
    log = (rdir / "exp/do_en/train.log").read_text(errors="replace")
    # one Slurm job ran utils/srun_ddp.sh; srun --label prefixes each line with its rank
    assert (rdir / "exp/do_en/q/train.sh").is_file() and (rdir / "exp/do_en/q/train.submit.log").is_file()
    assert log.splitlines()[0].startswith("# utils/srun_ddp.sh 2 python -m dualasr.bin.dual_asr_train")
    for r in (0, 1):
        assert f"{r}: [Gloo] Rank {r} is connected to 1 peer ranks" in log, log[-3000:]
    assert f"0: [{HOST}:0/2]" in log and "The training was finished at 1 epochs" in log
    assert "# Ended (code 0)" in log
    assert "distributed: true" in (rdir / "exp/do_en/config.yaml").read_text()
    assert_decodes(rdir, "exp/do_en", monkeypatch)


# --- option plumbing (no training) ---

def test_num_nodes_maps_to_sbatch_nodes_only_when_above_one():
    conf = slurm.load_conf(str(REPO / "conf" / "slurm.conf"))
    base = dict(num_threads=1, mem=None, gpu=0, time=None, max_jobs_run=None, config=None)
    one = slurm.sbatch_flags(conf, argparse.Namespace(**base, num_nodes=1), "train")
    two = slurm.sbatch_flags(conf, argparse.Namespace(**{**base, "gpu": 4, "num_threads": 4}, num_nodes=2), "train")
    assert "--nodes" not in one
    assert two[two.index("--nodes") + 1] == "2" and "--gres=gpu:4" in two


def test_local_backend_refuses_several_nodes(tmp_path, capsys):
    rc = launcher_main(["--backend", "local", "--num_nodes", "2", str(tmp_path / "x.log"), "true"])
    assert rc == 1 and "--num_nodes 2" in capsys.readouterr().err
    assert not (tmp_path / "x.log").exists()


def test_srun_ddp_outside_slurm_is_a_clear_error():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "DUALASR_SRUN"))}
    p = subprocess.run([str(REPO / "utils/srun_ddp.sh"), "2", "true"], env=env, capture_output=True, text=True)
    assert p.returncode == 1 and "not inside a Slurm job" in p.stderr and "cmd_backend=slurm" in p.stderr
    p = subprocess.run([str(REPO / "utils/srun_ddp.sh"), "0", "true"], env={**env, "SLURM_JOB_ID": "7"},
                       capture_output=True, text=True)
    assert p.returncode == 1 and "NPROC must be a positive integer, got '0'" in p.stderr


def test_template_refuses_srun_training_with_the_local_backend(tmp_path):
    rdir = make_recipe_dir(tmp_path / "asr1")
    env = {**os.environ, "cmd_backend": "local"}
    p = subprocess.run(["./run.sh", "--stage", "7", "--stop_stage", "7", "--num_nodes", "2"], cwd=rdir,
                       env=env, capture_output=True, text=True)
    assert p.returncode == 1
    assert "--num_nodes 2 / --nproc_per_node '': needs cmd_backend=slurm" in p.stderr
