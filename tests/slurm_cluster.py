"""A real one-node Slurm cluster for tests: munged + slurmctld + slurmd on this machine, as root.

Use the ``slurm_cluster`` fixture (registered in tests/conftest.py, so one cluster serves the session)::

    def test_x(slurm_cluster, tmp_path):
        subprocess.run([... "--backend", "slurm", "--config", str(slurm_cluster.launcher_conf), ...],
                       env=slurm_cluster.env)

``env`` is ``os.environ`` plus ``SLURM_CONF`` (the client commands find the cluster through it)
and ``DUALASR_SLURM_CONFIG`` (the launcher's config when ``--config`` is not given), which
points at ``launcher_conf``: a ``conf/slurm.conf``-syntax file whose flags this cluster accepts
(partition ``debug``, ``--export=ALL`` so jobs see the test's environment). So a recipe run with
``env=slurm_cluster.env`` and ``cmd_backend=slurm`` (``utils/slurm.sh`` without ``--config``)
submits to this cluster.

Everything lives in a temp dir: slurm.conf, state, spool, logs, and a private munged socket, so
nothing in /etc or /run is touched except reading /etc/munge/munge.key. The daemons run in the
foreground as children of the test process and are stopped by PID. The packages come from
``tools/slurm_up.sh`` (run as root); when they are missing or a daemon does not come up, the
fixture skips with the reason. The cluster is shared: every module that imports the fixture
uses the same one, started once, stopped after the last user.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel", "scontrol")
MUNGE_KEY = Path("/etc/munge/munge.key")

LAUNCHER_CONF = """\
# Launcher config for the test cluster (one partition, "debug"; no GPUs).
command sbatch --export=ALL
option name=* --job-name $0
option time=* --time $0
option mem=* --mem-per-cpu $0
option mem=0
option num_threads=* --cpus-per-task $0
default gpu=0
option gpu=0 -p debug
"""


class ClusterError(RuntimeError):
    """The cluster could not be started (the reason is the message)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(names) -> List[str]:
    """The names that are not found on PATH or in /usr/sbin (daemons live there)."""
    path = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"
    return [n for n in names if shutil.which(n, path=path) is None]


def _exe(name: str) -> str:
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") or name


def _mem_mb() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 1024


def slurm_conf_text(d: Path, node: str, cpus: int, mem_mb: int, ctld_port: int, slurmd_port: int) -> str:
    """slurm.conf for one node ``node`` with state, spool and logs under ``d``."""
    return f"""\
ClusterName=dualasrtest
SlurmctldHost={node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
AuthInfo=socket={d}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/slurmctld.log
SlurmdLogFile={d}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=2
InactiveLimit=0
NodeName={node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=debug Nodes={node} Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """One-node Slurm in ``workdir``. ``start()`` raises ClusterError with the reason on failure."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.conf = self.dir / "slurm.conf"
        self.launcher_conf = self.dir / "launcher_slurm.conf"
        self.node = socket.gethostname().split(".")[0]
        self.procs: Dict[str, subprocess.Popen] = {}

    @property
    def env(self) -> Dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf), "DUALASR_SLURM_CONFIG": str(self.launcher_conf)}

    def _log_tail(self, name: str, n: int = 5) -> str:
        lines: List[str] = []
        for log in (self.dir / ("munge/munged.log" if name == "munged" else f"{name}.log"),
                    self.dir / f"{name}.stdout"):
            if log.exists():
                lines += log.read_text(errors="replace").splitlines()[-n:]
        return " | ".join(lines) or "(no log)"

    def _spawn(self, name: str, argv: List[str], **kw) -> None:
        out = open(self.dir / f"{name}.stdout", "w")
        self.procs[name] = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, env=self.env, **kw)
        out.close()

    def _wait_for(self, what: str, check, timeout: float) -> None:
        t_end = time.time() + timeout
        while time.time() < t_end:
            for name, p in self.procs.items():
                if p.poll() is not None:
                    raise ClusterError(f"{name} exited with code {p.returncode}: {self._log_tail(name)}")
            if check():
                return
            time.sleep(0.2)
        raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}: "
                           f"slurmctld: {self._log_tail('slurmctld')}; slurmd: {self._log_tail('slurmd')}")

    def _node_state(self) -> str:
        p = subprocess.run(["sinfo", "-h", "-n", self.node, "-o", "%T"], capture_output=True,
                           text=True, env=self.env)
        return p.stdout.strip()

    def start(self, timeout: float = 30.0) -> "SlurmCluster":
        if os.geteuid() != 0:
            raise ClusterError("the test cluster runs its daemons as root; not root here")
        missing = _which(DAEMONS + CLIENTS)
        if missing or not MUNGE_KEY.exists():
            raise ClusterError(f"missing {', '.join(missing) or MUNGE_KEY}: run tools/slurm_up.sh as root")
        try:
            munge = pwd.getpwnam("munge")
        except KeyError:
            raise ClusterError("no 'munge' user: run tools/slurm_up.sh as root") from None
        self.dir.chmod(0o755)  # munged (user munge) must reach its socket dir below
        mdir = self.dir / "munge"
        for sub in ("state", "spool", "munge"):
            (self.dir / sub).mkdir(exist_ok=True)
        os.chown(mdir, munge.pw_uid, munge.pw_gid)
        mdir.chmod(0o755)  # munged wants its socket dir searchable by all
        self.conf.write_text(slurm_conf_text(self.dir, self.node, os.cpu_count() or 1,
                                             max(256, int(_mem_mb() * 0.9)), _free_port(), _free_port()))
        self.launcher_conf.write_text(LAUNCHER_CONF)
        sock = mdir / "munge.socket"
        self._spawn("munged", [_exe("munged"), "-F", f"--socket={sock}", f"--pid-file={mdir}/munged.pid",
                               f"--seed-file={mdir}/munged.seed", f"--log-file={mdir}/munged.log",
                               f"--key-file={MUNGE_KEY}"],
                    user=munge.pw_uid, group=munge.pw_gid, extra_groups=[])
        self._wait_for("munged's socket", sock.exists, timeout)
        self._spawn("slurmctld", [_exe("slurmctld"), "-D", "-f", str(self.conf)])
        self._spawn("slurmd", [_exe("slurmd"), "-D", "-f", str(self.conf), "-N", self.node])
        self._wait_for(f"node {self.node} to be idle (sinfo)", lambda: self._node_state() == "idle", timeout)
        return self

    def stop(self) -> None:
        """Stop the daemons this object started, by PID, slurmd first."""
        for name in reversed(list(self.procs)):
            p = self.procs.pop(name)
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


_shared: Optional[SlurmCluster] = None
_users = 0


def acquire() -> SlurmCluster:
    """Start the shared cluster on first use (raise ClusterError when it cannot start)."""
    global _shared, _users
    if _shared is None:
        cluster = SlurmCluster(Path(tempfile.mkdtemp(prefix="dualasr-slurm-")))
        try:
            cluster.start()
        except ClusterError:
            cluster.stop()
            shutil.rmtree(cluster.dir, ignore_errors=True)
            raise
        _shared = cluster
    _users += 1
    return _shared


def release() -> None:
    """Stop the shared cluster after its last user; its temp dir is removed."""
    global _shared, _users
    _users -= 1
    if _users <= 0 and _shared is not None:
        _shared.stop()
        shutil.rmtree(_shared.dir, ignore_errors=True)
        _shared, _users = None, 0


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running one-node Slurm cluster (SlurmCluster: .env, .conf, .launcher_conf); skips if none."""
    try:
        cluster = acquire()
    except ClusterError as e:
        pytest.skip(f"no Slurm test cluster: {e}")
    try:
        yield cluster
    finally:
        release()


if __name__ == "__main__":  # tools/slurm_up.sh --serve
    import signal
    import sys

    try:
        c = acquire()
    except ClusterError as e:
        sys.exit(f"slurm_cluster: {e}")
    print(f"export SLURM_CONF={c.conf}\n# launcher config for this cluster: {c.launcher_conf}\n"
          "# Ctrl-C stops the cluster", flush=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        release()
