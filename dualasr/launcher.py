"""Parallel job launcher with Kaldi's ``run.pl`` interface.

    python -m dualasr.launcher --backend local [opts] JOB=1:N log/x.JOB.log command args...

``JOB`` is replaced by the task index in the log path and in the command. The call waits for every
task; it exits non-zero, naming the failed tasks and their logs, when any task fails. Options that
only mean something on a cluster (``--mem``, ``--time``, ``--gpu``) are accepted by every backend,
so a recipe's ``cmd.sh`` switches backends by changing one variable. Only ``--num_nodes`` above 1
(one job spanning several nodes, for distributed training) is refused by the local backend.

Why not ESPnet's ``run.pl``/``slurm.pl``: those are Perl scripts shipped inside ESPnet's egs tree,
not in the pip package, so they are not on this machine; this is the same contract in Python.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List, Optional, Sequence

from dualasr.jobs import JobSpec, log_header, parse_job_args, report


def common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--num_threads", type=int, default=1)
    p.add_argument("--mem", default=None)
    p.add_argument("--gpu", type=int, default=0)
    p.add_argument("--time", default=None)
    p.add_argument("--max_jobs_run", type=int, default=None)
    p.add_argument("--num_nodes", type=int, default=1, help="nodes of one job (cluster backends only)")


def run_local_task(spec: JobSpec, i: int, num_threads: int) -> int:
    log = Path(spec.log_for(i))
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = spec.command_for(i)
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(num_threads)  # --num_threads is the contract, as with a cluster's --cpus-per-task
    t0 = time.time()
    with open(log, "w", encoding="utf-8") as f:
        f.write(log_header(cmd))
        f.flush()
        rc = subprocess.call(["bash", "-c", cmd], stdout=f, stderr=subprocess.STDOUT, env=env)
        f.write(f"# Accounting: time={int(time.time() - t0)} threads={num_threads}\n")
        f.write(f"# Ended (code {rc}) at {time.strftime('%c')}, elapsed time {int(time.time() - t0)} seconds\n")
    return rc


def run_local(spec: JobSpec, opts: argparse.Namespace) -> List[int]:
    max_jobs = opts.max_jobs_run or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=max(1, min(max_jobs, len(spec.tasks())))) as ex:
        return list(ex.map(lambda i: run_local_task(spec, i, opts.num_threads), spec.tasks()))


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog="launcher", add_help=True)
    p.add_argument("--backend", choices=["local", "slurm"], default="local")
    p.add_argument("--config", default=None, help="slurm.conf (slurm backend)")
    common_options(p)
    # Options end at the first argument that is not an option (JOB=..., or the log file).
    split = 0
    while split < len(argv) and argv[split].startswith("--"):
        split += 1 if "=" in argv[split] else 2
    opts = p.parse_args(argv[:split])
    spec = parse_job_args(argv[split:])
    if opts.backend == "local":
        if opts.num_nodes > 1:
            print(f"run.sh: --num_nodes {opts.num_nodes}: the local backend runs on this machine only; "
                  "use a cluster backend (cmd_backend=slurm)", file=sys.stderr)
            return 1
        codes = run_local(spec, opts)
        return report(spec, codes, "run.sh")
    from dualasr import slurm  # noqa: WPS433 (the cluster backend is optional)

    return slurm.run(spec, opts)


if __name__ == "__main__":
    sys.exit(main())
