"""Noise and reverberation for stage 2 (see ``dualasr.augment`` for what and why).

    # simulated RIRs and recipe-made noises (train and test pools) from a training set's speakers
    python -m dualasr.bin.augment assets --train data/train_ko --out data/augment/ko --seed 1
    # a data dir passed through ESPnet's CommonPreprocessor (rir_scp / noise_scp options), one draw per utterance
    python -m dualasr.bin.augment apply --src data/train_ko --dst data/train_ko_aug --seed 1 --purpose train \\
        --rir_scp data/augment/ko/train/rirs.scp --rir_apply_prob 0.5 \\
        --noise_scp data/augment/ko/train/noises.scp --noise_apply_prob 0.5 --noise_db_range 5_20
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a_ = sub.add_parser("assets", help="simulate RIRs and make noises (train and test pools)")
    a_.add_argument("--train", type=Path, required=True, help="training data dir: babble comes from its speakers")
    a_.add_argument("--out", type=Path, required=True)
    a_.add_argument("--seed", type=int, default=1)
    a_.add_argument("--fs", type=int, default=16000)
    b = sub.add_parser("apply", help="write a data dir whose audio went through ESPnet's augmentation")
    b.add_argument("--src", type=Path, required=True)
    b.add_argument("--dst", type=Path, required=True)
    b.add_argument("--seed", type=int, default=1)
    b.add_argument("--purpose", required=True,
                   help="part of each utterance's seed (train, noisy, reverb): other purposes, other draws")
    b.add_argument("--rir_scp", type=Path)
    b.add_argument("--rir_apply_prob", type=float, default=1.0)
    b.add_argument("--noise_scp", type=Path)
    b.add_argument("--noise_apply_prob", type=float, default=1.0)
    b.add_argument("--noise_db_range", default="10", help="SNR in dB: LOW_HIGH (uniform) or one value (ESPnet's format)")
    b.add_argument("--fs", type=int, default=16000)
    b.add_argument("--copies", type=int, default=1,
                   help="augmented realisations of each utterance (ids aug<k>-<uttid> when more than one)")
    b.add_argument("--keep_clean", action="store_true",
                   help="keep the clean utterances beside the augmented ones (which are then named aug<k>-<uttid>)")
    a = p.parse_args(argv)
    from dualasr.augment import augment_dir, make_assets

    t = time.time()
    if a.cmd == "assets":
        make_assets(a.out, a.train, a.seed, a.fs)
        print(f"{a.out}: RIRs and noises (train and test pools) in {time.time() - t:.1f} s", file=sys.stderr)
    else:
        n = augment_dir(a.src, a.dst, a.seed, a.purpose, a.rir_scp, a.rir_apply_prob, a.noise_scp,
                        a.noise_apply_prob, a.noise_db_range, a.fs, a.copies, a.keep_clean)
        print(f"{a.dst}: {n} utterances augmented in {time.time() - t:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
