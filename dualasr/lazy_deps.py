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

The same stand-in defers ``scipy.signal`` (ESPnet's preprocessor calls it only to convolve a room
response or window a frame) and ESPnet's JETS alignment module, which the trainer imports only for an
``isinstance`` test (a class stand-in answers it without the import: see :class:`_DeferredClass`).

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
import importlib.machinery
import importlib.util
from importlib.machinery import ModuleSpec

import torch  # noqa: F401  (see the module docstring)


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is used."""

    def _load(self):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)
        self.__dict__.update({k: v for k, v in real.__dict__.items() if k != "__spec__"})
        return real

    def __getattr__(self, attr: str):  # only called for attributes the stand-in lacks
        if attr == "__path__":  # the import system's "is it a package?" (a package's stand-in has one)
            raise AttributeError(attr)
        return getattr(self._load(), attr)


class _DeferredClass:
    """Stands in for a class of a deferred module that importers name at import time but use later.

    ``isinstance(x, stand_in)`` is False while the real module is not imported (no instance of its
    class can exist yet), and the real class's answer afterwards. Calling it, reading its attributes
    or subclassing it imports the real module and uses the real class.
    """

    def __init__(self, module: str, name: str):
        self._module, self._name = module, name

    def _real(self):
        mod = sys.modules.get(self._module)
        if isinstance(mod, _Deferred):
            mod = mod._load()
        return getattr(mod if mod is not None else importlib.import_module(self._module), self._name)

    def _real_if_loaded(self):
        mod = sys.modules.get(self._module)
        return None if mod is None or isinstance(mod, _Deferred) else getattr(mod, self._name)

    def __instancecheck__(self, obj) -> bool:
        real = self._real_if_loaded()
        return real is not None and isinstance(obj, real)

    def __subclasscheck__(self, cls) -> bool:
        real = self._real_if_loaded()
        return real is not None and issubclass(cls, real)

    def __mro_entries__(self, bases):
        return (self._real(),)

    def __call__(self, *args, **kwargs):
        return self._real()(*args, **kwargs)

    def __getattr__(self, attr: str):
        return getattr(self._real(), attr)


def _find_spec(name: str):
    """The spec of module ``name`` without running any package's ``__init__`` (which
    ``importlib.util.find_spec`` does for a dotted name's parents): each part is looked up on the
    file system below the previous one. An import of ``name`` itself finds the stand-in in
    ``sys.modules`` and does not import the parents either."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top) if top not in sys.modules else sys.modules[top].__spec__
    for i, part in enumerate(rest):
        if spec is None or not spec.submodule_search_locations:
            return None
        spec = importlib.machinery.PathFinder.find_spec(".".join([top, *rest[: i + 1]]),
                                                        list(spec.submodule_search_locations))
    return spec


def defer_import(name: str, classes: tuple = ()) -> None:
    """Register a stand-in for ``name`` (no-op if it is imported already or not installed), with a
    :class:`_DeferredClass` for each of ``classes`` (names that other modules import from it).

    The stand-in carries the real module's ``__file__``: ``inspect.getmodule`` (run, for one, when
    the first ``torch.optim`` optimizer imports ``torch._dynamo``) reads ``__file__`` of every
    module in ``sys.modules``, and a missing one would import the real module there.
    """
    spec = None if name in sys.modules else _find_spec(name)
    if spec is None:
        return
    module = _Deferred(name)
    module.__spec__ = ModuleSpec(name, None)
    module.__file__ = spec.origin
    if spec.submodule_search_locations is not None:
        module.__path__ = list(spec.submodule_search_locations)
    for c in classes:
        setattr(module, c, _DeferredClass(name, c))
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
# ESPnet's preprocessor does ``import scipy.signal`` (0.6 s, scipy.stats included) for functions that
# only augmentation and framing call; the trainer reaches JETS' alignment module (numba, scipy.stats)
# only for an isinstance test when it plots attentions.
defer_import("scipy.signal")
defer_import("espnet2.gan_tts.jets.alignments", classes=("AlignmentModule",))
_skip_typeguard_instrumentation()
_import_espnet_attention_quietly()
