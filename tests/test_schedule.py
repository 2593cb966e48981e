"""``scheduler_conf: {max_steps: auto}`` (ESPnet's tristagelr, conf/train_default.yaml): the count of
optimizer steps that dualasr gives the scheduler must be the number the trainer takes, so that the
decay ends with the training. A real training on the tiny recipe's data checks it."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest
import torch
import yaml

from tiny_recipe import REPO, copy_recipe, run_recipe

LR, FINAL = 0.002, 0.05


@pytest.mark.slow
def test_auto_max_steps_is_the_number_of_steps_the_trainer_takes(tiny_recipe, tmp_path):
    d = tiny_recipe / "dump" / "fbank"
    stats = tiny_recipe / "exp" / "stats_en"
    out = tmp_path / "so"
    # the tiny config with ESPnet's tristagelr in place of its warmuplr (a scheduler_conf on the command line
    # would be merged into the config's, warmup_steps included)
    conf = yaml.safe_load((REPO / "conf" / "train_tiny.yaml").read_text())
    conf.update(scheduler="tristagelr", scheduler_conf={"max_steps": "auto", "warmup_ratio": 0.2, "hold_ratio": 0.3,
                                                        "decay_ratio": 0.5, "final_lr_scale": FINAL})
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(conf))
    cmd = [sys.executable, "-m", "dualasr.bin.dual_asr_train", "--config", str(tmp_path / "train.yaml"),
           "--normalize_conf", f"stats_file={d / 'train_en' / 'cmvn.npz'}", "--token_type", "char",
           "--input_size", (d / "train_en" / "feats_dim").read_text().strip(),
           "--model_conf", "outputs=[surface]", "--token_list_surface",
           str(tiny_recipe / "data" / "token_list" / "en" / "surface_char" / "tokens.txt"),
           "--ngpu", "0", "--max_epoch", "2", "--accum_grad", "2", "--num_workers", "0",
           "--optim_conf", f"lr={LR}", "--output_dir", str(out)]
    for kind, s in (("train", "train_en"), ("valid", "dev_en")):
        cmd += [f"--{kind}_data_path_and_name_and_type", f"{d / s / 'feats.scp'},speech,kaldi_ark",
                f"--{kind}_data_path_and_name_and_type", f"{d / s / 'text.surface'},text_surface,text"]
        for shape in ("speech_shape", "text_surface_shape"):
            cmd += [f"--{kind}_shape_file", str(stats / kind / shape)]
    res = subprocess.run(cmd, cwd=tiny_recipe, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)})
    assert res.returncode == 0, res.stderr[-3000:]
    steps = yaml.safe_load((out / "config.yaml").read_text())["scheduler_conf"]["max_steps"]
    assert isinstance(steps, int) and steps >= 4, steps
    ckpt = torch.load(out / "checkpoint.pth", map_location="cpu", weights_only=False)  # made here, by ESPnet
    # the trainer stepped the scheduler once per optimizer step (every accum_grad batches): exactly max_steps
    assert ckpt["schedulers"][0]["last_epoch"] == steps
    assert ckpt["optimizers"][0]["param_groups"][0]["lr"] == pytest.approx(LR * FINAL, rel=1e-6)


def test_auto_max_steps_is_refused_where_it_cannot_be_counted():
    from dualasr.tasks.dual_asr import resolve_auto_max_steps

    args = argparse.Namespace(scheduler="warmuplr", scheduler_conf={"max_steps": "auto"}, collect_stats=False)
    with pytest.raises(SystemExit, match="max_steps: auto is for scheduler tristagelr, not warmuplr"):
        resolve_auto_max_steps(args)
    args = argparse.Namespace(scheduler="tristagelr", scheduler_conf={"max_steps": "auto"}, collect_stats=False,
                              iterator_type="chunk", multiple_iterator=False)
    with pytest.raises(SystemExit, match="counts the batches of the sequence iterator, not chunk"):
        resolve_auto_max_steps(args)
    # stage 6 (collect_stats) builds the scheduler too, but never steps it
    stats = argparse.Namespace(scheduler="tristagelr", scheduler_conf={"max_steps": "auto", "hold_ratio": 0.3},
                               collect_stats=True)
    resolve_auto_max_steps(stats)
    assert stats.scheduler_conf == {"max_steps": 1, "hold_ratio": 0.3}
    fixed = argparse.Namespace(scheduler="tristagelr", scheduler_conf={"max_steps": 10})
    resolve_auto_max_steps(fixed)
    assert fixed.scheduler_conf == {"max_steps": 10}


@pytest.mark.slow
def test_the_demo_config_collects_stats_and_trains_through_the_recipe(tiny_recipe, tmp_path):
    """conf/train_default.yaml's max_steps: auto through stages 6 (ESPnet's collect_stats also builds the
    scheduler) and 7, on the tiny data: a few steps, not the demo."""
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    run_recipe(rdir, "--stage", "6", "--stop_stage", "7", "--expdir", "exp_default", "--models", "so_surface",
               "--train_config", str(REPO / "conf" / "train_default.yaml"),
               "--train_args", "--max_epoch 2 --num_iters_per_epoch 3")
    conf = yaml.safe_load((rdir / "exp_default" / "so_surface_en" / "config.yaml").read_text())
    assert conf["scheduler"] == "tristagelr" and conf["scheduler_conf"]["max_steps"] == 2 * 3
    ckpt = torch.load(rdir / "exp_default" / "so_surface_en" / "checkpoint.pth", map_location="cpu",
                      weights_only=False)
    assert ckpt["schedulers"][0]["last_epoch"] == 6
    # and ESPnet's INFO lines (the epoch results that the training progress, curves and report read) are logged
    assert "2epoch results" in (rdir / "exp_default" / "so_surface_en" / "train.log").read_text()


@pytest.mark.slow
def test_a_config_with_utterance_mvn_and_specaugment_trains_through_the_recipe(tiny_recipe, tmp_path):
    """The recipe gives global_mvn the training set's CMVN stats; another normalize takes none (ESPnet's
    UtteranceMVN refused the stats_file the recipe used to pass to every config). SpecAugment, a config option
    (README), on beside it."""
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    conf = yaml.safe_load((REPO / "conf" / "train_tiny.yaml").read_text())
    conf.update(normalize="utterance_mvn", specaug="specaug",
                specaug_conf={"apply_time_warp": True, "time_warp_window": 5, "apply_freq_mask": True,
                              "freq_mask_width_range": [0, 10], "num_freq_mask": 2, "apply_time_mask": True,
                              "time_mask_width_ratio_range": [0.0, 0.05], "num_time_mask": 2})
    (tmp_path / "train.yaml").write_text(yaml.safe_dump(conf))
    run_recipe(rdir, "--stage", "7", "--stop_stage", "7", "--expdir", "exp", "--models", "so_surface",
               "--train_config", str(tmp_path / "train.yaml"), "--train_args", "--max_epoch 1 --num_iters_per_epoch 2")
    trained = yaml.safe_load((rdir / "exp" / "so_surface_en" / "config.yaml").read_text())
    assert trained["normalize"] == "utterance_mvn" and "stats_file" not in trained["normalize_conf"]
    assert trained["specaug"] == "specaug" and trained["specaug_conf"]["num_time_mask"] == 2
