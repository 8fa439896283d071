"""Helpers shared by this pack's checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...assignment import Case
from ...judging.compare import compare_arrays
from ...wire import Tensor, describe_type
from ..toolkit import case_rng

VISIBLE_SEED = 2024


def rng(key: str, visible: bool) -> np.random.Generator:
    """A generator per check and visibility, stable across runs and machines."""
    return case_rng(VISIBLE_SEED, key, visible)


def case(index: int, visible: bool, parts: tuple[str, ...], inputs: Any, label: str) -> Case:
    return Case(f"{'visible' if visible else 'hidden'}-{index}", parts, visible, inputs, label)


def raised_text(got: dict) -> str:
    message = f": {got['message']}" if got.get("message") else ""
    return f"raised {got['raised']}{message}"


def expect_value_error(got: dict, what: str) -> str | None:
    """None when ``got`` (from :func:`outcome`) is a ValueError (or a subclass)."""
    if "raised" not in got:
        return f"{what} returned {got['value']!r}; expected a ValueError"
    if "ValueError" not in got["bases"]:
        return f"{what} {raised_text(got)}; expected a ValueError"
    return None


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def compare_tensor(value: Any, expected: np.ndarray, what: str) -> str | None:
    """A returned tensor against the expected values (dtype-aware tolerances)."""
    if not isinstance(value, Tensor):
        return f"{what} is {describe_type(value)}, expected a torch tensor"
    return compare_arrays(value, expected, what, allow_tensor=True)
