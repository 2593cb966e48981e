"""Gather every score.json under exp/ into exp/results.json and the tables of exp/results.md: the main
table (stage 8's joint decoding) and each branch alone (CTC greedy, attention greedy; stage 9).

    python -m dualasr.bin.results --expdir exp
"""

import argparse
import sys
from pathlib import Path

from dualasr.files import write_atomic
from dualasr.report.tables import BRANCH_TITLE, branch_table, gather, gather_branches, main_table, to_markdown, write_results_json


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--expdir", type=Path, default=Path("exp"))
    a = p.parse_args(argv)
    rows = gather(a.expdir)
    if not rows:
        raise SystemExit(f"{a.expdir}: no */decode_*/score_*/score.json to gather; run the score stage first")
    branches = gather_branches(a.expdir)
    write_results_json(a.expdir / "results.json", rows + branches)
    md = to_markdown(main_table(rows), "Error rates (%) of SO and DO models, and DO − SO")
    if branches:
        md += "\n" + to_markdown(branch_table(rows + branches), BRANCH_TITLE)
    write_atomic(a.expdir / "results.md", md)
    print(f"{a.expdir / 'results.json'}: {len(rows)} joint rows, {len(branches)} greedy rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
