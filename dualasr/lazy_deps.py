"""Import this module before any ESPnet module: it keeps ESPnet's start-up cheap and quiet.

ESPnet's ``espnet2.text.phoneme_tokenizer`` does ``import g2p_en`` at module level, and every ESPnet
task reaches it (through the preprocessor). g2p_en imports ``inflect`` (2.5-3.5 s here: recent
versions wrap every function in typeguard) and tries to download NLTK data, printing
``[nltk_data] Error loading ...`` on a machine without network. dualasr never tokenizes with
g2p_en, so a stand-in module is registered under its name: ``import g2p_en`` succeeds at once, and
the first attribute looked up on it imports the real module, so a user who picks ESPnet's g2p_en
tokenizer still gets it. (The standard library's ``LazyLoader`` does not serve on Python 3.11:
the import statement itself reads ``__spec__`` of a module found in ``sys.modules``, which
already runs the deferred module.)

ESPnet decorates most of its classes and functions with typeguard's ``@typechecked``, which
re-parses and re-compiles each one when its module is imported: about 500 ``compile`` calls and
4-5 s of every dualasr process's start-up on these 2 cores. typeguard itself makes the decorator a
no-op under ``python -O``; here it is made a no-op for ESPnet's imports the same way, unless
``DUALASR_TYPECHECK=1`` asks for ESPnet's run-time type checks (a debugging aid: they never change
what a correct call computes).

ESPnet's attention module prints "Failed to import Flash Attention, using ESPnet default" to
standard output when flash_attn is absent (always, on a CPU): it is imported here with that line
sent to the debug log, so a CLI's standard output holds only what the CLI writes.

torch is imported first because importing torch walks ``sys.modules`` and touches every module in
it, which would run a deferred module at once.
"""

import contextlib
import importlib
import io
import logging
import os
import sys
import types
from importlib.machinery import ModuleSpec

import torch  # noqa: F401  (see the module docstring)


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is used."""

    def __getattr__(self, attr: str):  # only called for attributes the stand-in lacks
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update({k: v for k, v in real.__dict__.items() if k != "__spec__"})
        return getattr(real, attr)


def defer_import(name: str) -> None:
    """Register a stand-in for ``name`` (no-op if it is imported already or not installed).

    The stand-in carries the real module's ``__file__``: ``inspect.getmodule`` (run, for one, when
    the first ``torch.optim`` optimizer imports ``torch._dynamo``) reads ``__file__`` of every
    module in ``sys.modules``, and a missing one would import the real module there.
    """
    spec = None if name in sys.modules else importlib.util.find_spec(name)
    if spec is None:
        return
    module = _Deferred(name)
    module.__spec__ = ModuleSpec(name, None)
    module.__file__ = spec.origin
    sys.modules[name] = module


def _skip_typeguard_instrumentation() -> None:
    """Make ``typeguard.typechecked`` return its target unchanged, as it does under ``python -O``."""
    if os.environ.get("DUALASR_TYPECHECK") == "1" or "espnet2" in sys.modules:
        return
    import typeguard

    def typechecked(target=None, **_options):
        return target if target is not None else (lambda f: f)

    typeguard.typechecked = typechecked


def _import_espnet_attention_quietly() -> None:
    if "espnet.nets.pytorch_backend.transformer.attention" in sys.modules:
        return
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        import espnet.nets.pytorch_backend.transformer.attention  # noqa: F401
    if buf.getvalue().strip():
        logging.getLogger(__name__).debug("espnet: %s", buf.getvalue().strip())


defer_import("g2p_en")
_skip_typeguard_instrumentation()
_import_espnet_attention_quietly()
