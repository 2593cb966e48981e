"""Read ESPnet's ``train.log`` of a model dir: the per-interval lines, the per-epoch validation lines.

ESPnet's trainer writes, every ``log_interval`` batches, a line like
``1epoch:train:13-24batch: iter_time=..., train_time=0.629`` and, after each epoch,
``1epoch results: [train] ... time=9 minutes and 59.59 seconds, total_count=251, [valid] ... acc_surface=0.396,
cer_ctc_surface=0.278, ...``; before training it logs its batch sampler (``[train] Batch sampler: ...(N-batch=251``).
Written by hand: ESPnet keeps these numbers in its Reporter (``checkpoint.pth``) only for finished
epochs, and its tensorboard files need the tensorboard package to read; the log has them all, with
wall-clock times. Used by the report's training curves and by the training progress lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) \([\w.]+:\d+\) INFO: (.*)")
_INTERVAL = re.compile(r"^(\d+)epoch:train:(\d+)-(\d+)batch: (.*)")
_RESULTS = re.compile(r"^(\d+)epoch results: \[train\] (.*?)\[valid\] (.*)")
_NBATCH = re.compile(r"^\[train\] Batch sampler: .*\(N-batch=(\d+)")
_PAIR = re.compile(r"([\w]+)=([-+0-9.eE]+|nan|inf)")


def _floats(text: str) -> Dict[str, float]:
    return {k: float(v) for k, v in _PAIR.findall(text)}


@dataclass
class Interval:
    """``log_interval`` batches of one epoch: the batches ``first..last`` and when the line was written."""

    epoch: int
    first: int
    last: int
    seconds: float  # since the log's first line
    train_time: float  # ESPnet's mean seconds per batch over the interval


@dataclass
class Epoch:
    """One finished epoch: when its results line was written, and its validation values."""

    epoch: int
    seconds: float  # since the log's first line
    total_count: int  # train batches since training began (ESPnet's reporter counts across epochs)
    valid: Dict[str, float]
    # the epoch's training means, e.g. grad_norm and clip (ESPnet's share of steps, in %, whose gradient
    # norm exceeded grad_clip and was scaled down to it)
    train: Dict[str, float] = field(default_factory=dict)


@dataclass
class TrainLog:
    n_batch: Optional[int] = None  # train batches per epoch
    intervals: List[Interval] = field(default_factory=list)
    epochs: List[Epoch] = field(default_factory=list)
    seconds: float = 0.0  # from the first to the last timestamped line


def parse_train_log(path: Path | str) -> TrainLog:
    """The numbers of one ``train.log`` (a missing or partly written log gives what it holds so far)."""
    out = TrainLog()
    path = Path(path)
    if not path.is_file():
        return out
    start = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _STAMP.search(line)
            if not m:
                continue
            t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp() + int(m.group(2)) / 1000
            start = t if start is None else start
            out.seconds = t - start
            msg = m.group(3)
            if (i := _INTERVAL.match(msg)):
                vals = _floats(i.group(4))
                out.intervals.append(Interval(int(i.group(1)), int(i.group(2)), int(i.group(3)), t - start,
                                              vals.get("train_time", float("nan"))))
            elif (r := _RESULTS.match(msg)):
                train = re.search(r"total_count=(\d+)", r.group(2))
                valid = {k: v for k, v in _floats(r.group(3)).items() if k not in ("time", "total_count")}
                out.epochs.append(Epoch(int(r.group(1)), t - start, int(train.group(1)) if train else 0, valid,
                                        {k: v for k, v in _floats(r.group(2)).items() if k != "total_count"}))
            elif out.n_batch is None and (n := _NBATCH.match(msg)):
                out.n_batch = int(n.group(1))
    return out


def read_config(model_dir: Path | str) -> dict:
    """A model dir's training ``config.yaml`` (ESPnet writes it with the command-line overrides); ``{}``
    when it has none yet."""
    import yaml

    path = Path(model_dir) / "config.yaml"
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def max_epoch(model_dir: Path | str) -> Optional[int]:
    """``max_epoch`` of a model dir's ``config.yaml``."""
    v = read_config(model_dir).get("max_epoch")
    return int(v) if v is not None else None


def grad_clip(model_dir: Path | str) -> Optional[float]:
    """``grad_clip`` of a model dir's ``config.yaml`` (ESPnet's trainer clips the gradient norm to it)."""
    v = read_config(model_dir).get("grad_clip")
    return float(v) if v is not None else None
