"""Checks for answers: numeric answers to the two momentum questions.

The true values are not written down anywhere: references.py runs the momentum update
from the data of each question, so a change to a question changes its answer. They are
computed in the grader's process only, never in a child and never in the student kit:
self-check says whether an answer is a finite number, and only grading says whether it
is right. An answer is accepted when it agrees with the true value to three decimals,
either truncated (the digits after the third dropped, toward zero) or rounded to the
nearest (unless a question sets ``accept_rounded=False``); a longer, unshortened value is
accepted too. A wrong answer that matches a typical slip (one update too few or too many,
the wrong sign, no momentum, ...) is told which.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any, cast

import numpy as np

from ...assignment import Check, Credit
from ...judging.compare import as_float
from ...wire import describe_type
from . import references
from .common import case

# --- comparing numbers to three decimals ---------------------------------------------------------

TRUNCATED, ROUNDED = ROUND_DOWN, ROUND_HALF_UP  # toward zero; to the nearest, halves away from zero


def exact(value: float) -> Decimal:
    """The decimal a float is written as (2.001, not 2.000999999999999889...)."""
    return Decimal(repr(float(value)))


def shortened(value: float, decimals: int, rounding: str) -> Decimal:
    """``value`` cut to ``decimals`` decimals with a decimal rounding mode (exact, no binary noise)."""
    return exact(value).quantize(Decimal(1).scaleb(-decimals), rounding=rounding)


def agrees(got: float, true: float, decimals: int, modes: tuple[str, ...] = (TRUNCATED, ROUNDED)) -> bool:
    """Same digits up to ``decimals`` decimals when both are shortened the same way (one of ``modes``)."""
    return any(shortened(got, decimals, mode) == shortened(true, decimals, mode) for mode in modes)


# --- the check ---------------------------------------------------------------------------------


class Answer(Check):
    """One module-level numeric answer, e.g. ``Q1 = 1.234``: w(``asked``) to ``decimals`` decimals."""

    def __init__(self, name: str, asked: int, points: float, decimals: int = 3, accept_rounded: bool = True) -> None:
        self.name, self.asked, self.decimals = name, asked, decimals
        self.part = f"w({asked}) to {decimals} decimals"
        self.parts = {self.part: points}
        self.graded_only = frozenset({self.part})  # self-check holds no true answer to compare with
        self.modes = (TRUNCATED, ROUNDED) if accept_rounded else (TRUNCATED,)

    def cases(self):
        # The only input is the file itself. The visible case checks that the answer is a
        # number (self-check can say no more without giving the answer away); the hidden
        # case, the same file, checks its value.
        return [
            case(0, True, (self.part,), {"name": self.name}, f"{self.name} in your file (is it a number?)"),
            case(0, False, (self.part,), {"name": self.name}, f"the value of {self.name} in your file"),
        ]

    def reference(self, case):
        return references.momentum_answer(self.name, self.asked) if not case.visible else None

    def judge(self, case, output, reference):
        number, problem = self._number(output)
        if problem:
            return {self.part: problem}
        if case.visible:
            return {
                self.part: Credit(
                    1.0, f"{self.name} is a number; whether it is w({self.asked}) is checked only when graded"
                )
            }
        true = reference["value"]
        if agrees(number, true, self.decimals, self.modes):
            return {self.part: None}
        shown = f"{self.name} = {number!r}"
        # Every slip that explains the number is named (several can give the same three decimals).
        slips = [text for text, value in reference["misses"] if agrees(number, value, self.decimals, self.modes)]
        slips = slips or self._shortening_slips(number, true)
        if slips:
            return {self.part: f"{shown}: " + "; or ".join(dict.fromkeys(slips))}
        return {self.part: f"{shown} does not agree with w({self.asked}) to {self.decimals} decimals"}

    def _number(self, output: Any) -> tuple[float | None, str | None]:
        name = self.name
        if output is None:
            return None, f"no answer yet: {name} is still None; replace None with your number"
        if isinstance(output, str):
            return None, f"{name} is the text {output[:40]!r}, not a number; remove the quotes"
        if isinstance(output, bool):
            return None, f"{name} is {output}, not a number"
        try:
            value, problem = as_float(output, name)
        except OverflowError:  # an int with hundreds of digits
            return None, f"{name} is an integer too large for a float, not a sensible answer"
        if problem:
            kind = describe_type(output)
            return None, f"{name} is {'' if kind.startswith('a ') else 'a '}{kind}, not a single number"
        assert value is not None  # as_float gives a problem whenever it has no value
        if not np.isfinite(value):
            return None, f"{name} is {value}, not a finite number"
        dtype = getattr(output, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            # A float32 -7.554 is -7.55399990... as a float64; take the digits it is written with.
            # (Indexing a 0-d array with () gives the numpy scalar, whose own precision sets the digits.)
            scalar = cast("np.floating[Any]", np.asarray(output).reshape(())[()])
            value = float(np.format_float_positional(scalar, unique=True))
        return value, None

    def _shortening_slips(self, number: float, true: float) -> list[str]:
        """Right digits, wrongly shortened: rounded in the wrong direction, or too few decimals."""
        d = self.decimals
        slips = []
        given = exact(number)
        truncate = f"keep {d} decimals and drop the rest (1.2349 -> 1.234, -1.2349 -> -1.234)"
        if given == shortened(true, d, ROUNDED):  # only a miss when rounding is not accepted
            slips.append(f"rounded instead of truncated: {truncate}")
        elif given in (shortened(true, d, ROUND_CEILING), shortened(true, d, ROUND_FLOOR)):
            direction = "up" if given > exact(true) else "down"
            slips.append(f"this rounds w({self.asked}) {direction}; truncate instead: {truncate}")
        for fewer in range(d):
            if any(given == shortened(true, fewer, mode) for mode in (TRUNCATED, ROUNDED)):
                kept = "a whole number" if fewer == 0 else f"only {fewer} decimal{'s' if fewer > 1 else ''}"
                slips.append(f"{kept}; give {d} decimals")
                break
        return slips
