"""Slurm backend of the job launcher (Kaldi/ESPnet ``slurm.pl`` contract).

    python -m dualasr.launcher --backend slurm --config conf/slurm.conf \\
        [--num_threads N --mem X --gpu N --time T --num_nodes K --max_jobs_run K] JOB=1:N log/x.JOB.log command ...

One ``sbatch --parsable --array=1-N[%K]`` job is submitted. Its script, written to
``<logdir>/q/<name>.sh``, runs task ``$SLURM_ARRAY_TASK_ID``: it cds to the submit dir, sources
``./path.sh`` when there is one (``--export=PATH`` leaves the rest of the environment behind),
and writes the task's log with the local backend's header and footer (``# Ended (code N)``).
Slurm's own per-task output goes to ``<logdir>/q/<name>.<task>.out``. The launcher polls
``squeue`` until the job has left the queue, then reads every task's exit code from its log
footer: a task with no footer (cancelled, killed for time or memory, node lost) counts as failed.
Ctrl-C or SIGTERM cancels the job with ``scancel``.

Generic options become sbatch flags through a config file in ``slurm.pl``'s syntax::

    command sbatch --export=PATH          # the submit command and its fixed flags
    default time=24:00:00                 # value used when the option is not given
    option time=* --time $0               # any value; $0 is the value
    option mem=0                          # this exact value adds nothing
    option gpu=* -p gpu --gres=gpu:$0 -c $0
    option num_nodes=* --nodes $0         # a job over several nodes (distributed training)

Without ``--config`` the file is ``$DUALASR_SLURM_CONFIG``, else ``./conf/slurm.conf``, else the
repo's ``conf/slurm.conf``. An exact value line wins over a ``*`` line. ``name`` (the log's base
name, e.g. ``decode`` for ``decode.JOB.log``) is passed when the config mentions it. An option
that is given (or has a default) but matches no line is an error. ``--num_threads 1``,
``--gpu 0`` and ``--num_nodes 1`` are the launcher's own defaults, so they count as given only when
the config has a ``default`` for them.

Why by hand: ESPnet's ``slurm.pl`` is a Perl script in ESPnet's egs tree, not in the pip package;
no Python library speaks this config format.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from dualasr.files import write_atomic
from dualasr.jobs import JobSpec, report

PROG = "slurm.sh"
# Values the launcher gives options nobody passed: they are "not given" unless the conf has a default.
LAUNCHER_DEFAULTS = {"num_threads": 1, "gpu": 0, "num_nodes": 1}
GENERIC = ("name", "time", "mem", "num_threads", "gpu", "num_nodes")
FOOTER = re.compile(r"^# Ended \(code (-?\d+)\)")
REPO_CONF = Path(__file__).resolve().parents[1] / "conf" / "slurm.conf"


@dataclass
class SlurmConf:
    """A parsed slurm.pl-style config: the submit command, defaults and option rules."""

    path: str
    command: List[str] = field(default_factory=lambda: ["sbatch"])
    defaults: Dict[str, str] = field(default_factory=dict)
    # rules[name][value] -> flags; value "*" matches anything, "$0" in flags is the value.
    rules: Dict[str, Dict[str, List[str]]] = field(default_factory=dict)

    def flags_for(self, name: str, value: str) -> List[str]:
        """sbatch flags for ``--name value``; raise ValueError when no rule matches."""
        rule = self.rules.get(name, {})
        if value in rule:
            flags = rule[value]
        elif "*" in rule:
            flags = rule["*"]
        else:
            raise ValueError(f"{self.path}: no 'option {name}=...' line matches {name}={value}")
        return [f.replace("$0", value) for f in flags]


def parse_conf(text: str, path: str = "slurm.conf") -> SlurmConf:
    """Parse slurm.pl config text; errors name the file and line."""
    conf = SlurmConf(path=path)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}:{lineno}"
        try:
            words = shlex.split(line)
        except ValueError as e:
            raise ValueError(f"{where}: {e}: {raw.strip()}") from None
        kind, rest = words[0], words[1:]
        if kind == "command":
            if not rest:
                raise ValueError(f"{where}: 'command' needs the submit program, e.g. 'command sbatch'")
            conf.command = rest
            continue
        if kind not in ("option", "default"):
            raise ValueError(f"{where}: expected 'command', 'option' or 'default', got {kind!r}")
        if not rest or "=" not in rest[0]:
            raise ValueError(f"{where}: expected '{kind} NAME=VALUE ...', got {raw.strip()!r}")
        name, value = rest[0].split("=", 1)
        if not name or not value:
            raise ValueError(f"{where}: empty name or value in {rest[0]!r}")
        if kind == "default":
            if len(rest) > 1:
                raise ValueError(f"{where}: 'default' takes only NAME=VALUE, got {raw.strip()!r}")
            conf.defaults[name] = value
        else:
            conf.rules.setdefault(name, {})[value] = rest[1:]
    return conf


def load_conf(path: Optional[str]) -> SlurmConf:
    """Read ``path``; without one, ``$DUALASR_SLURM_CONFIG``, else ``conf/slurm.conf`` in the
    current dir, else the repo's ``conf/slurm.conf``."""
    if path is None:
        path = os.environ.get("DUALASR_SLURM_CONFIG") or (
            "conf/slurm.conf" if Path("conf/slurm.conf").is_file() else str(REPO_CONF))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ValueError(f"{path}: cannot read the slurm config: {e.strerror}") from None
    return parse_conf(text, path)


def job_name(spec: JobSpec) -> str:
    """``exp/log/decode.JOB.log`` -> ``decode``: the log's base name without the job variable."""
    base = Path(spec.log).name
    if spec.var:
        base = base.replace(f".{spec.var}", "").replace(spec.var, "")
    base = re.sub(r"\.log$", "", base).strip(".")
    return base or "job"


def sbatch_flags(conf: SlurmConf, opts: argparse.Namespace, name: str) -> List[str]:
    """The option-mapped sbatch flags for the launcher options ``opts``."""
    given: Dict[str, str] = {}
    for key in GENERIC:
        value = name if key == "name" else getattr(opts, key, None)
        if key == "name" and key not in conf.rules:
            continue
        if value is None or (key in LAUNCHER_DEFAULTS and value == LAUNCHER_DEFAULTS[key]):
            continue
        given[key] = str(value)
    for key, value in conf.defaults.items():
        given.setdefault(key, value)
    flags: List[str] = []
    for key, value in given.items():
        flags += conf.flags_for(key, value)
    return flags


def array_flag(spec: JobSpec, max_jobs_run: Optional[int]) -> str:
    limit = f"%{max_jobs_run}" if max_jobs_run else ""
    return f"--array={spec.start}-{spec.end}{limit}"


def job_script(spec: JobSpec, cwd: str, num_threads: int) -> str:
    """The bash script of the array job; task i runs ``spec.command_for(i)`` into ``spec.log_for(i)``.

    The header/footer lines are the local backend's (``launcher.run_local_task``)."""
    q = shlex.quote
    tasks = "".join(
        f"  {i}) log={q(str(Path(cwd, spec.log_for(i))))}; cmd={q(spec.command_for(i))} ;;\n"
        for i in spec.tasks()
    )
    return f"""#!/usr/bin/env bash
# Written by dualasr.slurm: one Slurm array task = one launcher task.
cd {q(cwd)} || exit 1
[ -f ./path.sh ] && . ./path.sh
task=${{SLURM_ARRAY_TASK_ID:?this script runs as a Slurm array task}}
case $task in
{tasks}  *) echo "no task $task in this job" >&2; exit 1 ;;
esac
mkdir -p "$(dirname "$log")" || exit 1
export OMP_NUM_THREADS={num_threads}
printf '# %s\\n# Started at %s\\n#\\n' "$cmd" "$(LC_ALL=C date +%c)" > "$log" || exit 1
t0=$SECONDS
bash -c "$cmd" >> "$log" 2>&1
rc=$?
t=$((SECONDS - t0))
echo "# Accounting: time=$t threads={num_threads}" >> "$log"
echo "# Ended (code $rc) at $(LC_ALL=C date +%c), elapsed time $t seconds" >> "$log"
exit $rc
"""


def exit_codes(spec: JobSpec) -> List[Optional[int]]:
    """Each task's exit code from its log footer (the last ``# Ended (code N)`` line); None when
    the log or the footer is missing (the task never ran or was killed)."""
    codes: List[Optional[int]] = []
    for i in spec.tasks():
        code = None
        try:
            with open(spec.log_for(i), encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = FOOTER.match(line)
                    if m:
                        code = int(m.group(1))
        except OSError:
            pass
        codes.append(code)
    return codes


def _interrupt(signum, frame):  # noqa: ARG001 (signal handler signature)
    raise KeyboardInterrupt


def _submit(argv: List[str], qlog: Path) -> str:
    """Run sbatch --parsable; return the job id. sbatch's stdout/stderr go to ``qlog``."""
    proc = subprocess.run(argv, capture_output=True, text=True)
    write_atomic(qlog, f"# {shlex.join(argv)}\n{proc.stdout}{proc.stderr}# exit code {proc.returncode}\n")
    if proc.returncode != 0:
        msg = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise RuntimeError(f"sbatch failed (code {proc.returncode}): {msg[-1] if msg else ''}; see {qlog}")
    return proc.stdout.strip().split(";")[0]


def _queued(job_id: str) -> Tuple[bool, str]:
    """(still in the queue, error text). A job that squeue no longer knows has left the queue."""
    proc = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%i"], capture_output=True, text=True)
    if proc.returncode == 0:
        return bool(proc.stdout.strip()), ""
    if "Invalid job id" in proc.stderr:
        return False, ""
    return True, proc.stderr.strip()


def wait(job_id: str, poll_max: float = 10.0, give_up: float = 600.0) -> None:
    """Poll squeue until the job has left the queue (interval 0.5 s, growing to ``poll_max``).
    squeue errors are retried; after ``give_up`` seconds of nothing but errors, raise."""
    delay, errors_since = 0.5, None
    while True:
        time.sleep(delay)
        queued, err = _queued(job_id)
        if not err:
            errors_since = None
            if not queued:
                return
        else:
            errors_since = errors_since or time.time()
            print(f"{PROG}: squeue failed for job {job_id} (retrying): {err}", file=sys.stderr)
            if time.time() - errors_since > give_up:
                raise RuntimeError(f"squeue kept failing for {give_up:.0f} s: {err}")
        delay = min(poll_max, delay * 1.3)


def run(spec: JobSpec, opts: argparse.Namespace) -> int:
    """Submit ``spec`` as one Slurm array job, wait for it, report failed tasks; the exit status."""
    try:
        conf = load_conf(getattr(opts, "config", None))
        name = job_name(spec)
        flags = sbatch_flags(conf, opts, name)
    except ValueError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    cwd = str(Path.cwd())
    qdir = Path(spec.log_for(spec.start)).parent / "q"
    qdir.mkdir(parents=True, exist_ok=True)
    script = qdir / f"{name}.sh"
    write_atomic(script, job_script(spec, cwd, opts.num_threads or 1))
    script.chmod(0o755)
    for i in spec.tasks():  # a stale footer from an earlier run must not pass for this run's
        Path(spec.log_for(i)).unlink(missing_ok=True)
    argv = conf.command + flags + [
        "--parsable", array_flag(spec, opts.max_jobs_run),
        f"--output={qdir / name}.%a.out", str(script),
    ]
    old = signal.signal(signal.SIGTERM, _interrupt)
    job_id = None
    try:
        job_id = _submit(argv, qdir / f"{name}.submit.log")
        wait(job_id)
    except KeyboardInterrupt:
        if job_id:
            subprocess.run(["scancel", job_id], check=False)
            print(f"{PROG}: interrupted; cancelled Slurm job {job_id}", file=sys.stderr)
        return 130
    except (OSError, RuntimeError) as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, old)
    codes = exit_codes(spec)
    for i, rc in zip(spec.tasks(), codes):
        if rc is None:
            print(f"{PROG}: task {i} of job {job_id} left no exit status in {spec.log_for(i)} "
                  f"(cancelled, out of time/memory, or never ran); Slurm's output: {qdir / name}.{i}.out",
                  file=sys.stderr)
    return report(spec, [1 if rc is None else rc for rc in codes], PROG)
