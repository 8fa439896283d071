"""Small helpers for writing a pack's checks; every pack may use them."""
from __future__ import annotations

import zlib
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..assignment import HIDDEN_SEED


def case_rng(visible_seed: int, key: str, visible: bool) -> np.random.Generator:
    """A random generator per check and visibility, the same on every run and machine.

    Visible cases draw from the pack's ``visible_seed``, hidden ones from the grader's
    ``HIDDEN_SEED``, so what self-check shows never reveals a hidden input.
    """
    if not visible and HIDDEN_SEED is None:
        # A student's kit has no hidden seed: it draws throw-away inputs (self-check never runs them).
        return np.random.default_rng()
    base = visible_seed if visible else HIDDEN_SEED
    return np.random.default_rng([base, zlib.crc32(key.encode())])


@contextmanager
def substituted(module: Any, **replacements: Any):
    """Temporarily replace module-level names of the student's file (in the child only).

    A graded function that calls another graded function (DNNforward calls relu, say) is
    exercised with a correct version of the callee, so one mistake costs only the
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
