"""Every user-facing CLI answers --help without importing torch, ESPnet, scipy or matplotlib (so in
well under a second), except those whose module is also a library or whose options are ESPnet's."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "espnet", "espnet2", "matplotlib", "scipy", "torchaudio")
EXCEPTIONS = {
    "dual_asr_train": "its options are ESPnet's own parser, whose class choices import ESPnet",
    "dual_asr_inference": "also the DualSpeech2Text library module that every decoder imports",
    "analyze_cross_decoder": "stage 11's analysis; its helpers work on torch tensors at module level",
    "bench": "a developer benchmark that builds ESPnet's ASRTask model beside ours",
}
CLIS = sorted(p.stem for p in (REPO / "dualasr" / "bin").glob("*.py")
              if p.stem != "__init__" and p.stem not in EXCEPTIONS)


@pytest.mark.parametrize("cli", CLIS)
def test_help_imports_nothing_heavy(cli):
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", f"dualasr.bin.{cli}", "--help"],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "usage:" in res.stdout
    imported = {line.split("|")[-1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & set(HEAVY), f"{cli} --help imports {sorted(imported & set(HEAVY))}"
