"""One run of the embedded-corpus recipe, ``egs/mini_l2/asr1/run.sh --size tiny`` (ko + en, every
model kind, every stage through the report), in a temp dir, shared by the tests that read its outputs.

Then, in the same dir, its augmented part (``AUG_ARGS``, about 2 min): English, so_surface and do (one epoch), trained on
``train_en_aug`` (noise and reverberation, stage 2) into ``exp_aug``, decoded and scored on ``test_en``,
``test_noisy_en`` and ``test_reverb_en``, through the report. The first part makes no robustness sets
(``--robust_test_sets false``), so its outputs and the tests that copy them are as before.

The run is a session fixture: pytest starts it once, however many test modules use it.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "egs" / "mini_l2" / "asr1"
# two 1-thread training jobs side by side (stage 7's --train_jobs, as make demo trains)
ARGS = ["--size", "tiny", "--nj", "2", "--train_jobs", "2", "--train_threads", "1", "--analysis_max_utts", "10",
        "--swap_max_utts", "6", "--reference_seed", "2", "--robust_test_sets", "false"]
AUG_ARGS = ["--stage", "2", "--stop_stage", "12", "--langs", "en", "--models", "so_surface do", "--reference_seed", "",
            "--expdir", "exp_aug", "--augment_rir", "true", "--augment_noise", "true", "--robust_test_sets", "true",
            # make demo-aug's augmentation: the clean utterances beside one copy, rir and noise with probability 0.8
            "--rir_apply_prob", "0.8", "--noise_apply_prob", "0.8", "--augment_keep_clean", "true",
            "--train_args", "--max_epoch 1"]  # one epoch: this part checks the plumbing, not the accuracy


def recipe_copy(dst: Path) -> Path:
    """A recipe dir in ``dst`` whose files link to egs/mini_l2/asr1 (data, dump and exp stay in dst)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("run.sh", "dual_asr.sh", "cmd.sh", "path.sh", "db.sh", "utils", "local", "conf"):
        (dst / name).symlink_to(RECIPE / name)
    return dst


def run(rdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(["./run.sh", *ARGS, *args], cwd=rdir, capture_output=True, text=True,
                         env={**os.environ, "cmd_backend": "local"})
    (rdir / "last_run.log").write_text(res.stdout + res.stderr)
    if check and res.returncode != 0:
        pytest.fail(f"./run.sh {' '.join(args)} failed in {rdir} (code {res.returncode}):\n{res.stderr[-3000:]}")
    return res


@pytest.fixture(scope="session")
def mini_l2_tiny(tmp_path_factory) -> Path:
    rdir = recipe_copy(tmp_path_factory.mktemp("mini_l2") / "asr1")
    res = run(rdir)
    (rdir / "first_run.log").write_text(res.stdout + res.stderr)
    t = time.time()
    res = run(rdir, *AUG_ARGS)
    (rdir / "aug_run.log").write_text(res.stdout + res.stderr + f"\naugmented part: {time.time() - t:.0f} s\n")
    return rdir
