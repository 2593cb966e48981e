"""Progress lines of a running training job, and an estimate of the training stage's remaining time.

Stage 7 starts each training job in the background and runs this beside it::

    python -m dualasr.bin.train_progress --dir exp/so_surface_en --pid 1234 --frames 398000 --outputs 1 \
        --later en:1:398000:6 en:2:398000:6 ko:1:520000:4

It reads ESPnet's ``train.log`` (:mod:`dualasr.report.trainlog`) every few seconds until the job
exits and prints, to stderr:

- once, as soon as two ``log_interval`` lines give a measured speed: the estimate for this model and
  for the whole stage (this model's rest plus the ``--later`` jobs: ``lang:outputs:train_frames:epochs``),
  scaled by training frames and epochs, a DO model (2 outputs) counted as :data:`DO_COST` SO models;
- then a progress line whenever the log moved and ``--every`` seconds have passed.

The estimate measures this machine on the first steps, so it holds for slower CPUs as well.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from dualasr.report.trainlog import TrainLog, max_epoch, parse_train_log

DO_COST = 1.4  # training time of a 2-output model per SO model: 2 x bench ratio (a), DO / (SO + SO), ~0.7


def cost(outputs: int) -> float:
    return 1.0 + (DO_COST - 1.0) * (outputs - 1)


def points(log: TrainLog) -> List[Tuple[int, float]]:
    """(train batches done, seconds since the log began) at each interval line and each epoch's end."""
    if not log.n_batch:
        return []
    pts = [((i.epoch - 1) * log.n_batch + i.last, i.seconds) for i in log.intervals]
    pts += [(e.epoch * log.n_batch, e.seconds) for e in log.epochs]
    return sorted(pts, key=lambda p: p[1])


def speed(log: TrainLog) -> Optional[float]:
    """Wall seconds per train batch, from the first logged point to the last one (start-up excluded;
    validation between epochs included). ESPnet logs every ``log_interval`` batches (by default a
    twentieth of an epoch, at least 10) and at each epoch's end."""
    pts = points(log)
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return None
    return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])


def remaining_s(log: TrainLog, epochs: int) -> Optional[float]:
    """Seconds left for this model at its measured speed."""
    s = speed(log)
    if s is None:
        return None
    return max(epochs * log.n_batch - points(log)[-1][0], 0) * s


def parse_later(items: Sequence[str]) -> List[Tuple[str, int, int, int]]:
    out = []
    for item in items:
        parts = item.split(":")
        if len(parts) != 4 or not all(p.isdigit() for p in parts[1:]):
            raise ValueError(f"--later {item!r}: expected lang:outputs:train_frames:epochs")
        out.append((parts[0], int(parts[1]), int(parts[2]), int(parts[3])))
    return out


def fmt_min(s: float) -> str:
    return f"{s / 60:.1f} min"


def stage_estimate(name: str, log: TrainLog, epochs: int, frames: int, outputs: int,
                   later: Sequence[Tuple[str, int, int, int]], parallel: int = 1) -> Optional[str]:
    """One line: this model's remaining time and the stage's (this model + the later jobs).

    With ``parallel`` jobs at a time (stage 7's ``--train_jobs``) the later jobs share the lanes: the stage
    takes about this model's rest plus the later jobs' time divided by the lanes, each at the speed measured
    here, which is already that of a job beside others."""
    left = remaining_s(log, epochs)
    s = speed(log)
    if left is None or s is None or frames <= 0:
        return None
    per_frame_epoch = s * log.n_batch / frames / cost(outputs)  # seconds per frame per epoch of an SO model
    rest = sum(per_frame_epoch * f * e * cost(o) for _, o, f, e in later) / max(parallel, 1)
    return (f"[estimate] {name}: {s:.2f} s/batch x {log.n_batch} batches x {epochs} epochs; about "
            f"{fmt_min(left)} left for it, {fmt_min(left + rest)} for the training stage "
            f"({len(later)} more job(s); measured on this machine's first steps)")


def progress_line(name: str, log: TrainLog, epochs: int) -> Optional[str]:
    pts = points(log)
    if not pts:
        return None
    done = pts[-1][0]
    epoch, batch = min(done // log.n_batch + 1, epochs), done % log.n_batch
    line = f"[progress] {name}: epoch {epoch}/{epochs}, batch {batch}/{log.n_batch}"
    if log.epochs:
        e = log.epochs[-1]
        vals = ", ".join(f"{k}={v:.3f}" for k, v in e.valid.items() if k.startswith(("acc_", "cer_ctc_")))
        line += f"; epoch {e.epoch} valid: {vals}"
    left = remaining_s(log, epochs)
    if left is not None:
        line += f"; about {fmt_min(left)} left"
    return line


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (an exited child not yet reaped, a zombie, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True, help="the model dir (its train.log and config.yaml)")
    p.add_argument("--pid", type=int, required=True, help="the training job; watching stops when it exits")
    p.add_argument("--frames", type=int, default=0, help="training frames of this model's data")
    p.add_argument("--outputs", type=int, default=1, help="outputs (decoders) of this model")
    p.add_argument("--later", nargs="*", default=[], help="jobs after this one: lang:outputs:train_frames:epochs")
    p.add_argument("--parallel", type=int, default=1, help="training jobs run at a time (stage 7's --train_jobs)")
    p.add_argument("--every", type=float, default=60.0, help="seconds between progress lines")
    p.add_argument("--poll", type=float, default=5.0, help="seconds between reads of train.log")
    a = p.parse_args(argv)
    try:
        later = parse_later(a.later)
    except ValueError as e:
        print(f"train_progress: {e}", file=sys.stderr)
        return 2
    d = Path(a.dir)
    name, estimated, last_print, last_len = d.name, False, time.time(), -1
    while alive(a.pid):
        time.sleep(a.poll)
        log = parse_train_log(d / "train.log")
        epochs = max_epoch(d)
        if not epochs:
            continue
        if not estimated and (line := stage_estimate(name, log, epochs, a.frames, a.outputs, later, a.parallel)):
            print(line, file=sys.stderr, flush=True)
            estimated, last_print = True, time.time()
        n = len(log.intervals) + len(log.epochs)
        if n != last_len and time.time() - last_print >= a.every and (line := progress_line(name, log, epochs)):
            print(line, file=sys.stderr, flush=True)
            last_print, last_len = time.time(), n
    return 0


if __name__ == "__main__":
    sys.exit(main())
