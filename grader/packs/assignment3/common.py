"""Helpers shared by this pack's checks."""
from __future__ import annotations

import zlib
from contextlib import contextmanager
from typing import Any

import numpy as np

from ...assignment import HIDDEN_SEED, Case

VISIBLE_SEED = 2023


def rng(key: str, visible: bool) -> np.random.Generator:
    """A generator per check and visibility, stable across runs and machines."""
    base = VISIBLE_SEED if visible else HIDDEN_SEED
    return np.random.default_rng([base, zlib.crc32(key.encode())])


def case(index: int, visible: bool, parts: tuple[str, ...], inputs: Any, label: str) -> Case:
    return Case(f"{'visible' if visible else 'hidden'}-{index}", parts, visible, inputs, label)


@contextmanager
def substituted(module: Any, **replacements: Any):
    """Temporarily replace module-level names of the student's file (in the child only).

    A graded function that calls another graded function is exercised with a correct
    version of the callee, so one mistake costs only the function that has it.
    """
    saved = {name: module.__dict__.get(name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
