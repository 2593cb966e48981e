"""The local launcher: JOB substitution, logs, and failures that surface."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def launch(tmp_path, *args):
    return subprocess.run([str(REPO / "utils/run.sh"), *args], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"})


def test_array_job_writes_one_log_per_task(tmp_path):
    r = launch(tmp_path, "JOB=1:3", "log/echo.JOB.log", "echo", "task JOB of 3")
    assert r.returncode == 0, r.stderr
    for i in (1, 2, 3):
        text = (tmp_path / f"log/echo.{i}.log").read_text()
        assert f"task {i} of 3" in text
        assert "# Ended (code 0)" in text


def test_single_shell_string_keeps_pipes(tmp_path):
    r = launch(tmp_path, "JOB=1:2", "log/p.JOB.log", "echo a-JOB | tr a b")
    assert r.returncode == 0
    assert "b-2" in (tmp_path / "log/p.2.log").read_text()


def test_failing_task_fails_the_call_and_names_it(tmp_path):
    r = launch(tmp_path, "JOB=1:3", "log/f.JOB.log", "bash", "-c", "[ JOB -ne 2 ] || exit 3")
    assert r.returncode == 1
    assert "task 2 of 3" in r.stderr and "log/f.2.log" in r.stderr
    assert "# Ended (code 3)" in (tmp_path / "log/f.2.log").read_text()
    assert "# Ended (code 0)" in (tmp_path / "log/f.3.log").read_text()  # the others still ran


def test_options_are_accepted_and_no_job_range(tmp_path):
    r = launch(tmp_path, "--num_threads", "2", "--mem", "4G", "--gpu", "0", "log/one.log", "echo threads=$OMP_NUM_THREADS")
    assert r.returncode == 0, r.stderr
    assert "threads=2" in (tmp_path / "log/one.log").read_text()


def test_bad_range_is_an_error(tmp_path):
    r = launch(tmp_path, "JOB=3:1", "log/x.JOB.log", "true")
    assert r.returncode != 0 and "empty job range" in r.stderr
