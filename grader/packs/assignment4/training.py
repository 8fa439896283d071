"""Step-by-step verification of training loops that use a torch optimizer with state.

:func:`grader.judging.torchtools.analyse_training` finds the steps a training function took (one
per change of the parameters) and asks an update rule whether each was right. Its
default rule is plain SGD. Momentum and Adam keep state from step to step, so the rule
here, :class:`OptimizerRule`, replays every step with PyTorch's own optimizer on a flat
shadow copy of the parameters: it is set to the student's parameters before the step,
given the reference gradient of the batch, and stepped. The student's parameters after
the step must match. Alternative shadows, fed the same steps, name the usual mistakes
(no momentum, an optimizer created anew each epoch or each step, gradients never reset).

(The batches a training function of ``(x, lengths, y)`` batches is given are recorded by
:class:`grader.probing.training.RecordingBatches`, in the child.)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ...judging.torchtools import Step, UpdateRule

MakeOptimizer = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


class Shadow:
    """A flat float32 parameter vector with its own optimizer."""

    def __init__(self, make: MakeOptimizer) -> None:
        self.make = make
        self.param: torch.Tensor | None = None
        self.optimizer: torch.optim.Optimizer | None = None

    def restart(self) -> None:
        self.optimizer = None

    def step(self, theta: np.ndarray, grad: np.ndarray, keep: bool = True) -> np.ndarray:
        """The parameters after one optimizer step from ``theta`` with gradient ``grad``.

        With ``keep=False`` the optimizer's state (momentum, Adam's moments) is left as it was:
        a what-if step."""
        if self.param is None:
            self.param = torch.zeros(len(theta), requires_grad=True)
        if self.optimizer is None:
            self.optimizer = self.make([self.param])
        saved = None if keep else copy.deepcopy(self.optimizer.state_dict())
        with torch.no_grad():
            self.param.copy_(torch.from_numpy(np.ascontiguousarray(theta, dtype=np.float32)))
        self.param.grad = torch.from_numpy(np.array(grad, dtype=np.float32))
        self.optimizer.step()
        after = self.param.detach().numpy().copy()
        if saved is not None:
            self.optimizer.load_state_dict(saved)
        return after


@dataclass
class Alternative:
    """A plausible wrong update and what to tell the student when it matches."""

    message: str
    make: MakeOptimizer
    restart_at: Callable[[int, Step], bool] = lambda number, step: False  # recreate the optimizer here
    accumulate: bool = False  # gradients never reset

    def __post_init__(self) -> None:
        self.shadow = Shadow(self.make)


def close(after: np.ndarray, expected: np.ndarray, theta: np.ndarray) -> bool:
    return bool(np.all(np.abs(after - expected) <= 1e-6 + 2e-5 * np.abs(theta)))


# How far a correct student's gradient may differ from the replayed one by rounding alone (a
# loss written another way: cross-entropy of log-probabilities instead of their NLL, say).
GRADIENT_NOISE = (1e-9, 1e-4)  # absolute, relative


def within_noise(after: np.ndarray, expected: np.ndarray, theta: np.ndarray, low: np.ndarray, high: np.ndarray) -> bool:
    """Each entry close to ``expected``, or between the steps that gradients within rounding noise
    would give (``low``, ``high``). Adam divides by |gradient| + 1e-8: for an entry whose gradient
    is near 1e-8, rounding moves its step by a visible fraction of the learning rate."""
    tol = 1e-6 + 2e-5 * np.abs(theta)
    near = np.abs(after - expected) <= tol
    between = (after >= np.minimum(low, high) - tol) & (after <= np.maximum(low, high) + tol)
    return bool(np.all(near | between))


class OptimizerRule(UpdateRule):
    """Each step must be the one ``make``'s optimizer takes with the replayed gradient."""

    def __init__(self, make: MakeOptimizer, wanted: str, alternatives: list[Alternative]) -> None:
        self.main = Shadow(make)
        self.wanted = wanted
        self.alternatives = alternatives
        self.total: np.ndarray | None = None

    def check(self, number, step, theta, after, grad):
        self.total = grad.astype(np.float64) if self.total is None else self.total + grad
        noise = (GRADIENT_NOISE[0] + GRADIENT_NOISE[1] * np.abs(grad)).astype(np.float32)
        low = self.main.step(theta, grad - noise, keep=False)
        high = self.main.step(theta, grad + noise, keep=False)
        expected = self.main.step(theta, grad)
        guesses = []
        for alternative in self.alternatives:  # every shadow takes every step, to stay in sync
            if alternative.restart_at(number, step):
                alternative.shadow.restart()
            fed = self.total.astype(np.float32) if alternative.accumulate else grad
            guesses.append((alternative.message, alternative.shadow.step(theta, fed)))
        if within_noise(after, expected, theta, low, high):
            return None
        if np.array_equal(after, theta):
            return "the parameters did not change (is optimizer.step() called, on net.parameters()?)"
        for message, guess in guesses:
            if close(after, guess, theta):
                return message
        return f"the update is not {self.wanted} (another optimizer, learning rate or loss?)"


def first_of_epoch(number: int, step: Step) -> bool:
    return step.source is not None and step.source[2] == 0


def always(number: int, step: Step) -> bool:
    return True


def momentum_sgd(lr: float) -> OptimizerRule:
    """SGD with momentum 0.9, one optimizer for the whole run."""
    return OptimizerRule(
        lambda params: torch.optim.SGD(params, lr=lr, momentum=0.9),
        f"one SGD step with lr={lr:g} and momentum=0.9 on the mean cross-entropy",
        [
            Alternative(
                "gradients accumulate from earlier steps: call optimizer.zero_grad() before backward()",
                lambda params: torch.optim.SGD(params, lr=lr, momentum=0.9),
                accumulate=True,
            ),
            Alternative(
                "the momentum starts again at every epoch: create the optimizer once, before the epochs",
                lambda params: torch.optim.SGD(params, lr=lr, momentum=0.9),
                restart_at=first_of_epoch,
            ),
            Alternative(
                "the update has no momentum: use torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)",
                lambda params: torch.optim.SGD(params, lr=lr),
            ),
        ],
    )


def adam(lr: float) -> OptimizerRule:
    """Adam with learning rate ``lr`` and its default betas and eps, one optimizer for the run."""
    return OptimizerRule(
        lambda params: torch.optim.Adam(params, lr=lr),
        f"one Adam step with lr={lr:g} on the mean negative log-likelihood",
        [
            Alternative(
                "gradients accumulate from earlier steps: call optimizer.zero_grad() before backward()",
                lambda params: torch.optim.Adam(params, lr=lr),
                accumulate=True,
            ),
            Alternative(
                "Adam starts afresh at every step: create the optimizer once, before the loop",
                lambda params: torch.optim.Adam(params, lr=lr),
                restart_at=always,
            ),
            Alternative(
                "Adam runs with its default learning rate 0.001: pass lr=lr", lambda params: torch.optim.Adam(params)
            ),
            Alternative(
                "this is a plain SGD step: use torch.optim.Adam(net.parameters(), lr=lr)",
                lambda params: torch.optim.SGD(params, lr=lr),
            ),
        ],
    )
