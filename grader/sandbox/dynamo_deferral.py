"""Keep ``torch._dynamo`` (over a second of imports) out of a server whose children never compile.

Plain training touches torch's compiler in two places, only to stay out of its way:

* every optimizer's ``step`` runs ``import torch._dynamo`` and calls ``graph_break()``,
  which does nothing unless code is being compiled;
* some of torch's functions (an optimizer's ``add_param_group``, ``zero_grad``...) are
  wrapped by ``torch._compile._disable_dynamo``, which on the first call imports the
  compiler to build a "never compile this" wrapper and caches it on the function as
  ``__dynamo_disable``.

Importing ``torch._dynamo`` costs 1-1.3 s on the 2-core machine of BENCHMARKS.md, a third
of a cold self-check of a training task. :func:`defer` puts a stand-in in its place: its
``graph_break`` does nothing (as torch's own does outside compiled code), and each existing
``_disable_dynamo`` wrapper gets the plain function as its cache (nothing can be compiled
before the compiler is loaded). Anything else asked of the stand-in (``torch.compile``,
``torch._dynamo.config``, a submodule import) first loads the real compiler: the stand-in
leaves ``sys.modules``, the cached entries are taken away again, and from then on torch
behaves as it always does. So code that never compiles runs exactly as before, and code
that does compile pays the import when it first needs it.

This relies on details of the pinned torch (the wrapper's cache attribute); :func:`defer`
checks them on the running torch and does nothing when they differ, so another torch can
only be slower, never wrong. ``GRADER_DEFER_DYNAMO=0`` turns it off.
"""

from __future__ import annotations

import gc
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types

COMPILER = "torch._dynamo"
CACHE_ATTRIBUTE = "__dynamo_disable"

_cached: list[types.FunctionType] = []  # functions whose wrapper cache defer() set to themselves


def enabled() -> bool:
    return os.environ.get("GRADER_DEFER_DYNAMO", "1") != "0"


def defer() -> bool:
    """Put the stand-in in place of ``torch._dynamo``; True if it is in place afterwards.

    Does nothing when the compiler is loaded already, when turned off, or when torch's
    ``_disable_dynamo`` is not the one this was written for.
    """
    if is_deferred():
        return True
    if COMPILER in sys.modules or not enabled():
        return False
    import torch

    inner_code = _wrapper_code()
    spec = importlib.machinery.PathFinder.find_spec(COMPILER, torch.__path__)
    if inner_code is None or spec is None:
        return False
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType and obj.__code__ is inner_code:
            function = _closed_over(obj, "fn")
            if function is not None and getattr(function, CACHE_ATTRIBUTE, None) is None:
                setattr(function, CACHE_ATTRIBUTE, function)
                _cached.append(function)
    stand_in = _CompilerNotLoaded(COMPILER, spec)
    sys.modules[COMPILER] = stand_in
    torch._dynamo = stand_in
    sys.meta_path.insert(0, _LoadOnSubmoduleImport())
    return True


def is_deferred() -> bool:
    return isinstance(sys.modules.get(COMPILER), _CompilerNotLoaded)


def load_compiler() -> types.ModuleType:
    """Replace the stand-in by the real ``torch._dynamo`` (imported now) and return it."""
    if is_deferred():
        import torch

        while _cached:
            function = _cached.pop()
            if getattr(function, CACHE_ATTRIBUTE, None) is function:
                delattr(function, CACHE_ATTRIBUTE)
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _LoadOnSubmoduleImport)]
        del sys.modules[COMPILER]
        if isinstance(getattr(torch, "_dynamo", None), _CompilerNotLoaded):
            del torch._dynamo
    return importlib.import_module(COMPILER)


def _graph_break(msg: str = "") -> None:
    """``torch._dynamo.graph_break`` outside compiled code: it only marks a place for the compiler."""


class _CompilerNotLoaded(types.ModuleType):
    """Stands for ``torch._dynamo`` until something needs more of it than ``graph_break``."""

    def __init__(self, name: str, spec: importlib.machinery.ModuleSpec) -> None:
        super().__init__(name)
        # The real module's identity, so that tools which read these do not load the compiler.
        self.__spec__ = spec
        self.__loader__ = spec.loader
        self.__file__ = spec.origin
        self.__path__ = list(spec.submodule_search_locations or [])
        self.__package__ = name
        self.graph_break = _graph_break

    def __getattr__(self, name: str):
        return getattr(load_compiler(), name)


class _LoadOnSubmoduleImport(importlib.abc.MetaPathFinder):
    """An import of ``torch._dynamo.<anything>`` loads the real compiler first.

    The real package imports most of its submodules itself. Python's import system, which
    began this import with the stand-in as the parent, would then run the asked-for
    submodule a second time, so a submodule loaded by then is handed back as it is.
    """

    def find_spec(self, name, path, target=None):
        if not name.startswith(COMPILER + "."):
            return None
        load_compiler()
        module = sys.modules.get(name)
        if module is None:
            return None  # not imported by the package: found and loaded as usual
        # For a name in sys.modules the import system would take the module's own spec and
        # run it again; out of sys.modules for a moment, the hand-back spec is used instead.
        del sys.modules[name]
        return importlib.machinery.ModuleSpec(name, _HandBack(module))


class _HandBack(importlib.abc.Loader):
    """A loader that 'loads' a module already in memory and leaves it as it was."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module
        self.own_spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module) -> None:
        try:
            module.__spec__ = self.own_spec  # the import system set it to the hand-back spec
        except AttributeError:  # a module that refuses it also refused that
            pass


def _wrapper_code() -> types.CodeType | None:
    """The code of the wrapper ``_disable_dynamo`` makes, if it caches where this module expects."""
    try:
        from torch._compile import _disable_dynamo
    except ImportError:
        return None
    inner = [
        const
        for const in _disable_dynamo.__code__.co_consts
        if isinstance(const, types.CodeType) and const.co_name == "inner"
    ]
    if len(inner) != 1 or CACHE_ATTRIBUTE not in inner[0].co_consts or "fn" not in inner[0].co_freevars:
        return None
    return inner[0]


def _closed_over(function: types.FunctionType, variable: str):
    if function.__closure__ is None:  # no closure: nothing closed over
        return None
    try:
        return function.__closure__[function.__code__.co_freevars.index(variable)].cell_contents
    except (TypeError, ValueError, IndexError):
        return None
