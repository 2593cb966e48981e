"""Slurm backend of the launcher: the conf parser (no cluster) and array jobs on a real one-node
Slurm (tests/slurm_cluster.py; skipped with the reason when the cluster cannot start)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dualasr import slurm
from dualasr.jobs import parse_job_args

REPO = Path(__file__).resolve().parents[1]


def opts(**kw) -> argparse.Namespace:
    base = dict(num_threads=1, mem=None, gpu=0, time=None, max_jobs_run=None, config=None)
    return argparse.Namespace(**{**base, **kw})


def flags(**kw) -> list:
    conf = slurm.load_conf(str(REPO / "conf" / "slurm.conf"))
    return slurm.sbatch_flags(conf, opts(**kw), "decode")


# --- the conf parser and option mapping (no cluster) ---

def test_defaults_apply_when_options_not_given():
    assert flags() == ["--job-name", "decode", "--time", "24:00:00", "-p", "cpu"]


def test_gpu_mem_threads_time_map_to_sbatch_flags():
    got = flags(gpu=2, mem="4G", num_threads=4, time="2:00:00")
    assert got == ["--job-name", "decode", "--time", "2:00:00", "--mem-per-cpu", "4G",
                   "--cpus-per-task", "4", "-p", "gpu", "--gres=gpu:2", "-c", "2"]


def test_exact_value_line_wins_over_star():
    assert "--mem-per-cpu" not in flags(mem="0")
    assert flags(gpu=0)[-2:] == ["-p", "cpu"]


def test_config_lookup_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUALASR_SLURM_CONFIG", raising=False)
    assert slurm.load_conf(None).path == str(REPO / "conf" / "slurm.conf")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf/slurm.conf").write_text("command sbatch\n")
    assert slurm.load_conf(None).path == "conf/slurm.conf"
    monkeypatch.setenv("DUALASR_SLURM_CONFIG", str(tmp_path / "env.conf"))
    with pytest.raises(ValueError, match="env.conf: cannot read the slurm config"):
        slurm.load_conf(None)


def test_command_line_and_conf_without_name():
    conf = slurm.parse_conf("command sbatch --export=ALL  # fixed flags\noption gpu=0\n", "x.conf")
    assert conf.command == ["sbatch", "--export=ALL"]
    assert slurm.sbatch_flags(conf, opts(), "decode") == []


def test_option_without_matching_line_is_an_error_naming_the_conf():
    conf = slurm.parse_conf("option gpu=0 -p cpu\n", "my.conf")
    with pytest.raises(ValueError, match=r"my\.conf: no 'option gpu=\.\.\.' line matches gpu=1"):
        slurm.sbatch_flags(conf, opts(gpu=1), "decode")


@pytest.mark.parametrize("line, msg", [
    ("optoin gpu=0 -p cpu", "my.conf:2: expected 'command', 'option' or 'default'"),
    ("option gpu -p cpu", "my.conf:2: expected 'option NAME=VALUE"),
    ("default time=1:00 --time 1:00", "my.conf:2: 'default' takes only NAME=VALUE"),
])
def test_bad_conf_line_names_file_and_line(line, msg):
    with pytest.raises(ValueError, match=re.escape(msg)):
        slurm.parse_conf(f"# comment\n{line}\n", "my.conf")


def test_job_name_array_flag_and_exit_codes_from_footers(tmp_path):
    spec = parse_job_args(["JOB=1:3", str(tmp_path / "decode.JOB.log"), "true"])
    assert slurm.job_name(spec) == "decode"
    assert slurm.array_flag(spec, None) == "--array=1-3"
    assert slurm.array_flag(spec, 2) == "--array=1-3%2"
    (tmp_path / "decode.1.log").write_text("# true\n# Ended (code 0) at x, elapsed time 0 seconds\n")
    (tmp_path / "decode.2.log").write_text("# true\nstarted, then killed\n")
    assert slurm.exit_codes(spec) == [0, None, None]


# --- a real cluster ---

def launch(cluster, cwd: Path, *args: str, wrapper: bool = False) -> subprocess.CompletedProcess:
    """The launcher with the slurm backend; ``wrapper``: through utils/slurm.sh as a recipe's cmd.sh
    calls it, finding its config through $DUALASR_SLURM_CONFIG."""
    env = {**cluster.env, "PATH": f"{Path(sys.executable).parent}:{cluster.env.get('PATH', '')}"}
    head = [str(REPO / "utils/slurm.sh")] if wrapper else [sys.executable, "-m", "dualasr.launcher",
                                                            "--backend", "slurm"]
    argv = head + (["--config", str(cluster.launcher_conf)] if not wrapper else []) + list(args)
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_array_job_writes_every_task_log(slurm_cluster, tmp_path):
    (tmp_path / "path.sh").write_text("export FROM_PATH_SH=yes\n")
    p = launch(slurm_cluster, tmp_path, "--mem", "100M", "--time", "5", "--max_jobs_run", "2",
               "JOB=1:3", "exp/log/echo.JOB.log",
               "echo task JOB is $SLURM_ARRAY_TASK_ID $FROM_PATH_SH; echo to-stderr JOB >&2", wrapper=True)
    assert p.returncode == 0, p.stderr
    for i in (1, 2, 3):
        lines = (tmp_path / f"exp/log/echo.{i}.log").read_text().splitlines()
        assert lines[0] == f"# echo task {i} is $SLURM_ARRAY_TASK_ID $FROM_PATH_SH; echo to-stderr {i} >&2"
        assert lines[1].startswith("# Started at ") and lines[2] == "#"
        assert lines[3] == f"task {i} is {i} yes"  # Slurm's task id; path.sh was sourced
        assert lines[4] == f"to-stderr {i}"
        assert lines[5].startswith("# Accounting: time=")
        assert lines[6].startswith("# Ended (code 0) at ")
    q = tmp_path / "exp/log/q"
    assert (q / "echo.sh").is_file() and (q / "echo.submit.log").is_file()
    assert "--array=1-3%2" in (q / "echo.submit.log").read_text()


def test_failed_task_is_named_with_its_log(slurm_cluster, tmp_path):
    p = launch(slurm_cluster, tmp_path, "JOB=1:3", "log/fail.JOB.log",
               "if [ JOB = 2 ]; then echo broken; exit 3; fi; echo fine")
    assert p.returncode == 1
    assert "task 2 of 3" in p.stderr and "log/fail.2.log" in p.stderr, p.stderr
    assert (tmp_path / "log/fail.2.log").read_text().splitlines()[-1].startswith("# Ended (code 3)")
    assert (tmp_path / "log/fail.3.log").read_text().splitlines()[-1].startswith("# Ended (code 0)")


def test_killed_task_without_footer_fails(slurm_cluster, tmp_path):
    """Task 1 is cancelled by Slurm mid-run: it leaves no footer, and only that tells the launcher."""
    # In a script: the launcher replaces JOB everywhere in the command, inside $SLURM_ARRAY_JOB_ID too.
    (tmp_path / "kill.sh").write_text(
        'if [ "$1" = 1 ]; then scancel "${SLURM_ARRAY_JOB_ID}_1"; sleep 30; fi; echo done\n')
    p = launch(slurm_cluster, tmp_path, "JOB=1:2", "log/kill.JOB.log", "bash kill.sh JOB")
    assert p.returncode == 1
    assert "task 1 of job" in p.stderr and "left no exit status in log/kill.1.log" in p.stderr, p.stderr
    assert "job failed (task 1 of 2), log is in log/kill.1.log" in p.stderr
    assert "# Ended" not in (tmp_path / "log/kill.1.log").read_text()
