"""Helpers shared by the corpus preparation scripts in ``local/``.

Every script reads one corpus in its own layout and writes Kaldi-style data dirs through
:func:`dualasr.data.datadir.write_data_dir`. Audio is referenced in place when it already is a
16 kHz mono file soundfile can read; anything else (44.1 kHz wav, headerless pcm) is converted
once to a 16 kHz 16-bit mono wav under ``--wav_dir`` and reused on later runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import unicodedata
from collections import Counter
from math import gcd
from multiprocessing import Pool
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from dualasr.data.datadir import Utterance, write_data_dir

FS = 16000
REPO = Path(__file__).resolve().parents[1]


class PrepError(Exception):
    """Bad input. The message names the file (and line or utterance) and what is wrong."""


def log(prog: str, msg: str) -> None:
    """One line to stderr, prefixed with the script name."""
    print(f"{prog}: {msg}", file=sys.stderr, flush=True)


def base_parser(doc: str) -> argparse.ArgumentParser:
    """The options every script takes: --corpus_dir, --out_dir, --wav_dir, --nj."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus_dir", type=Path, required=True, help="root of the corpus as distributed")
    p.add_argument("--out_dir", type=Path, default=Path("data"), help="where data/<set> dirs go")
    p.add_argument("--wav_dir", type=Path, default=None,
                   help="where converted 16 kHz wavs go (default: <out_dir>/local/wav_<corpus>)")
    p.add_argument("--nj", type=int, default=1, help="parallel audio conversions")
    return p


def cli(main) -> None:
    """Run ``main()``; turn a :class:`PrepError` into a one-line message and exit status 1."""
    try:
        main()
    except PrepError as e:
        print(f"{Path(sys.argv[0]).stem}: error: {e}", file=sys.stderr)
        sys.exit(1)


def require_dir(path: Path, option: str) -> Path:
    """Return ``path`` if it is a directory, else fail naming the option and the path."""
    if not Path(path).is_dir():
        raise PrepError(f"{option}: no such directory: {path}")
    return Path(path)


def require_file(path: Path) -> Path:
    """Return ``path`` if it is a file, else fail naming it."""
    if not Path(path).is_file():
        raise PrepError(f"{path}: file not found")
    return Path(path)


def make_uttid(spk: str, name: str) -> str:
    """Utterance id ``<spk>-<name>`` (kept as is when ``name`` already starts with ``<spk>-``).

    The ``-`` separator sorts before letters and digits, so utt2spk and spk2utt sort alike.
    """
    if not spk or any(c.isspace() for c in spk):
        raise PrepError(f"utterance {name}: bad speaker id {spk!r}")
    return name if name.startswith(spk + "-") else f"{spk}-{name}"


def read_table(path: Path) -> Dict[str, str]:
    """Read a Kaldi ``key value`` file whose separator may be spaces or tabs."""
    out: Dict[str, str] = {}
    with open(require_file(path), encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise PrepError(f"{path}:{lineno}: expected '<key> <value>', got {line.strip()!r}")
            if parts[0] in out:
                raise PrepError(f"{path}:{lineno}: duplicate key {parts[0]}")
            out[parts[0]] = parts[1].strip()
    return out


def load_json(path: Path):
    """Load a JSON file (a UTF-8 byte-order mark is allowed); fail naming the file."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PrepError(f"{path}: not readable JSON ({e})") from None


# ---------------------------------------------------------------------------------------- audio

def _convert(job: Tuple[str, str, bool]) -> str:
    """Write ``src`` as a 16 kHz 16-bit mono wav at ``dst`` (atomically); return ``dst``."""
    src, dst, raw = job
    dst_p = Path(dst)
    if dst_p.is_file():
        return str(dst_p.resolve())
    try:
        if raw:
            x, fs = sf.read(src, format="RAW", samplerate=FS, channels=1, subtype="PCM_16",
                            endian="LITTLE", dtype="int16")
        else:
            x, fs = sf.read(src, dtype="float64", always_2d=True)
            x = x.mean(axis=1)
            if fs != FS:
                g = gcd(FS, fs)
                x = resample_poly(x, FS // g, fs // g)
            x = np.clip(x, -1.0, 32767 / 32768)
    except (RuntimeError, ValueError) as e:
        raise PrepError(f"{src}: unreadable audio ({e})") from None
    if len(x) == 0:
        raise PrepError(f"{src}: empty audio")
    dst_p.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst_p.with_name(f".{dst_p.name}.tmp{os.getpid()}")
    sf.write(str(tmp), x, FS, subtype="PCM_16", format="WAV")
    os.replace(tmp, dst_p)
    return str(dst_p.resolve())


def audio_entries(jobs: List[Tuple[Path, Path]], nj: int = 1, raw_pcm: bool = False) -> List[str]:
    """Return the wav.scp value for each ``(src, dst)``.

    A readable 16 kHz mono ``src`` is used in place (absolute path). Anything else, and every
    headerless 16 kHz 16-bit little-endian pcm when ``raw_pcm``, is converted to ``dst`` (skipped
    when ``dst`` already exists). A missing, empty or unreadable ``src`` fails naming the file.
    """
    out: List[Optional[str]] = [None] * len(jobs)
    todo = []
    for i, (src, dst) in enumerate(jobs):
        src = Path(src)
        if not src.is_file():
            raise PrepError(f"{src}: audio file missing")
        if raw_pcm:
            size = src.stat().st_size
            if size == 0 or size % 2:
                raise PrepError(f"{src}: not 16-bit pcm ({size} bytes)")
            todo.append((i, (str(src), str(dst), True)))
            continue
        try:
            info = sf.info(str(src))
        except RuntimeError as e:
            raise PrepError(f"{src}: unreadable audio ({e})") from None
        if info.frames == 0:
            raise PrepError(f"{src}: empty audio")
        if info.samplerate == FS and info.channels == 1:
            out[i] = str(src.resolve())
        else:
            todo.append((i, (str(src), str(dst), False)))
    if nj > 1 and len(todo) > 1:
        with Pool(nj) as pool:
            done = pool.map(_convert, [j for _, j in todo], chunksize=16)
    else:
        done = [_convert(j) for _, j in todo]
    for (i, _), path in zip(todo, done):
        out[i] = path
    return out  # type: ignore[return-value]


# ---------------------------------------------------------------------------- splits and output

def carve_test_speakers(utts: List[Utterance], frac: float, seed: int) -> Tuple[List[Utterance], List[Utterance]]:
    """Split ``utts`` into (rest, test) by speaker: ``max(1, round(frac * n))`` speakers drawn with ``seed``."""
    spks = sorted({u.spk for u in utts})
    if len(spks) < 2:
        raise PrepError(f"cannot carve a speaker-disjoint test set from {len(spks)} speaker(s)")
    test = set(random.Random(seed).sample(spks, max(1, round(frac * len(spks)))))
    return [u for u in utts if u.spk not in test], [u for u in utts if u.spk in test]


def write_sets(prog: str, out_dir: Path, sets: Dict[str, List[Utterance]]) -> None:
    """Write ``out_dir/<name>`` for each set; an empty set is an error."""
    for name, utts in sets.items():
        if not utts:
            raise PrepError(f"{out_dir / name}: no utterances left to write")
        write_data_dir(out_dir / name, utts)
        log(prog, f"wrote {out_dir / name}: {len(utts)} utterances, {len({u.spk for u in utts})} speakers")


def report_drops(prog: str, drops: Counter) -> None:
    """Print how many utterances were dropped, per reason (always, also when none were)."""
    if not drops:
        log(prog, "dropped 0 utterances")
    for reason, n in sorted(drops.items()):
        log(prog, f"dropped {n} utterance(s): {reason}")


# ------------------------------------------------------------------------------ AI Hub layout

AIHUB_SPLITS = (("Training", "train"), ("Validation", "dev"))
AIHUB_LABELS, AIHUB_AUDIO = "라벨링데이터", "원천데이터"


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _child(parent: Path, pattern: str) -> Path:
    """The one sub-folder of ``parent`` whose NFC name matches ``pattern`` (folders copied from
    macOS often carry NFD Hangul names)."""
    hits = [p for p in sorted(parent.iterdir()) if p.is_dir() and re.fullmatch(pattern, _nfc(p.name))]
    if len(hits) != 1:
        what = "no" if not hits else "more than one"
        raise PrepError(f"{parent}: {what} folder matching {pattern!r}")
    return hits[0]


def aihub_layout(corpus_dir: Path) -> List[Tuple[str, Path, Path]]:
    """Return ``(set, label_dir, audio_dir)`` for ``[N.]Training`` (train) and ``[N.]Validation`` (dev)."""
    out = []
    for folder, name in AIHUB_SPLITS:
        split = _child(corpus_dir, rf"(\d+\.)?{folder}")
        out.append((name, _child(split, AIHUB_LABELS), _child(split, AIHUB_AUDIO)))
    return out


def index_wavs(audio_dir: Path) -> Dict[str, Path]:
    """Map each ``.wav`` file stem under ``audio_dir`` to its path; a repeated stem is an error."""
    index: Dict[str, Path] = {}
    for p in sorted(audio_dir.rglob("*")):
        if p.suffix.lower() == ".wav" and p.is_file():
            if p.stem in index:
                raise PrepError(f"{p}: same file name as {index[p.stem]}")
            index[p.stem] = p
    if not index:
        raise PrepError(f"{audio_dir}: no .wav files (unzip the TS_/VS_ archives first)")
    return index


def find_wav(index: Dict[str, Path], name: str, json_path: Path, audio_dir: Path) -> Path:
    """The wav for a label JSON: by its ``name`` (file name, extension optional)."""
    stem = Path(name).stem if Path(name).suffix.lower() == ".wav" else name
    if stem not in index:
        raise PrepError(f"{json_path}: audio {name} not found under {audio_dir}")
    return index[stem]


def json_files(label_dir: Path) -> Iterable[Path]:
    """All label JSONs under ``label_dir``, sorted; none is an error."""
    files = sorted(p for p in label_dir.rglob("*") if p.suffix.lower() == ".json")
    if not files:
        raise PrepError(f"{label_dir}: no .json files (unzip the TL_/VL_ archives first)")
    return files


def add_split_options(p: argparse.ArgumentParser) -> None:
    """--test_spk_frac and --seed: the speaker-disjoint test set carved from Training."""
    p.add_argument("--test_spk_frac", type=float, default=0.05,
                   help="share of the Training speakers held out as data/test")
    p.add_argument("--seed", type=int, default=0, help="seed of the test-speaker draw")


def prepare_aihub(prog: str, read_item, corpus_dir: Path, out_dir: Path, wav_dir: Optional[Path],
                  nj: int, test_spk_frac: float, seed: int, canonical_of=None) -> None:
    """Write ``out_dir/{train,dev,test}`` from an AI Hub tree.

    ``read_item(json_path, drops)`` returns ``(speaker, audio file name, surface, meaning)``, or
    None after counting the item in ``drops``. Validation becomes dev; Training becomes train
    minus a speaker-disjoint test set. ``canonical_of(meaning)``, when given, writes
    ``text.canonical``.
    """
    corpus_dir = require_dir(corpus_dir, "--corpus_dir")
    wav_dir = wav_dir or out_dir / "local" / f"wav_{prog}"
    drops: Counter = Counter()
    sets: Dict[str, List[Utterance]] = {}
    for name, label_dir, audio_dir in aihub_layout(corpus_dir):
        index = index_wavs(audio_dir)
        rows = []
        for path in json_files(label_dir):
            item = read_item(path, drops)
            if item is not None:
                spk, fname, surface, meaning = item
                wav = find_wav(index, fname, path, audio_dir)
                rows.append((make_uttid(spk, wav.stem), spk, wav, surface, meaning))
        entries = audio_entries([(wav, wav_dir / f"{u}.wav") for u, _, wav, _, _ in rows], nj)
        sets[name] = [Utterance(u, e, s, sur, mea, canonical_of(mea) if canonical_of else None)
                      for (u, s, _, sur, mea), e in zip(rows, entries)]
    sets["train"], sets["test"] = carve_test_speakers(sets["train"], test_spk_frac, seed)
    write_sets(prog, out_dir, sets)
    report_drops(prog, drops)
