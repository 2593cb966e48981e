"""The backend-neutral part of the job launcher: a parsed ``[JOB=1:N] log command ...`` line
(:class:`JobSpec`), the log header every backend writes, and the one-line failure report. The
local backend (``dualasr.launcher``) and the Slurm backend (``dualasr.slurm``) both build on it.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from dataclasses import dataclass
from typing import List, Optional, Sequence

JOB_RANGE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+):(\d+)$")
JOB_SINGLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\d+)$")


@dataclass
class JobSpec:
    var: Optional[str]
    start: int
    end: int
    log: str
    command: List[str]

    def tasks(self) -> range:
        return range(self.start, self.end + 1)

    def log_for(self, i: int) -> str:
        return self.log.replace(self.var, str(i)) if self.var else self.log

    def command_for(self, i: int) -> str:
        """The shell command of task ``i``. One argument is taken as a shell string (pipes allowed);
        several arguments are quoted one by one, as the caller's shell split them."""
        parts = [a.replace(self.var, str(i)) if self.var else a for a in self.command]
        return parts[0] if len(parts) == 1 else shlex.join(parts)


def parse_job_args(argv: Sequence[str]) -> JobSpec:
    argv = list(argv)
    if not argv:
        raise SystemExit("launcher: usage: [opts] [JOB=1:N] logfile command ...")
    var, start, end = None, 1, 1
    m = JOB_RANGE.match(argv[0]) or JOB_SINGLE.match(argv[0])
    if m:
        var = m.group(1)
        start = int(m.group(2))
        end = int(m.group(3)) if m.lastindex == 3 else start
        argv = argv[1:]
        if end < start:
            raise SystemExit(f"launcher: empty job range {var}={start}:{end}")
    if len(argv) < 2:
        raise SystemExit("launcher: need a log file and a command")
    return JobSpec(var, start, end, argv[0], argv[1:])


def log_header(cmd: str) -> str:
    return f"# {cmd}\n# Started at {time.strftime('%c')}\n#\n"


def report(spec: JobSpec, codes: List[int], prog: str) -> int:
    failed = [i for i, rc in zip(spec.tasks(), codes) if rc != 0]
    if not failed:
        return 0
    n = len(spec.tasks())
    if len(failed) == 1 or spec.var is None:
        print(f"{prog}: job failed (task {failed[0]} of {n}), log is in {spec.log_for(failed[0])}",
              file=sys.stderr)
    else:
        print(f"{prog}: {len(failed)} / {n} failed (tasks {','.join(map(str, failed))}), "
              f"logs are in {spec.log_for(failed[0])} ...", file=sys.stderr)
    return 1
