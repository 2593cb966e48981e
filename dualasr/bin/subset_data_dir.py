"""Split a data dir in two by speaker (e.g. carve a dev set out of train).

``python -m dualasr.bin.subset_data_dir --src data/train --dst_a data/train_nodev --dst_b data/dev
--spk_frac 0.1 --seed 0`` draws ``max(1, round(spk_frac * speakers))`` speakers with ``--seed``
(from the byte-sorted speaker list, so the draw depends only on the speakers and the seed) and
writes their utterances to ``--dst_b``, everyone else's to ``--dst_a``. No speaker is in both.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import List, Tuple

from dualasr.data.datadir import Utterance, read_data_dir, write_data_dir

PROG = "subset_data_dir"


def split_by_speaker(utts: List[Utterance], spk_frac: float, seed: int) -> Tuple[List[Utterance], List[Utterance]]:
    """Return ``(rest, drawn)``: the drawn speakers' utterances and the others'."""
    spks = sorted({u.spk for u in utts}, key=lambda s: s.encode("utf-8"))
    if len(spks) < 2:
        raise ValueError(f"cannot split {len(spks)} speaker(s) into two speaker-disjoint sets")
    if not 0.0 < spk_frac < 1.0:
        raise ValueError(f"--spk_frac must lie strictly between 0 and 1, got {spk_frac}")
    n = min(max(1, round(spk_frac * len(spks))), len(spks) - 1)
    drawn = set(random.Random(seed).sample(spks, n))
    return [u for u in utts if u.spk not in drawn], [u for u in utts if u.spk in drawn]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--src", type=Path, required=True, help="data dir to split")
    p.add_argument("--dst_a", type=Path, required=True, help="gets the speakers not drawn (e.g. data/train_nodev)")
    p.add_argument("--dst_b", type=Path, required=True, help="gets the drawn speakers (e.g. data/dev)")
    p.add_argument("--spk_frac", type=float, required=True, help="share of the speakers drawn into --dst_b")
    p.add_argument("--seed", type=int, default=0, help="seed of the speaker draw")
    a = p.parse_args(argv)
    try:
        try:
            utts = read_data_dir(a.src)
        except KeyError as e:
            raise ValueError(f"utterance {e.args[0]} is in wav.scp but not in utt2spk, text.surface "
                             f"or text.meaning") from None
        if not utts:
            raise ValueError("no utterances")
        rest, drawn = split_by_speaker(utts, a.spk_frac, a.seed)
    except FileNotFoundError as e:
        print(f"{PROG}: error: {e.filename}: file not found", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:
        msg = str(e) if str(a.src) in str(e) else f"{a.src}: {e}"
        print(f"{PROG}: error: {msg}", file=sys.stderr)
        return 1
    write_data_dir(a.dst_a, rest)
    write_data_dir(a.dst_b, drawn)
    for d, part in ((a.dst_a, rest), (a.dst_b, drawn)):
        spks = sorted({u.spk for u in part})
        shown = " ".join(spks) if len(spks) <= 10 else f"{' '.join(spks[:10])} ..."
        print(f"{PROG}: {a.src} -> {d}: {len(part)} utterances, {len(spks)} speakers ({shown})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
