"""Small helpers for writing a pack's checks (grader side); every pack may use them.

Child-side helpers for probes are in :mod:`grader.probing`."""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from ..assignment import HIDDEN_SEED
from ..judging.compare import as_floats
from ..wire import Tensor, describe_type


def case_rng(visible_seed: int, key: str, visible: bool) -> np.random.Generator:
    """A random generator per check and visibility, the same on every run and machine.

    Visible cases draw from the pack's ``visible_seed``, hidden ones from the grader's
    ``HIDDEN_SEED``, so what self-check shows never reveals a hidden input.
    """
    if not visible and HIDDEN_SEED is None:
        # A student's kit has no hidden seed: it draws throw-away inputs (self-check never runs them).
        return np.random.default_rng()
    base = visible_seed if visible else HIDDEN_SEED
    assert base is not None  # returned above when a hidden case has no seed
    return np.random.default_rng([base, zlib.crc32(key.encode())])


def compare_losses(got: Any, expected: list[float], batch_losses: list[list[float]], what: str) -> str | None:
    """A list of per-epoch mean losses against the recomputed ones, with common-mistake hints."""
    if isinstance(got, (Tensor, np.ndarray)):
        return f"{what} is {describe_type(got)}, expected a list of floats"
    if not isinstance(got, (list, tuple)):
        return f"{what} is {describe_type(got)}, expected a list of floats (one per epoch)"
    values, problem = as_floats(got, what)
    if problem:
        return problem
    assert values is not None  # as_floats gives a problem whenever it has no values
    if len(values) != len(expected):
        return f"{what} has {len(values)} entries, expected {len(expected)} (one per epoch)"
    for epoch, (value, want, losses) in enumerate(zip(values, expected, batch_losses), start=1):
        if abs(value - want) <= 1e-5 + 1e-4 * abs(want):
            continue
        if np.isclose(value, losses[-1], rtol=1e-4):
            return f"{what}[{epoch - 1}] is the last batch's loss ({value:.5g}); expected the mean over the epoch's batches ({want:.5g})"
        if np.isclose(value, sum(losses), rtol=1e-4):
            return f"{what}[{epoch - 1}] is the sum of the batch losses ({value:.5g}); expected their mean ({want:.5g})"
        return f"{what}[{epoch - 1}] is {value:.5g}; the mean batch loss of epoch {epoch} was {want:.5g}"
    return None
