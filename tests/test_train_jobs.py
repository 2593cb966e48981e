"""Stage 7 with ``--train_jobs 2``: training jobs side by side (the shared tiny run trains that way too).

- A job that fails fails the stage, after the other job has finished and been marked done.
- A TERM sent to ``run.sh`` alone (it execs the recipe) stops the background training jobs as well: the
  stage's trap passes it on. Without the trap they kept training, orphaned (checked by removing it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tiny_recipe import BASE_ARGS, copy_recipe

PAIR = ("--stage", "7", "--stop_stage", "7", "--models", "so_surface so_meaning", "--train_jobs", "2",
        "--train_threads", "1")


def _processes_in(rdir) -> list:
    """Command lines of the running processes that name ``rdir`` (the training jobs do: --output_dir)."""
    out = subprocess.run(["pgrep", "-af", str(rdir)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "pgrep" not in line]


@pytest.mark.slow
def test_a_failed_job_fails_the_stage_and_the_other_finishes(tiny_recipe, tmp_path):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    tokens = rdir / "data" / "token_list" / "en" / "meaning_char" / "tokens.txt"
    tokens.unlink()  # so_meaning cannot start; so_surface needs only the surface tokens
    proc = subprocess.run(["./run.sh", *BASE_ARGS, *PAIR, "--train_args", "--max_epoch 1"], cwd=rdir,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "training 2 jobs at a time (1 thread(s) each)" in proc.stdout
    assert "exp/so_meaning_en: training failed" in proc.stdout
    assert "training failed: 1 job(s)" in proc.stdout
    assert (rdir / "exp" / "so_surface_en" / ".done_train").is_file(), proc.stdout[-2000:]
    assert not (rdir / "exp" / "so_meaning_en" / ".done_train").exists()


@pytest.mark.slow
def test_term_stops_the_background_jobs(tiny_recipe, tmp_path):
    rdir = copy_recipe(tiny_recipe, tmp_path / "asr1")
    logs = [rdir / "exp" / f"{m}_en" / "train.log" for m in ("so_surface", "so_meaning")]
    with open(rdir / "interrupted.log", "w") as out:
        proc = subprocess.Popen(["./run.sh", *BASE_ARGS, *PAIR], cwd=rdir, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        t0 = time.time()
        # both jobs are training once ESPnet logged its first epoch's start
        while not all(f.is_file() and "1epoch" in f.read_text(errors="replace") for f in logs):
            assert proc.poll() is None, (rdir / "interrupted.log").read_text()[-2000:]
            assert time.time() - t0 < 300, "the training jobs did not start"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGTERM)  # the recipe alone, as `kill PID` does
        assert proc.wait(timeout=60) == 143
        t0 = time.time()
        while _processes_in(rdir) and time.time() - t0 < 30:
            time.sleep(0.5)
        assert not _processes_in(rdir), _processes_in(rdir)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        subprocess.run(["pkill", "-KILL", "-f", str(rdir)])
