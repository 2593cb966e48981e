#!/usr/bin/env python3
"""Fail CI when a test module that must run there was skipped, or did not run at all.

    python tools/ci_check_skips.py JUNIT_XML MODULE [MODULE ...]
    e.g. python tools/ci_check_skips.py exp/ci/junit.xml test_slurm test_slurm_recipe test_distributed

JUNIT_XML is pytest's ``--junitxml`` report. For each MODULE (a test file's name without .py)
at least one test must have run, and none may have been skipped: the Slurm tests skip themselves
when the one-node cluster cannot start (tests/slurm_cluster.py), which on a developer's machine
is fine but in CI would hide a broken cluster or install. Exit status 1 with one line per problem,
0 when every module ran in full. Only the standard library is used.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Dict, List, Sequence


def module_of(classname: str) -> str:
    """``tests.test_slurm`` or ``tests.test_slurm.TestX`` -> ``test_slurm``."""
    parts = classname.split(".")
    mods = [p for p in parts if p.startswith("test_")]
    return mods[-1] if mods else parts[-1]


def check(junit_xml: str, modules: Sequence[str]) -> List[str]:
    """The problems found: lines naming the report, the module and the test."""
    try:
        root = ET.parse(junit_xml).getroot()
    except (OSError, ET.ParseError) as e:
        return [f"{junit_xml}: cannot read the pytest JUnit report: {e}"]
    ran: Dict[str, int] = defaultdict(int)
    skipped: Dict[str, List[str]] = defaultdict(list)
    for case in root.iter("testcase"):
        mod = module_of(case.get("classname", ""))
        skip = case.find("skipped")
        if skip is not None:
            skipped[mod].append(f"{case.get('name')} ({skip.get('message', '').strip()})")
        else:
            ran[mod] += 1
    problems = []
    for mod in modules:
        for test in skipped.get(mod, []):
            problems.append(f"{junit_xml}: {mod}: SKIPPED in CI: {test}")
        if not ran.get(mod) and not skipped.get(mod):
            problems.append(f"{junit_xml}: {mod}: no test ran (file missing, deselected with -m/-k, or not collected)")
        elif not ran.get(mod):
            problems.append(f"{junit_xml}: {mod}: every test was skipped")
    return problems


def main(argv: Sequence[str]) -> int:
    if len(argv) < 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    problems = check(argv[0], argv[1:])
    for line in problems:
        print(f"ci_check_skips: {line}", file=sys.stderr)
    if problems:
        print(f"ci_check_skips: FAILED: {len(problems)} problem(s); the Slurm / distributed tests must run in CI "
              "(tools/slurm_up.sh installs what they need)", file=sys.stderr)
        return 1
    print(f"ci_check_skips: OK: {', '.join(argv[1:])} ran without skips")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
