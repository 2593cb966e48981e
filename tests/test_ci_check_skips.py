"""tools/ci_check_skips.py on real pytest JUnit reports: a skipped or missing required module fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECK = REPO / "tools" / "ci_check_skips.py"


def junit(tmp_path: Path, body: str) -> Path:
    """Run pytest on a one-file suite tests/test_cluster_x.py and return its JUnit report."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_cluster_x.py").write_text(body)
    (tmp_path / "tests" / "test_other.py").write_text("def test_ok():\n    pass\n")
    report = tmp_path / "junit.xml"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                    f"--junitxml={report}", "tests"], cwd=tmp_path, capture_output=True, check=False)
    return report


def check(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), *map(str, args)], capture_output=True, text=True)


def test_full_run_passes(tmp_path):
    report = junit(tmp_path, "def test_a():\n    pass\n")
    p = check(report, "test_cluster_x", "test_other")
    assert p.returncode == 0, p.stderr


def test_skipped_test_fails_naming_module_test_and_reason(tmp_path):
    report = junit(tmp_path, "import pytest\n\ndef test_a():\n    pass\n\n"
                             "def test_b():\n    pytest.skip('no Slurm test cluster: munged missing')\n")
    p = check(report, "test_cluster_x")
    assert p.returncode == 1
    assert "test_cluster_x: SKIPPED in CI: test_b (no Slurm test cluster: munged missing)" in p.stderr


def test_module_that_did_not_run_fails(tmp_path):
    report = junit(tmp_path, "def test_a():\n    pass\n")
    p = check(report, "test_cluster_x", "test_distributed")
    assert p.returncode == 1 and "test_distributed: no test ran" in p.stderr
    assert "test_cluster_x" not in p.stderr


def test_unreadable_report_fails(tmp_path):
    p = check(tmp_path / "missing.xml", "test_slurm")
    assert p.returncode == 1 and "missing.xml: cannot read the pytest JUnit report" in p.stderr
