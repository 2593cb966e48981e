"""Speed perturbation of a training set (stage 2), Kaldi-style: one copy of each utterance per factor.

    python -m dualasr.bin.speed_perturb --src data/train_ko --dst data/train_ko_sp --factors 0.9 1.0 1.1

Writes ``<dst>`` with ids ``sp<f>-<uttid>`` (speakers ``sp<f>-<spk>``; factor 1.0 keeps the original
ids), the same audio paths, and ``utt2speed``; the feature stage resamples each copy by its factor.
"""

import argparse
import sys
from pathlib import Path

from dualasr.data.datadir import Utterance, read_data_dir, write_data_dir, write_kaldi_map


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--src", type=Path, required=True)
    p.add_argument("--dst", type=Path, required=True)
    p.add_argument("--factors", type=float, nargs="+", required=True)
    a = p.parse_args(argv)
    for f in a.factors:
        if not 0.5 <= f <= 2.0:
            raise SystemExit(f"speed_perturb: factor {f} outside [0.5, 2.0]")
    out, speeds = [], []
    for u in read_data_dir(a.src):
        for f in a.factors:
            pre = "" if f == 1.0 else f"sp{f:g}-"
            out.append(Utterance(pre + u.uttid, u.wav, pre + u.spk, u.surface, u.meaning, u.canonical))
            speeds.append((pre + u.uttid, f"{f:g}"))
    write_data_dir(a.dst, out)
    write_kaldi_map(a.dst / "utt2speed", speeds)
    print(f"{a.dst}: {len(out)} utterances ({len(a.factors)} factors)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
