"""Generate the embedded synthetic L2 corpus for one language.

    python -m dualasr.bin.synth --lang ko --size tiny --seed 1 --nj 2 --datadir data --wavdir wav

writes ``<datadir>/{train,dev,test}_<lang>/`` (wav.scp, utt2spk, spk2utt, text.surface, text.meaning,
utt2dur, utt2error_rate, divergence_hist.txt) and the wavs under ``<wavdir>/<set>_<lang>/``, then
prints one summary line per set. Bad arguments end with a one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from dualasr.synth.corpus import LANGS, SIZES, build


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        self.exit(2, f"{self.prog}: error: {message}\n")


def get_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="dualasr.bin.synth", description=__doc__.split("\n\n")[0])
    p.add_argument("--lang", required=True, choices=LANGS, help="language (ISO code)")
    p.add_argument("--size", default="default", choices=list(SIZES),
                   help="tiny (~60 train utts), small (~600), default (>= 2,000)")
    p.add_argument("--seed", type=int, default=1, help="same seed -> identical texts and wavs")
    p.add_argument("--nj", type=int, default=1, help="parallel synthesis processes")
    p.add_argument("--datadir", default="data", help="where the data dirs go")
    p.add_argument("--wavdir", default="wav", help="where the wavs go")
    p.add_argument("--espeak", default="espeak-ng", help="espeak-ng binary")
    return p


def main(argv: Optional[List[str]] = None) -> int:
    args = get_parser().parse_args(argv)
    try:
        summary = build(args.lang, args.size, args.seed, args.nj, args.datadir, args.wavdir, args.espeak)
    except (ValueError, RuntimeError) as e:
        print(f"dualasr.bin.synth: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
