"""Read and write Kaldi-style dual-transcription data dirs.

A data dir holds ``wav.scp``, ``utt2spk``, ``spk2utt``, ``text.surface`` and ``text.meaning``:
one ``<uttid> <value>`` line per utterance, sorted by id (``LC_ALL=C`` byte order, as Kaldi's
tools expect). Every corpus' preparation builds a list of :class:`Utterance` and calls
:func:`write_data_dir`; nothing else writes these files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Tuple

from dualasr.files import write_atomic

DATA_FILES = ("wav.scp", "utt2spk", "spk2utt", "text.surface", "text.meaning")


@dataclass(frozen=True)
class Utterance:
    """One utterance of a dual-transcription corpus.

    ``wav`` is a path or a Kaldi pipe/extended filename (``sox ... - |``).
    """

    uttid: str
    wav: str
    spk: str
    surface: str
    meaning: str


def write_kaldi_map(path: Path | str, items: Iterable[Tuple[str, str]]) -> None:
    """Write ``key value`` lines sorted by key (byte order), atomically."""
    rows = sorted(items, key=lambda kv: kv[0].encode("utf-8"))
    write_atomic(path, "".join(f"{k} {v}\n" for k, v in rows))


def read_kaldi_map(path: Path | str) -> Dict[str, str]:
    """Read ``key value`` lines (value may hold spaces or be empty) into an ordered dict."""
    out: Dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            key, _, value = line.partition(" ")
            if key in out:
                raise ValueError(f"{path}:{lineno}: duplicate id {key}")
            out[key] = value
    return out


def write_data_dir(path: Path | str, utts: List[Utterance]) -> None:
    """Write the five files of a data dir for ``utts``. Ids must be unique and contain no space."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    seen = set()
    for u in utts:
        if not u.uttid or " " in u.uttid or u.uttid in seen:
            raise ValueError(f"{path}: bad or duplicate utterance id {u.uttid!r}")
        seen.add(u.uttid)
        for field in ("surface", "meaning"):
            if "\n" in getattr(u, field):
                raise ValueError(f"{path}: utterance {u.uttid}: newline in text.{field}")
    write_kaldi_map(path / "wav.scp", [(u.uttid, u.wav) for u in utts])
    write_kaldi_map(path / "utt2spk", [(u.uttid, u.spk) for u in utts])
    write_kaldi_map(path / "text.surface", [(u.uttid, u.surface) for u in utts])
    write_kaldi_map(path / "text.meaning", [(u.uttid, u.meaning) for u in utts])
    spk2utt: Dict[str, List[str]] = {}
    for u in sorted(utts, key=lambda u: u.uttid.encode("utf-8")):
        spk2utt.setdefault(u.spk, []).append(u.uttid)
    write_kaldi_map(path / "spk2utt", [(s, " ".join(ids)) for s, ids in spk2utt.items()])


def read_data_dir(path: Path | str) -> List[Utterance]:
    """Read a data dir written by :func:`write_data_dir` back into utterances."""
    path = Path(path)
    wav = read_kaldi_map(path / "wav.scp")
    spk = read_kaldi_map(path / "utt2spk")
    sur = read_kaldi_map(path / "text.surface")
    mea = read_kaldi_map(path / "text.meaning")
    return [Utterance(u, wav[u], spk[u], sur[u], mea[u]) for u in wav]
