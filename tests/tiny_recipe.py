"""The prepared part of the suite's one tiny recipe run, for the distributed-training and Slurm
recipe tests (English, ``--size tiny``).

``tiny_recipe`` (session fixture) is a recipe dir holding what stages 1-6 of the shared tiny run
(``mini_l2_tiny`` in tests/mini_l2_run.py) made: data, wavs, features, token lists and ESPnet's
collect-stats output, but no trained model. It is copied from that run, not made again. Tests
that write into ``exp/`` take their own copy with ``copy_recipe``. ``run_recipe(dir, ...)`` runs
``./run.sh`` there (English only, the DO model) and fails the test with the tail of the log when
the recipe fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Optional

import pytest

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "egs" / "mini_l2" / "asr1"
# English only, one model kind: the smallest run that still has both outputs.
# The robustness test sets are left out (the shared run makes them only in its exp_aug part).
BASE_ARGS = ["--size", "tiny", "--langs", "en", "--models", "do", "--nj", "2", "--robust_test_sets", "false"]


def make_recipe_dir(dst: Path) -> Path:
    """A copy of egs/mini_l2/asr1 in ``dst``: links to the template, utils and local/, an empty
    conf/, and a path.sh that sources the repo's (so DUALASR_ROOT is the repo)."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("run.sh", "db.sh", "local", "cmd.sh", "dual_asr.sh", "utils"):
        (dst / name).symlink_to((RECIPE / name).resolve())
    (dst / "conf").mkdir()
    (dst / "path.sh").write_text(f". {REPO / 'egs' / 'TEMPLATE' / 'asr1' / 'path.sh'}\n")
    return dst


def run_recipe(rdir: Path, *args: str, env: Optional[Dict[str, str]] = None,
               log_name: str = "run.log") -> str:
    """Run ``./run.sh BASE_ARGS args`` in ``rdir``; return its output (also in rdir/log_name)."""
    env = dict(os.environ if env is None else env)
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(["./run.sh", *BASE_ARGS, *args], cwd=rdir, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    (rdir / log_name).write_text(proc.stdout)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-30:])
        pytest.fail(f"./run.sh {' '.join(args)} failed (code {proc.returncode}) in {rdir}:\n{tail}")
    return proc.stdout


def copy_recipe(src: Path, dst: Path) -> Path:
    """A private copy of a prepared recipe dir (links stay links)."""
    shutil.copytree(src, dst, symlinks=True)
    return dst


@pytest.fixture(scope="session")
def tiny_recipe(mini_l2_tiny, tmp_path_factory) -> Path:
    """A recipe dir with stages 1-6 done (data, features, tokens, stats), copied from the shared run."""
    rdir = make_recipe_dir(tmp_path_factory.mktemp("tiny_recipe") / "asr1")
    for sub in ("data", "dump", "wav"):
        if (mini_l2_tiny / sub).exists():
            shutil.copytree(mini_l2_tiny / sub, rdir / sub, symlinks=True)
    for stats in (mini_l2_tiny / "exp").glob("stats_*"):
        shutil.copytree(stats, rdir / "exp" / stats.name, symlinks=True)
    (rdir / "exp" / ".done").mkdir(parents=True)
    for marker in (mini_l2_tiny / "exp" / ".done").glob("stats_*"):
        shutil.copy2(marker, rdir / "exp" / ".done" / marker.name)
    assert (rdir / "exp" / ".done" / "stats_en").is_file(), "the shared tiny run has no English stats"
    return rdir
