"""What runs next to student code: the probes that call it, and their tools.

This package, ``grader.wire``, ``grader.sandbox`` and each pack's ``probes.py`` are the
*child side*. They are loaded into the warm forkserver, so they are in every child that
runs student code, and a student's code can read every object in its own process. The
child side therefore holds no answer: no reference computation, no solution code, no
expected value, no hidden label. Expected results are computed in the grader's own
process (each pack's checks and ``references.py``); a probe only calls the student's
code, watches what it does, and hands back plain data.

A pack registers one probe per graded name in its ``probes.py``::

    from ...probing import probe

    @probe("task1.relu")
    def relu(module, inputs):
        return {"y": module.relu(inputs["x"])}

``module`` is the student's module (or, for a data file, its bytes) and ``inputs`` one
case's inputs, as the check's ``cases()`` made them. A check that declares stand-ins
(reference versions of other graded names, so that one bug costs one name) gets them
only when its own turn comes (see :mod:`grader.sandbox.child`); its probe takes a third
parameter, ``stand_ins``, a dict from the name in the student's file to the reference
version, empty where the grader has none to give (the student kit).

This package imports nothing of the grader side; ``tests/test_boundary.py`` checks that
the forkserver loads nothing else.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = ["ProbeError", "Probe", "probe", "probes_of", "warm", "warm_up_all", "substituted", "outcome"]


class ProbeError(Exception):
    """Raised by a probe when student code returned something unusable.

    Its message is shown as is, unlike an exception from student code, which is shown
    as "raised ...".
    """


@dataclass(frozen=True)
class Probe:
    """One graded name's probe: ``function(module, inputs[, stand_ins])``."""

    key: str
    function: Callable[..., Any]
    takes_stand_ins: bool

    def __call__(self, module: Any, inputs: Any, stand_ins: dict[str, Any]) -> Any:
        if self.takes_stand_ins:
            return self.function(module, inputs, stand_ins)
        return self.function(module, inputs)


# module name of a pack's probes.py -> graded key -> probe
_REGISTRY: dict[str, dict[str, Probe]] = {}
_WARMERS: list[Callable[[], None]] = []


def probe(key: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the probe of the graded name ``key`` of its pack."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        parameters = len(inspect.signature(function).parameters)
        if parameters not in (2, 3):
            raise TypeError(
                f"probe {key}: takes (module, inputs) or (module, inputs, stand_ins), not {parameters} parameters"
            )
        probes = _REGISTRY.setdefault(function.__module__, {})
        if key in probes:
            raise ValueError(f"two probes registered for {key} in {function.__module__}")
        probes[key] = Probe(key, function, parameters == 3)
        return function

    return register


def probes_of(module_name: str) -> dict[str, Probe]:
    """The probes a pack's probes module registered (import it first)."""
    return _REGISTRY.get(module_name, {})


def warm(function: Callable[[], None]) -> Callable[[], None]:
    """Register set-up to run once in the forkserver, before any child exists.

    For work torch does lazily on a first use (a first LSTM pass, a first optimizer
    step): each child would otherwise pay for it again. It must load no answer.
    """
    _WARMERS.append(function)
    return function


def warm_up_all() -> None:
    for function in _WARMERS:
        function()


@contextmanager
def substituted(module: Any, **replacements: Any):
    """Temporarily replace module-level names of the student's file (in the child only).

    A graded function that calls another graded function (DNNforward calls relu, say) is
    exercised with a reference version of the callee, so one mistake costs only the
    function that has it.
    """
    saved = {name: module.__dict__.get(name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def outcome(call: Callable[[], Any]) -> dict:
    """Run ``call`` and report its value or the exception it raised.

    For functions that must raise on some inputs (``ValueError`` for a kernel that does
    not fit, say): the judge then sees which exception came back instead of a failed
    case. NotImplementedError still propagates, so a blank template reads as such.
    """
    try:
        return {"value": call()}
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the judge decides what was expected
        return {
            "raised": type(exc).__name__,
            "bases": [c.__name__ for c in type(exc).__mro__],
            "message": str(exc)[:200],
        }
