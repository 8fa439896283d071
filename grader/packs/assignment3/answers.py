"""Checks for answers: numeric answers to the two momentum questions.

The true values are not written down anywhere: :func:`weights` runs the momentum update
from the data of each question (:data:`QUESTIONS`), so a change to a question changes its
answer. An answer is accepted when it agrees with the true value to three decimals,
either truncated (the digits after the third dropped, toward zero) or rounded to the
nearest (unless a question sets ``accept_rounded=False``); a longer, unshortened value is
accepted too. A wrong answer that matches a typical slip (one update too few or too many,
the wrong sign, no momentum, ...) is told which.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from ...assignment import Check, ProbeError
from ...compare import as_float
from ...wire import describe_type
from .common import case

Gradient = Callable[[float], float]


# --- the reference: gradients of the two losses, and the momentum update -------------------

def relu_l2_gradient(x: float, d: float, half: bool = True) -> Gradient:
    """dL/dw for y = max(0, w x) and the L2 divergence L = 1/2 (y - d)^2 (without the 1/2: twice that)."""
    scale = 1.0 if half else 2.0

    def gradient(w: float) -> float:
        z = w * x
        return scale * (z - d) * x if z > 0 else 0.0    # the ReLU passes no gradient where z <= 0
    return gradient


def logistic_cross_entropy_gradient(x: float, d: float) -> Gradient:
    """dL/dw for y = 1 / (1 + exp(-w x)) and L = -d log y - (1 - d) log(1 - y): (y - d) x."""
    def gradient(w: float) -> float:
        z = w * x
        y = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return (y - d) * x
    return gradient


def weights(gradient: Gradient, w_first: float, step_first: float, beta: float, eta: float,
            last: int) -> list[float]:
    """[w(1), w(2), ..., w(last)] under momentum, starting from w(1) and the step Δw(1) that led there.

    Each update is  Δw(k) = beta Δw(k-1) - eta dL/dw(w(k-1)),  w(k) = w(k-1) + Δw(k).
    """
    w, step = float(w_first), float(step_first)
    path = [w]
    for _ in range(last - 1):
        step = beta * step - eta * gradient(w)
        w = w + step
        path.append(w)
    return path


@dataclass(frozen=True)
class MomentumQuestion:
    """One question: which weight w(k) to report after momentum updates from a given state."""

    name: str                   # the graded name, e.g. "Q1"
    gradient: Gradient          # dL/dw of the question's loss
    w_first: float              # w(1)
    step_first: float           # Δw(1), the step that led to w(1)
    beta: float
    eta: float
    asked: int                  # k of the w(k) asked for
    decimals: int = 3
    accept_rounded: bool = True  # the question says "truncate"; also accept the correctly rounded value
    misreadings: tuple[tuple[str, Gradient], ...] = ()   # (what went wrong, the gradient it implies)

    def path(self, last: int, *, beta: float | None = None, step_first: float | None = None,
             gradient: Gradient | None = None) -> list[float]:
        return weights(gradient or self.gradient, self.w_first, self.step_first if step_first is None else step_first,
                       self.beta if beta is None else beta, self.eta, last)


QUESTIONS = (
    # A ReLU unit y = max(0, w x) fitted to (x, d) = (0.5, 1) with the L2 divergence.
    MomentumQuestion("Q1", relu_l2_gradient(0.5, 1.0), w_first=1.0, step_first=0.5, beta=0.9, eta=0.1, asked=167,
                     misreadings=(("the L2 divergence is 1/2 (y - d)^2; this value comes from (y - d)^2 without "
                                   "the 1/2", relu_l2_gradient(0.5, 1.0, half=False)),)),
    # A logistic unit y = 1 / (1 + exp(-w x)) fitted to (x, d) = (-0.5, 1) with cross-entropy.
    MomentumQuestion("Q2", logistic_cross_entropy_gradient(-0.5, 1.0), w_first=0.0, step_first=0.5, beta=0.9,
                     eta=0.1, asked=167),
)


# --- comparing numbers to three decimals ---------------------------------------------------------

TRUNCATED, ROUNDED = ROUND_DOWN, ROUND_HALF_UP     # toward zero; to the nearest, halves away from zero


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
    """One module-level numeric answer, e.g. ``Q1 = 1.234``."""

    def __init__(self, question: MomentumQuestion, points: float) -> None:
        self.question = question
        self.part = f"w({question.asked}) to {question.decimals} decimals"
        self.parts = {self.part: points}
        self.modes = (TRUNCATED, ROUNDED) if question.accept_rounded else (TRUNCATED,)

    def cases(self):
        q = self.question
        # The only input is the file itself, so the one case is visible: self-check tells a
        # student whether the answer is right (the pack can compute it anyway).
        return [case(0, True, (self.part,), {"name": q.name}, f"the value of {q.name} in your file")]

    def probe(self, module, inputs):
        name = inputs["name"]
        if name not in vars(module):
            raise ProbeError(f"{name} is not defined once the file has run")
        value = vars(module)[name]
        if type(value) in (Decimal, Fraction):     # exact numbers from the standard library
            value = float(value)
        return value

    def reference(self, case):
        q = self.question
        n = q.asked
        path = q.path(n + 1)
        misses = [
            ("the sign is wrong", -path[n - 1]),
            (f"this is w({n - 1}), one update short (w({n}) is {n - 1} updates after w(1))", path[n - 2]),
            (f"this is w({n + 1}), one update too many (w({n}) is {n - 1} updates after w(1))", path[n]),
            ("this is plain gradient descent: each step must also carry beta times the previous step",
             q.path(n, beta=0.0)[n - 1]),
            (f"this starts from a standing start: the step that led to w(1) was {q.step_first:g}, not 0",
             q.path(n, step_first=0.0)[n - 1]),
        ] + [(text, q.path(n, gradient=gradient)[n - 1]) for text, gradient in q.misreadings]
        return {"value": path[n - 1], "misses": [[text, value] for text, value in misses]}

    def judge(self, case, output, reference):
        q = self.question
        number, problem = self._number(output)
        if problem:
            return {self.part: problem}
        true = reference["value"]
        if agrees(number, true, q.decimals, self.modes):
            return {self.part: None}
        shown = f"{q.name} = {number!r}"
        # Every slip that explains the number is named (several can give the same three decimals).
        slips = [text for text, value in reference["misses"] if agrees(number, value, q.decimals, self.modes)]
        slips = slips or self._shortening_slips(number, true)
        if slips:
            return {self.part: f"{shown}: " + "; or ".join(dict.fromkeys(slips))}
        return {self.part: f"{shown} does not agree with w({q.asked}) to {q.decimals} decimals"}

    def _number(self, output: Any) -> tuple[float | None, str | None]:
        name = self.question.name
        if output is None:
            return None, f"no answer yet: {name} is still None; replace None with your number"
        if isinstance(output, str):
            return None, f"{name} is the text {output[:40]!r}, not a number; remove the quotes"
        if isinstance(output, bool):
            return None, f"{name} is {output}, not a number"
        try:
            value, problem = as_float(output, name)
        except OverflowError:                      # an int with hundreds of digits
            return None, f"{name} is an integer too large for a float, not a sensible answer"
        if problem:
            kind = describe_type(output)
            return None, f"{name} is {'' if kind.startswith('a ') else 'a '}{kind}, not a single number"
        if not np.isfinite(value):
            return None, f"{name} is {value}, not a finite number"
        dtype = getattr(output, "dtype", None)
        if dtype is not None and dtype.kind == "f" and dtype.itemsize < 8:
            # A float32 -7.554 is -7.55399990... as a float64; take the digits it is written with.
            value = float(np.format_float_positional(np.asarray(output).reshape(())[()], unique=True))
        return value, None

    def _shortening_slips(self, number: float, true: float) -> list[str]:
        """Right digits, wrongly shortened: rounded in the wrong direction, or too few decimals."""
        d = self.question.decimals
        slips = []
        given = exact(number)
        truncate = f"keep {d} decimals and drop the rest (1.2349 -> 1.234, -1.2349 -> -1.234)"
        if given == shortened(true, d, ROUNDED):          # only a miss when rounding is not accepted
            slips.append(f"rounded instead of truncated: {truncate}")
        elif given in (shortened(true, d, ROUND_CEILING), shortened(true, d, ROUND_FLOOR)):
            direction = "up" if given > exact(true) else "down"
            slips.append(f"this rounds w({self.question.asked}) {direction}; truncate instead: {truncate}")
        for fewer in range(d):
            if any(given == shortened(true, fewer, mode) for mode in (TRUNCATED, ROUNDED)):
                kept = "a whole number" if fewer == 0 else f"only {fewer} decimal{'s' if fewer > 1 else ''}"
                slips.append(f"{kept}; give {d} decimals")
                break
        return slips
