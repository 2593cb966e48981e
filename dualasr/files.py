"""General file helpers: atomic writes and the one CSV writer of every table dualasr writes."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Mapping, Sequence, Union

Row = Union[Sequence[object], Mapping[str, object]]


def write_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary name and a rename: never half-written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_wav_atomic(path: Path | str, x, fs: int, subtype: str = "PCM_16") -> None:
    """Write the waveform ``x`` as a WAV file at ``path`` through a temporary name and a rename."""
    import soundfile  # here, not at the top: files.py is imported by CLIs that never touch audio

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.wav")
    soundfile.write(tmp, x, fs, subtype=subtype, format="WAV")
    os.replace(tmp, path)


def csv_text(header: Sequence[str], rows: Sequence[Row]) -> str:
    """CSV text: ``header``, then one line per row. A row is a sequence of values in header order,
    or a mapping looked up by the header's names (a missing name is an empty cell).

    >>> csv_text(["a", "b"], [[1, "x"], {"b": 2}])
    'a,b\\n1,x\\n,2\\n'
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header] if isinstance(r, Mapping) else r)
    return buf.getvalue()
