"""Gather every score.json (and MDD's mdd.json) under exp/ into exp/results.json and the tables of
exp/results.md: the main table (stage 8's joint decoding), each branch alone (CTC greedy, attention
greedy; stage 9) and mispronunciation detection (MDD) of the joint decode.

    python -m dualasr.bin.results --expdir exp
"""

import argparse
import sys
from pathlib import Path

from dualasr.files import write_atomic
from dualasr.report.tables import (
    BRANCH_TITLE, ROBUST_TITLE, branch_table, clean_rows, gather, gather_branches, gather_mdd, main_table, mdd_table,
    robustness_table, to_markdown, write_results_json,
)


MDD_TITLE = ("Mispronunciation detection (surface output): precision = TR/(TR+FR), recall = TR/(TR+FA), "
             "F1 and diagnosis accuracy in %; canonical = the reading prompt (prompted) or the model's own "
             "meaning hypothesis (prompt-free)")


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
    branches = gather_branches(a.expdir)
    mdd = gather_mdd(a.expdir)
    write_results_json(a.expdir / "results.json", rows + branches + mdd)
    # the main, branch and MDD tables are of the clean test sets; the robustness sets (<test>_noisy,
    # <test>_reverb) have their own table beside the clean one
    md = to_markdown(main_table(clean_rows(rows)), "Error rates (%) of SO and DO models, and DO − SO")
    robust = robustness_table(rows)
    if robust:
        md += "\n" + to_markdown(robust, ROBUST_TITLE)
    if branches:
        md += "\n" + to_markdown(branch_table(clean_rows(rows + branches)), BRANCH_TITLE)
    if mdd:
        md += "\n" + to_markdown(mdd_table(clean_rows(mdd)), MDD_TITLE)
    write_atomic(a.expdir / "results.md", md)
    print(f"{a.expdir / 'results.json'}: {len(rows)} joint rows, {len(branches)} greedy rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
