"""Helpers shared by this pack's checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...assignment import Case
from ..toolkit import case_rng

VISIBLE_SEED = 2023


def rng(key: str, visible: bool) -> np.random.Generator:
    """A generator per check and visibility, stable across runs and machines."""
    return case_rng(VISIBLE_SEED, key, visible)


def case(index: int, visible: bool, parts: tuple[str, ...], inputs: Any, label: str) -> Case:
    return Case(f"{'visible' if visible else 'hidden'}-{index}", parts, visible, inputs, label)
