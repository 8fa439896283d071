"""Helpers shared by this pack's checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...assignment import Case
from ...wire import Opaque, Tensor, describe_type
from ..toolkit import case_rng

VISIBLE_SEED = 2021


def rng(key: str, visible: bool) -> np.random.Generator:
    """A generator per check and visibility, stable across runs and machines."""
    return case_rng(VISIBLE_SEED, key, visible)


def case(key: str, index: int, visible: bool, parts: tuple[str, ...], inputs: Any, label: str) -> Case:
    return Case(f"{'visible' if visible else 'hidden'}-{index}", parts, visible, inputs, label)


def shape_text(*arrays: np.ndarray) -> str:
    return ", ".join(f"{tuple(a.shape)} {a.dtype}" for a in arrays)


def pair(value: Any, what: str) -> tuple[tuple | None, str | None]:
    """Expect a 2-tuple (or list) like (logits, cache)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return tuple(value), None
    if isinstance(value, (tuple, list)):
        return None, f"{what} returned {len(value)} values, expected 2"
    return None, f"{what} returned {describe_type(value)}, expected a pair"


def is_module_description(value: Any) -> bool:
    return isinstance(value, dict) and "leaves" in value


def not_a_module(value: Any, what: str) -> str:
    if isinstance(value, Opaque):
        return f"{what} returned {describe_type(value)}, not an nn.Module"
    if isinstance(value, Tensor):
        return f"{what} returned a tensor, not an nn.Module"
    return f"{what} returned {describe_type(value)}, not an nn.Module"
