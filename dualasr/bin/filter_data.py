"""Drop too-short and too-long utterances from a feature dir (the filter stage).

``python -m dualasr.bin.filter_data --src dump/fbank/org/train_ko --dst dump/fbank/train_ko
--min_frames 20 --max_frames 3000 [--surface_token_type word]`` keeps an utterance when its frame
count lies in the range and each transcription fits the CTC constraint (tokens <= frames after 4x
subsampling). Tokens are counted as the output's tokenizer makes them: characters (spaces included,
as ESPnet's char tokenizer emits ``<space>``; jamo with ``--decompose_hangul``) or, for ``word``
(space-separated phones), whitespace-separated tokens; bpe is bounded by its characters. It writes
the kept subset of every per-utterance file, a fresh ``spk2utt``, and prints the count dropped per reason.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import unicodedata
from collections import Counter
from pathlib import Path

from dualasr.data.datadir import read_kaldi_map, write_kaldi_map

PER_UTT = ("feats.scp", "feats_shape", "utt2spk", "text.surface", "text.meaning", "text.canonical", "wav.scp")


def n_tokens(text: str, token_type: str, form: str) -> int:
    """How many tokens the output's tokenizer makes of ``text`` (an upper bound for bpe)."""
    if token_type == "word":
        return len(text.split())
    return len(unicodedata.normalize(form, text))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--src", type=Path, required=True)
    p.add_argument("--dst", type=Path, required=True)
    p.add_argument("--min_frames", type=int, default=20)
    p.add_argument("--max_frames", type=int, default=3000)
    p.add_argument("--subsampling", type=int, default=4)
    p.add_argument("--decompose_hangul", action="store_true", help="count jamo (NFD), as the jamo tokenizer does")
    for o in ("surface", "meaning"):
        p.add_argument(f"--{o}_token_type", default="char", choices=["char", "bpe", "unigram", "word"],
                       help=f"how the {o} output is tokenized (word: space-separated tokens)")
    a = p.parse_args(argv)
    form = "NFD" if a.decompose_hangul else "NFC"
    shapes = {k: int(v.split(",")[0]) for k, v in read_kaldi_map(a.src / "feats_shape").items()}
    texts = {o: read_kaldi_map(a.src / f"text.{o}") for o in ("surface", "meaning")}
    dropped = Counter()
    keep = []
    for uttid, n in shapes.items():
        if n < a.min_frames:
            dropped[f"shorter than {a.min_frames} frames"] += 1
        elif n > a.max_frames:
            dropped[f"longer than {a.max_frames} frames"] += 1
        elif any(n_tokens(t[uttid], getattr(a, f"{o}_token_type"), form) > n // a.subsampling
                 for o, t in texts.items()):
            dropped["more tokens than frames after subsampling"] += 1
        else:
            keep.append(uttid)
    if not keep:
        raise SystemExit(f"{a.src}: every utterance was filtered out ({dict(dropped)})")
    a.dst.mkdir(parents=True, exist_ok=True)
    keep_set = set(keep)
    for name in PER_UTT:
        if (a.src / name).is_file():
            rows = read_kaldi_map(a.src / name)
            write_kaldi_map(a.dst / name, [(k, v) for k, v in rows.items() if k in keep_set])
    utt2spk = read_kaldi_map(a.dst / "utt2spk")
    spk2utt: dict = {}
    for utt, spk in utt2spk.items():
        spk2utt.setdefault(spk, []).append(utt)
    write_kaldi_map(a.dst / "spk2utt", [(s, " ".join(u)) for s, u in spk2utt.items()])
    for name in ("cmvn.npz", "feats_dim", "augmentation.json"):  # the last: dualasr.augment.RECORD
        if (a.src / name).is_file():
            shutil.copyfile(a.src / name, a.dst / name)
    reasons = ", ".join(f"{n} {r}" for r, n in dropped.items()) or "none"
    print(f"{a.src.name}: kept {len(keep)} of {len(shapes)} utterances; dropped: {reasons}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
