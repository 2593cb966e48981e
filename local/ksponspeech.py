"""KsponSpeech (native Korean, dual transcription) -> data/{train,dev,test_clean,test_other}.

Reads ``scripts/{train,dev,eval_clean,eval_other}.trn`` (lines ``<path>.pcm :: <text>``, paths
relative to the corpus root) and writes ``data/train``, ``data/dev``, ``data/test_clean`` and
``data/test_other``.

- ``(X)/(Y)``: X (spelling) goes to meaning, Y (pronunciation) to surface; tags are stripped the
  same way on both sides (see :mod:`dualasr.text.kspon`; fillers ``word/`` keep the word);
- audio: each headerless 16 kHz 16-bit little-endian ``.pcm`` is converted once with soundfile to
  a wav under ``--wav_dir`` (default ``<out_dir>/local/wav_ksponspeech``), so wav.scp needs no sox;
- KsponSpeech has no speaker labels: each utterance is its own speaker (utt2spk maps id -> id).

A line that does not parse is an error naming the file and line; ``--skip_bad_lines`` drops
such lines instead and counts them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

try:
    from . import common as C
except ImportError:  # run as a script: python local/ksponspeech.py
    import common as C

from dualasr.data.datadir import Utterance
from dualasr.text.kspon import parse_kspon

PROG = "ksponspeech"
SETS = (("train", "train"), ("dev", "dev"), ("eval_clean", "test_clean"), ("eval_other", "test_other"))


def read_trn(path: Path) -> list:
    """Lines of a .trn file; UTF-8, falling back to CP949 (the encoding of the original release)."""
    raw = C.require_file(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp949")
        except UnicodeDecodeError as e:
            raise C.PrepError(f"{path}: neither UTF-8 nor CP949 ({e})") from None
        C.log(PROG, f"{path}: read as CP949")
    return text.splitlines()


def prepare(corpus_dir: Path, out_dir: Path, wav_dir: Path | None = None, nj: int = 1,
            skip_bad_lines: bool = False) -> None:
    """Write the four KsponSpeech sets under ``out_dir``."""
    corpus_dir = C.require_dir(corpus_dir, "--corpus_dir")
    wav_dir = wav_dir or out_dir / "local" / "wav_ksponspeech"
    drops: Counter = Counter()
    sets = {}
    for trn_name, name in SETS:
        trn = corpus_dir / "scripts" / f"{trn_name}.trn"
        rows = []
        for lineno, line in enumerate(read_trn(trn), 1):
            if not line.strip():
                continue
            rel, sep, text = line.partition(" :: ")
            try:
                if not sep or not rel.strip().lower().endswith(".pcm"):
                    raise ValueError("expected '<path>.pcm :: <text>'")
                surface, meaning = parse_kspon(text)
            except ValueError as e:
                if not skip_bad_lines:
                    raise C.PrepError(f"{trn}:{lineno}: {e}: {line.strip()!r}") from None
                C.log(PROG, f"skipping {trn}:{lineno}: {e}")
                drops["unparsable .trn line (--skip_bad_lines)"] += 1
                continue
            if not surface or not meaning:
                drops["empty text after removing tags"] += 1
                continue
            rel = Path(rel.strip())
            rows.append((rel.stem, corpus_dir / rel, wav_dir / rel.with_suffix(".wav"), surface, meaning))
        wavs = C.audio_entries([(src, dst) for _, src, dst, _, _ in rows], nj, raw_pcm=True)
        sets[name] = [Utterance(u, w, u, sur, mea) for (u, _, _, sur, mea), w in zip(rows, wavs)]
    C.write_sets(PROG, out_dir, sets)
    C.report_drops(PROG, drops)


def main(argv=None) -> None:
    p = C.base_parser(__doc__)
    p.add_argument("--skip_bad_lines", action="store_true", help="drop (and count) unparsable .trn lines")
    args = p.parse_args(argv)
    prepare(args.corpus_dir, args.out_dir, args.wav_dir, args.nj, args.skip_bad_lines)


if __name__ == "__main__":
    C.cli(main)
