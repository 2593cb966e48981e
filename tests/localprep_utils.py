"""Helpers for the tests of the corpus preparation scripts in ``local/``."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]


def load(name: str):
    """Import ``local/<name>.py`` as ``local.<name>`` (``local/`` is a folder of scripts, not installed)."""
    if "local" not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            "local", ROOT / "local" / "__init__.py", submodule_search_locations=[str(ROOT / "local")])
        module = importlib.util.module_from_spec(spec)
        sys.modules["local"] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"local.{name}")


def tone(path: Path, fs: int = 16000, seconds: float = 0.2, freq: float = 440.0) -> Path:
    """Write a short sine tone as a 16-bit wav at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(fs * seconds)) / fs
    sf.write(str(path), 0.3 * np.sin(2 * np.pi * freq * t), fs, subtype="PCM_16", format="WAV")
    return path


def lines(path: Path) -> list:
    """The lines of a text file."""
    return Path(path).read_text(encoding="utf-8").splitlines()


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``python local/<name>.py ARGS`` from the repo root, as a recipe would."""
    return subprocess.run([sys.executable, str(ROOT / "local" / f"{name}.py"), *args],
                          capture_output=True, text=True, cwd=ROOT)
