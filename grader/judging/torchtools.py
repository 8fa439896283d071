"""Grader side: judging networks and training runs that a child recorded.

* :func:`structure_problems` compares the layers a student's network ran (traced in the
  child by :func:`grader.probing.nets.canonical_forward`) with the reference's.
* :func:`analyse_training` replays each recorded step of a training function
  (:mod:`grader.probing.training` recorded them) with the reference loss and asks an
  :class:`UpdateRule` whether it was right (default: one plain SGD step), then
  recomputes losses and accuracies at the recorded parameters (:class:`Replayer`).

Nothing here is loaded into a child: it computes expected values.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from grader.probing.nets import PARAMETRISED, group_of


def structure_problems(student: list[dict], reference: list[dict]) -> list[str]:
    """How the student's parametrised layers differ from the reference's, group by group."""

    def grouped(leaves: list[dict]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for leaf in leaves:
            if leaf["type"] in PARAMETRISED:
                out.setdefault(group_of(leaf["type"], leaf["config"]), []).append(leaf)
        return out

    got, want = grouped(student), grouped(reference)
    problems = []
    for group in sorted(set(got) | set(want)):
        mine, theirs = got.get(group, []), want.get(group, [])
        if len(mine) != len(theirs):
            problems.append(f"found {len(mine)} {group} layer(s) in use, expected {len(theirs)}")
            continue
        for index, (leaf, ref) in enumerate(zip(mine, theirs), start=1):
            for name, expected in ref["config"].items():
                if leaf["config"].get(name) != expected:
                    problems.append(
                        f"{group} #{index}: {name}={_show(leaf['config'].get(name))}, expected {_show(expected)}"
                    )
    return problems


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


# --- parent side: analysing a recorded training run ---------------------------------------


@dataclass
class Step:
    before: int  # snapshot index
    after: int
    source: tuple | None  # (loader, epoch, batch) of the forward that caused it


@dataclass
class TrainingAnalysis:
    step_problem: str | None = None
    epoch_losses: list[float] = field(default_factory=list)
    batch_losses: list[list[float]] = field(default_factory=list)
    eval_problem: str | None = None
    eval_snapshots: list[int] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


class Replayer:
    """Computes reference losses, gradients and accuracies at given parameters (cached).

    Correct students produce bit-identical parameter trajectories, so a batch of them
    costs one replay; the cache is bounded so that many wrong ones do not fill memory.
    """

    CACHE_ENTRIES = 256

    def __init__(
        self,
        factory: Callable[[], nn.Module],
        data: Mapping[str, tuple[np.ndarray, ...]],
        batch_size: int,
        loss: Callable[..., torch.Tensor] = nn.functional.cross_entropy,
    ) -> None:
        """``data`` maps a loader name to arrays sliced alike into batches: the model's
        inputs, then the labels last (``(X, y)``, or ``(x, lengths, y)`` for a model called
        as ``model(x, lengths)``). ``loss(output, y)`` is the mean loss of a batch."""
        self.model = factory()
        self.params = list(self.model.parameters())
        self.data = {name: tuple(torch.from_numpy(a) for a in arrays) for name, arrays in data.items()}
        self.batch_size = batch_size
        self.loss = loss
        self._cache: OrderedDict[tuple, Any] = OrderedDict()

    def _remember(self, key: tuple, value: Any) -> Any:
        self._cache[key] = value
        while len(self._cache) > self.CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return value

    def _recall(self, key: tuple) -> Any:
        value = self._cache.get(key)
        if value is not None:
            self._cache.move_to_end(key)
        return value

    def _load(self, flat: np.ndarray) -> None:
        offset = 0
        with torch.no_grad():
            for p in self.params:
                n = p.numel()
                p.copy_(torch.from_numpy(flat[offset : offset + n]).view_as(p))
                offset += n

    def batch(self, loader: str, index: int) -> tuple[torch.Tensor, ...]:
        s = index * self.batch_size
        return tuple(a[s : s + self.batch_size] for a in self.data[loader])

    def loss_and_grad(self, flat: np.ndarray, loader: str, index: int) -> tuple[float, np.ndarray]:
        key = ("grad", _digest(flat), loader, index)
        cached = self._recall(key)
        if cached is None:
            self._load(flat)
            self.model.train()
            for p in self.params:
                p.grad = None
            *inputs, y = self.batch(loader, index)
            loss = self.loss(self.model(*inputs), y)
            loss.backward()
            # (The reference model uses every parameter, so each has a gradient now.)
            grad = torch.cat([cast(torch.Tensor, p.grad).reshape(-1) for p in self.params]).numpy().copy()
            cached = self._remember(key, (loss.item(), grad))
        return cached

    def accuracy(self, flat: np.ndarray, loader: str) -> float:
        key = ("acc", _digest(flat), loader)
        cached = self._recall(key)
        if cached is None:
            self._load(flat)
            self.model.eval()
            *inputs, y = self.data[loader]
            with torch.no_grad():
                correct = int((self.model(*inputs).argmax(dim=1) == y).sum())
            cached = self._remember(key, correct / len(y))
        return cached

    def mean_loss(self, flat: np.ndarray, loader: str, per_batch: bool = False) -> float:
        """The mean loss per example over a whole loader at ``flat``, in eval mode.

        With ``per_batch``, the mean of the batch means instead (a common slip when the
        last batch is smaller; used to name it).
        """
        key = ("loss", _digest(flat), loader, per_batch)
        cached = self._recall(key)
        if cached is None:
            self._load(flat)
            self.model.eval()
            arrays = self.data[loader]
            size = len(arrays[-1]) if not per_batch else self.batch_size
            sums = []
            with torch.no_grad():
                for start in range(0, len(arrays[-1]), size):
                    *inputs, y = (a[start : start + size] for a in arrays)
                    sums.append((float(self.loss(self.model(*inputs), y, reduction="sum")), len(y)))
            if per_batch:
                cached = self._remember(key, float(np.mean([total / n for total, n in sums])))
            else:
                cached = self._remember(key, sums[0][0] / sums[0][1])
        return cached


def _digest(flat: np.ndarray) -> bytes:
    return hashlib.blake2b(flat.tobytes(), digest_size=16).digest()


def analyse_training(
    log: dict,
    replay: Replayer,
    lr: float,
    epochs: int,
    batches: int,
    train_loader: str = "train",
    eval_loaders: tuple[str, ...] = (),
    rule: UpdateRule | None = None,
) -> TrainingAnalysis:
    """Check a recorded run: one step per training batch, in order; evaluation after epochs.

    Each step must be what ``rule`` says (default :class:`PlainSGD`: one SGD step with
    ``lr`` on the replayed gradient of the batch).
    """
    rule = rule or PlainSGD(lr, replay.batch_size)
    result = TrainingAnalysis()
    snapshots: list[np.ndarray] = log["snapshots"]
    events = [tuple(e) for e in log["events"]]
    if not events:
        result.step_problem = "the network was never called (no forward pass)"
        return result

    # Each change of the parameters is one step, caused by the last training-mode forward
    # with gradients before it; every other forward is an evaluation forward.
    by_snapshot: dict[int, list[tuple]] = {}
    for event in events:
        by_snapshot.setdefault(event[0], []).append(event)
    last = len(snapshots) - 1
    steps: list[Step] = []
    evaluation: list[tuple] = []
    for k in range(last + 1):
        segment = by_snapshot.get(k, [])
        if k < last:
            training = [e for e in segment if e[1] and e[2]]
            if not training:
                result.step_problem = (
                    "the parameters changed without a forward pass in training mode with "
                    "gradients before it (call net.train() and compute the loss on net(X))"
                )
                return result
            cause = training[-1]
            steps.append(Step(k, k + 1, (cause[3], cause[4], cause[5]) if cause[3] else None))
            evaluation += [e for e in segment if e is not cause]
        else:
            evaluation += segment
    result.steps = steps

    # Epochs as the student ran them: consecutive steps drawn from one pass over a loader.
    # (A loader's pass counter also counts evaluation passes, so it is not the epoch number.)
    # Every step in epochs_run has a source: the casts below only say so to the type checker.
    epochs_run: list[list[Step]] = []
    for step in steps:
        if step.source is None:
            continue
        if not epochs_run or cast(tuple, epochs_run[-1][-1].source)[:2] != step.source[:2]:
            epochs_run.append([])
        epochs_run[-1].append(step)
    result.step_problem = _check_sources(steps, epochs_run, epochs, batches, train_loader)
    if result.step_problem is None:
        for number, step in enumerate(steps):
            assert step.source is not None  # _check_sources found no step without one
            theta, after = snapshots[step.before], snapshots[step.after]
            loss, grad = replay.loss_and_grad(theta, train_loader, step.source[2])
            problem = rule.check(number, step, theta, after, grad)
            if problem:
                epoch, index = number // batches, step.source[2]
                result.step_problem = f"step {number + 1} (epoch {epoch + 1}, batch {index + 1}): {problem}"
                break
    # Losses at the student's own parameters on the batches they used, whatever their updates did.
    result.batch_losses = [
        [
            replay.loss_and_grad(snapshots[s.before], cast(tuple, s.source)[0], cast(tuple, s.source)[2])[0]
            for s in epoch
        ]
        for epoch in epochs_run
    ]
    result.epoch_losses = [float(np.mean(losses)) for losses in result.batch_losses]

    if eval_loaders:
        result.eval_problem, result.eval_snapshots = _check_evaluation(
            evaluation, epochs_run, eval_loaders, epochs, replay
        )
    elif evaluation:
        extra = [e for e in evaluation if e[1] and e[2]]
        if extra:
            result.eval_problem = f"{len(extra)} forward pass(es) in training mode that no update followed"
    return result


def _check_sources(
    steps: list[Step], epochs_run: list[list[Step]], epochs: int, batches: int, train_loader: str
) -> str | None:
    """One step per batch of train_loader, in the loader's order, num_epochs passes."""
    unknown = sum(1 for s in steps if s.source is None)
    if unknown:
        return f"{unknown} update(s) came from inputs that were not batches of train_loader"
    # No step lacks a source from here on; the casts only say so to the type checker.
    wrong = [cast(tuple, s.source) for s in steps if cast(tuple, s.source)[0] != train_loader]
    if wrong:
        return f"{len(wrong)} update(s) used batches from {wrong[0][0]}_loader; train only on train_loader"
    if len(epochs_run) != epochs or len(steps) != epochs * batches:
        return (
            f"made {len(steps)} update(s) in {len(epochs_run)} pass(es) over train_loader; expected "
            f"{epochs * batches}: one per batch, num_epochs={epochs} passes"
        )
    for number, epoch in enumerate(epochs_run, start=1):
        order = [cast(tuple, s.source)[2] for s in epoch]
        if order != list(range(batches)):
            return (
                f"epoch {number} updated on batches {[i + 1 for i in order]}; expected each batch of "
                f"train_loader once, in order"
            )
    return None


class UpdateRule:
    """What one training step must do to the parameters (see :func:`analyse_training`).

    ``check`` is called for every step in order, with the step's number (from 0), the
    :class:`Step` (its ``source`` is (loader, epoch, batch)), the flat parameters before
    and after it, and the gradient of the reference loss on that batch at ``theta``. It
    returns ``None`` when the step is right, or a one-line reason. A rule may keep state
    across steps (an optimizer's momentum, say).
    """

    def check(self, number: int, step: Step, theta: np.ndarray, after: np.ndarray, grad: np.ndarray) -> str | None:
        raise NotImplementedError


class PlainSGD(UpdateRule):
    """``theta - lr * grad``, with hints for a forgotten zero_grad, a summed loss or a wrong lr."""

    def __init__(self, lr: float, batch_size: int) -> None:
        self.lr, self.batch_size = lr, batch_size
        self.accumulated: np.ndarray | None = None

    def check(self, number, step, theta, after, grad):
        self.accumulated = grad if self.accumulated is None else self.accumulated + grad
        return _check_update(theta, after, grad, self.accumulated, self.lr, self.batch_size, number)


def _check_update(
    theta: np.ndarray,
    after: np.ndarray,
    grad: np.ndarray,
    accumulated: np.ndarray,
    lr: float,
    batch_size: int,
    number: int,
) -> str | None:
    expected = theta - np.float32(lr) * grad
    tol = 1e-6 + 2e-5 * np.abs(theta)
    if np.all(np.abs(after - expected) <= tol):
        return None
    moved = after - theta
    ideal = -lr * grad.astype(np.float64)
    if np.max(np.abs(moved)) == 0:
        return "the parameters did not change (is optimizer.step() called, on net.parameters()?)"
    if number > 0 and np.all(np.abs(after - (theta - np.float32(lr) * accumulated)) <= tol * 4 + 1e-6):
        return "gradients accumulate from earlier steps: call optimizer.zero_grad() before backward()"
    denom = float(np.dot(ideal, ideal))
    if denom > 0:
        factor = float(np.dot(moved.astype(np.float64), ideal)) / denom
        residual = np.linalg.norm(moved - factor * ideal) / max(np.linalg.norm(moved), 1e-30)
        if residual < 1e-3:
            if math.isclose(factor, batch_size, rel_tol=1e-2):
                return (
                    f"the update is {batch_size}x the SGD step: the loss is summed over the batch; "
                    "use the mean (nn.CrossEntropyLoss() default)"
                )
            return (
                f"the update is {factor:.3g}x the SGD step with lr={lr:g}: use torch.optim.SGD(net.parameters(), lr=lr)"
            )
    return (
        "the update is not one plain SGD step on the mean cross-entropy of the batch "
        "(another optimizer, momentum, weight decay, or another loss?)"
    )


def _check_evaluation(
    evaluation: list[tuple], epochs_run: list[list[Step]], loaders: tuple[str, ...], epochs: int, replay: Replayer
) -> tuple[str | None, list[int]]:
    """Evaluation after each epoch: every batch of each loader, eval mode, no gradients.

    Returns the problem (or None) and, per epoch, the parameter snapshot it ended with.
    """
    end_of_epoch = [epoch[-1].after for epoch in epochs_run]
    if len(end_of_epoch) != epochs:
        return f"the training ran {len(end_of_epoch)} epoch(s), expected {epochs}", end_of_epoch[:epochs]
    if any(e[1] for e in evaluation):
        return "evaluation forward passes ran in training mode: call net.eval() before evaluating", end_of_epoch
    if any(e[2] for e in evaluation):
        return "evaluation ran with gradients enabled: wrap it in torch.no_grad()", end_of_epoch
    for epoch, snapshot in enumerate(end_of_epoch):
        seen = {(e[3], e[5]) for e in evaluation if e[0] == snapshot and e[3] is not None}
        for loader in loaders:
            count = math.ceil(len(replay.data[loader][-1]) / replay.batch_size)
            missing = [i for i in range(count) if (loader, i) not in seen]
            if missing:
                return (
                    f"after epoch {epoch + 1}, {len(missing)} of {count} batches of {loader}_loader were not "
                    "evaluated with the epoch's final parameters"
                ), end_of_epoch
    return None, end_of_epoch
