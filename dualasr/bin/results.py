"""Gather every score.json (and MDD's mdd.json) under exp/ into exp/results.json, and the main
table and the mispronunciation-detection (MDD) table into exp/results.md.

    python -m dualasr.bin.results --expdir exp
"""

import argparse
import sys
from pathlib import Path

from dualasr.files import write_atomic
from dualasr.report.tables import gather, gather_mdd, main_table, mdd_table, to_markdown, write_results_json


MDD_TITLE = ("Mispronunciation detection (surface output): precision = TR/(TR+FR), recall = TR/(TR+FA), "
             "F1 and diagnosis accuracy in %; canonical = the reading prompt (prompted) or the model's own "
             "meaning hypothesis (prompt-free)")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--expdir", type=Path, default=Path("exp"))
    a = p.parse_args(argv)
    rows = gather(a.expdir)
    if not rows:
        raise SystemExit(f"{a.expdir}: no */decode_*/score_*/score.json to gather; run the score stage first")
    mdd = gather_mdd(a.expdir)
    write_results_json(a.expdir / "results.json", rows + mdd)
    md = to_markdown(main_table(rows), "Error rates (%) of SO and DO models, and DO − SO")
    if mdd:
        md += "\n" + to_markdown(mdd_table(mdd), MDD_TITLE)
    write_atomic(a.expdir / "results.md", md)
    print(f"{a.expdir / 'results.json'}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
