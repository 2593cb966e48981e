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


def test_task_import_defers_scipy_signal_and_jets_alignments():
    res = _python("import sys, dualasr.tasks.dual_asr\n"
                  "print(type(sys.modules['scipy.signal']).__name__, 'scipy.stats' in sys.modules,\n"
                  "      'espnet2.gan_tts.jets' in sys.modules, 'numba' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["_Deferred", "False", "False", "False"]


def test_deferred_modules_and_class_work_on_use():
    """ESPnet's preprocessor convolves through the deferred scipy.signal; the trainer's isinstance test
    against JETS' AlignmentModule is False before the module is loaded and exact after; calling or
    subclassing the stand-in class uses the real one."""
    res = _python(
        "import sys, torch, dualasr.tasks.dual_asr\n"
        "import espnet2.train.preprocessor as P\n"
        "print(P.scipy.signal.convolve([1.0, 2.0], [1.0, 1.0]).tolist())\n"
        "from espnet2.main_funcs.calculate_all_attentions import AlignmentModule as A\n"
        "print(isinstance(torch.nn.Linear(2, 2), A), type(sys.modules['espnet2.gan_tts.jets.alignments']).__name__)\n"
        "m = A(4, 4)\n"
        "from espnet2.gan_tts.jets.alignments import AlignmentModule as R\n"
        "class Sub(A): pass\n"
        "print(isinstance(m, A), isinstance(m, R), type(m) is R, issubclass(Sub, R), isinstance(R, type))\n")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "[1.0, 3.0, 2.0]"
    assert lines[1].split() == ["False", "_Deferred"]
    assert lines[2].split() == ["True"] * 5
