"""readme_results: the README's results section is rebuilt from a report, and `--variants` adds a
variants report's section with its figure links pointing into that report."""

import subprocess
import sys
from pathlib import Path

import pytest


def _report(d: Path, body: str) -> Path:
    (d / "figures" / "variants").mkdir(parents=True)
    (d / "figures" / "variants" / "divergence_surface_cer.png").write_bytes(b"png")
    (d / "README.md").write_text(body, encoding="utf-8")
    (d / "tables.md").write_text("| a |\n", encoding="utf-8")
    return d


def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "dualasr.bin.readme_results", *args], cwd=cwd,
                          capture_output=True, text=True)


def test_results_and_variants_sections(tmp_path):
    demo = _report(tmp_path / "exp" / "report", "# Report\n\n## 1. SO vs DO\n\n- demo sentence.\n")
    variants = _report(tmp_path / "docs" / "variants",
                       "# Report\n\n## 1. SO vs DO\n\n- other.\n\n## 5. Dual-output variants\n\n"
                       "- In en, do_hier (surface -0.10).\n\n![d](figures/variants/divergence_surface_cer.png)\n\n"
                       "## 6. Training curves\n\n- curves.\n")
    readme = tmp_path / "README.md"
    readme.write_text("# x\n\n## Results\n\n<!-- results:begin -->\nold\n<!-- results:end -->\n\n## After\n")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo",
               "--variants", "docs/variants", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    text = readme.read_text()
    assert "old" not in text and "- demo sentence." in text and text.endswith("## After\n")
    assert "### Dual-output variants" in text and "- In en, do_hier (surface -0.10)." in text
    assert "](docs/variants/figures/variants/divergence_surface_cer.png)" in text
    assert "curves" not in text  # only the variants section is taken
    assert (tmp_path / "docs" / "demo" / "tables.md").is_file()


def test_variants_without_section_is_an_error(tmp_path):
    demo = _report(tmp_path / "r", "# Report\n\n## 1. SO vs DO\n")
    other = _report(tmp_path / "v", "# Report\n\n## 1. SO vs DO\n")
    (tmp_path / "README.md").write_text("# x\n")
    res = _run("--report", str(demo), "--readme", "README.md", "--figures", "docs/demo", "--variants", str(other),
               cwd=tmp_path)
    assert res.returncode != 0 and "no 'Dual-output variants' section" in res.stderr
