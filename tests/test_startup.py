"""Start-up: importing the task is quiet (no NLTK download attempt, nothing on stdout), ESPnet's
deferred g2p_en still works when used, and typeguard's instrumentation can be asked back."""

import os
import subprocess
import sys

import pytest

from tiny_recipe import REPO


def _python(code, **env):
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_task_import_is_quiet_and_skips_g2p_and_typeguard():
    res = _python("import sys, dualasr.tasks.dual_asr, g2p_en\n"
                  "print(type(sys.modules['g2p_en']).__name__, 'nltk' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert "[nltk_data]" not in res.stderr
    assert res.stdout.split() == ["_Deferred", "False"]  # nothing else reached stdout


def test_first_optimizer_does_not_load_g2p_en():
    """torch's first optimizer imports torch._dynamo, whose inspect.getmodule walks sys.modules."""
    res = _python("import sys, dualasr.tasks.dual_asr, torch\n"
                  "torch.optim.Adam(torch.nn.Linear(2, 2).parameters())\n"
                  "import inspect; inspect.getmodule(sys._getframe())\n"
                  "print(type(sys.modules['g2p_en']).__name__, 'nltk' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert "[nltk_data]" not in res.stderr
    assert res.stdout.split() == ["_Deferred", "False"]


def test_deferred_g2p_en_loads_on_use():
    res = _python("import dualasr.lazy_deps, g2p_en; print(g2p_en.G2p.__name__)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-1] == "G2p"


@pytest.mark.parametrize("flag, instrumented", [("1", True), ("", False)])
def test_typecheck_env_restores_typeguard(flag, instrumented):
    res = _python("import dualasr.lazy_deps, typeguard\n"
                  "print(typeguard.typechecked.__module__)", DUALASR_TYPECHECK=flag)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split()[-1] == ("typeguard" if instrumented else "dualasr.lazy_deps")
