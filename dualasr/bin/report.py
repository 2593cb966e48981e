"""Regenerate exp/report/ (tables, figures, README) from exp/, then print the main table and the README path.

    python -m dualasr.bin.report --expdir exp --lang_set ko=test_ko --lang_set en=test_en [--outdir exp/report]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dualasr.analysis.layout import parse_lang_sets


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--expdir", type=Path, default=Path("exp"))
    p.add_argument("--lang_set", action="append", required=True, help="LANG=TEST_SET, once per language")
    p.add_argument("--outdir", type=Path, default=None, help="default: <expdir>/report")
    p.add_argument("--do_model", default="do")
    p.add_argument("--n_boot", type=int, default=1000)
    a = p.parse_args(argv)
    # the heavy imports after the arguments: --help answers at once
    from dualasr.report.report import build_report

    try:
        lang_sets = parse_lang_sets(a.lang_set)
    except ValueError as e:
        p.error(str(e))
    try:
        readme = build_report(a.expdir, lang_sets, a.outdir, a.do_model, a.n_boot)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f"dualasr.bin.report: {e}")
    text = (readme.parent / "tables.md").read_text(encoding="utf-8")
    main_md = text.split("\n## ", 2)[1] if "\n## " in text else text
    print("## " + main_md.rstrip())
    print(f"\nReport: {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
