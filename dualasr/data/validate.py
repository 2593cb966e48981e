"""Validate a Kaldi-style dual-transcription data dir.

Checks run in this order, and each problem is one line ``file:line: utterance: what is wrong``:

1. the five files exist;
2. each is UTF-8 without a carriage return (``\r``: CRLF line endings), sorted (byte order) with unique
   ids, and all files hold the same ids;
3. the text is not empty;
4. ``spk2utt`` is the inverse of ``utt2spk``;
5. the audio is readable, not empty and complete: a wav whose header promises more data than the file
   holds (a truncated copy) is an error, though libsndfile would read the samples that are there.
   Only headers are read (``soundfile.info``), never the samples, so a corpus of any size checks fast.
   Sample rate and duration are reported; audio with more than one channel is a warning (the feature
   stage downmixes it to mono, the mean of the channels).

A later check only runs when the earlier ones passed, so the first message is the real cause.
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import soundfile

from dualasr.data.datadir import DATA_FILES

PER_UTT_FILES = ("wav.scp", "utt2spk", "text.surface", "text.meaning")


@dataclass
class Report:
    errors: List[str] = field(default_factory=list)
    n_utts: int = 0
    hours: float = 0.0
    sample_rates: Dict[int, int] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _read_lines(path: Path, rep: Report) -> Optional[List[Tuple[int, str, str]]]:
    """(line number, key, value) rows of a file; UTF-8 problems become errors."""
    raw = path.read_bytes()
    rows = []
    n_cr, first_cr = raw.count(b"\r"), None
    for lineno, bline in enumerate(raw.split(b"\n"), 1):
        if not bline:
            continue
        if first_cr is None and b"\r" in bline:
            first_cr = lineno
            key = bline.split(b" ", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
            rep.errors.append(f"{path}:{lineno}: {key}: carriage return (\\r) in the line, {n_cr} in the file "
                              "(CRLF line endings? convert with dos2unix)")
        try:
            line = bline.decode("utf-8")
        except UnicodeDecodeError as e:
            key = bline.split(b" ", 1)[0].decode("utf-8", "replace")
            rep.errors.append(f"{path}:{lineno}: {key}: not UTF-8 ({e.reason} at byte {e.start})")
            continue
        key, _, value = line.partition(" ")
        rows.append((lineno, key, value))
    return rows


# libsndfile's header log says "data : 32000 (should be 16)" when the data chunk is longer than the
# file: it then reads only what is there, so nothing else tells a truncated wav from a short one.
_SHORT_DATA = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)


@dataclass
class AudioInfo:
    sample_rate: int
    duration: float  # seconds
    channels: int
    truncated: Optional[Tuple[int, int]] = None  # (data bytes the header promises, bytes present)


def audio_info(spec: str) -> AudioInfo:
    """Header facts of a wav.scp entry: a path, or a command ending in ``|`` (its output is read).

    Pipes are not checked for truncation: a program writing a wav to a pipe cannot seek back to fill in
    the header's lengths (sox leaves them at their maximum), and a failing command is an error anyway.
    """
    pipe = spec.rstrip().endswith("|")
    if pipe:
        out = subprocess.run(spec.rstrip()[:-1], shell=True, capture_output=True, check=True).stdout
        info = soundfile.info(io.BytesIO(out))
    else:
        info = soundfile.info(spec)
    truncated = None
    m = None if pipe else _SHORT_DATA.search(info.extra_info or "")
    if m and int(m.group(2)) < int(m.group(1)):
        truncated = (int(m.group(1)), int(m.group(2)))
    return AudioInfo(info.samplerate, info.frames / info.samplerate, info.channels, truncated)


def validate_data_dir(d: Path | str, check_audio: bool = True, sample_rate: Optional[int] = None) -> Report:
    d = Path(d)
    rep = Report()
    missing = [f for f in DATA_FILES if not (d / f).is_file()]
    for f in missing:
        rep.errors.append(f"{d / f}:0: -: missing file")
    if missing:
        return rep

    tables: Dict[str, List[Tuple[int, str, str]]] = {}
    for f in DATA_FILES:
        rows = _read_lines(d / f, rep)
        tables[f] = rows
        prev = None
        seen = set()
        for lineno, key, _ in rows:
            if key in seen:
                rep.errors.append(f"{d / f}:{lineno}: {key}: duplicate id")
            elif prev is not None and key.encode() < prev.encode():
                rep.errors.append(f"{d / f}:{lineno}: {key}: not sorted (comes after {prev}; sort with LC_ALL=C)")
            seen.add(key)
            prev = key
        if not rows:
            rep.errors.append(f"{d / f}:0: -: file is empty")
    if rep.errors:
        return rep

    ref_ids = [k for _, k, _ in tables["wav.scp"]]
    ref_set = set(ref_ids)
    for f in PER_UTT_FILES[1:]:
        ids = {k for _, k, _ in tables[f]}
        for lineno, key, _ in tables[f]:
            if key not in ref_set:
                rep.errors.append(f"{d / f}:{lineno}: {key}: id not in wav.scp")
        for key in sorted(ref_set - ids):
            rep.errors.append(f"{d / f}:0: {key}: id of wav.scp missing here")
    if rep.errors:
        return rep

    for f in ("text.surface", "text.meaning"):
        for lineno, key, value in tables[f]:
            if not value.strip():
                rep.errors.append(f"{d / f}:{lineno}: {key}: empty text")
    for lineno, key, value in tables["utt2spk"]:
        if not value.strip() or " " in value.strip():
            rep.errors.append(f"{d / 'utt2spk'}:{lineno}: {key}: speaker must be one token, got {value!r}")
    if rep.errors:
        return rep

    utt2spk = {k: v for _, k, v in tables["utt2spk"]}
    expected: Dict[str, List[str]] = {}
    for utt in ref_ids:
        expected.setdefault(utt2spk[utt], []).append(utt)
    got = {}
    for lineno, spk, value in tables["spk2utt"]:
        got[spk] = (lineno, value.split())
    for spk, (lineno, utts) in got.items():
        if spk not in expected:
            rep.errors.append(f"{d / 'spk2utt'}:{lineno}: {spk}: speaker not in utt2spk")
        elif utts != expected[spk]:
            diff = sorted(set(utts) ^ set(expected[spk])) or utts[:1]
            rep.errors.append(f"{d / 'spk2utt'}:{lineno}: {spk}: does not match utt2spk (e.g. {diff[0]})")
    for spk in sorted(set(expected) - set(got)):
        rep.errors.append(f"{d / 'spk2utt'}:0: {spk}: speaker of utt2spk missing here")
    if rep.errors:
        return rep

    rep.n_utts = len(ref_ids)
    if check_audio:
        total = 0.0
        multi: List[Tuple[str, int]] = []
        for lineno, key, value in tables["wav.scp"]:
            try:
                a = audio_info(value)
            except Exception as e:  # soundfile/subprocess errors carry the reason
                msg = str(e).splitlines()[0] if str(e) else type(e).__name__
                rep.errors.append(f"{d / 'wav.scp'}:{lineno}: {key}: unreadable audio {value!r} ({msg})")
                continue
            sr, dur = a.sample_rate, a.duration
            if a.truncated:
                rep.errors.append(f"{d / 'wav.scp'}:{lineno}: {key}: truncated audio {value!r} (the header "
                                  f"promises {a.truncated[0]} data bytes, the file holds {a.truncated[1]})")
                continue
            if a.channels > 1:
                multi.append((key, a.channels))
            if dur <= 0:
                rep.errors.append(f"{d / 'wav.scp'}:{lineno}: {key}: empty audio")
            if sample_rate and sr != sample_rate:
                rep.errors.append(f"{d / 'wav.scp'}:{lineno}: {key}: sample rate {sr}, expected {sample_rate}")
            rep.sample_rates[sr] = rep.sample_rates.get(sr, 0) + 1
            total += dur
        rep.hours = total / 3600
        if multi:
            rep.warnings.append(
                f"{d / 'wav.scp'}: {len(multi)} of {len(ref_ids)} utterances have more than one channel "
                f"(e.g. {multi[0][0]}: {multi[0][1]} channels); the features downmix them to mono (channel mean)")
    return rep
