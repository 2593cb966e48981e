"""Validate Kaldi-style data dirs: ``python -m dualasr.bin.validate_data_dir data/train_ko [...]``.

Prints one line per problem and exits 1 if any (a warning line, e.g. for stereo audio, does not fail); on success prints a summary line per dir.
"""

import argparse
import sys

from dualasr.data.validate import validate_data_dir


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dirs", nargs="+")
    p.add_argument("--no-audio", dest="audio", action="store_false", help="skip reading the audio")
    p.add_argument("--sample-rate", type=int, default=None, help="require this sample rate")
    a = p.parse_args(argv)
    bad = False
    for d in a.dirs:
        rep = validate_data_dir(d, check_audio=a.audio, sample_rate=a.sample_rate)
        for e in rep.errors:
            print(e, file=sys.stderr)
        for w in rep.warnings:
            print(f"WARNING: {w}", file=sys.stderr)
        if rep.ok:
            rates = ",".join(f"{r}Hz" for r in sorted(rep.sample_rates)) or "audio not checked"
            print(f"{d}: OK, {rep.n_utts} utterances, {rep.hours:.2f} h, {rates}")
        bad |= not rep.ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
