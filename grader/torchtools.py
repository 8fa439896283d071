"""Instruments for checking PyTorch code without depending on how it is written.

Child side (next to student code):

* :func:`trace_leaves` runs a forward pass and records every leaf module it executes,
  in execution order, with its configuration and its parameters/buffers as they were
  just before it ran. Execution order does not depend on attribute names, registration
  order or nesting, so two correct architectures written differently trace alike.
* :class:`TrainingLog` with :class:`RecordingLoader` and :func:`watch` records what a
  training function does: which batches it fed the network, in which mode, with or
  without gradients, and the parameters before every forward pass.

Parent side (the grader's own process):

* :func:`load_by_execution_order` copies a student's traced weights into a reference
  model, matching layers by type, kernel size and execution order.
* :func:`analyse_training` replays each recorded step with the reference loss and
  checks it was one plain SGD step, then recomputes losses and accuracies at the
  recorded parameters.
"""
from __future__ import annotations

import hashlib
import math
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

# --- tracing architectures with canonical weights ------------------------------------------

CONFIG_FIELDS = {
    "Conv1d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"),
    "Conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups"),
    "Linear": ("in_features", "out_features"),
    "BatchNorm1d": ("num_features", "eps", "affine", "track_running_stats"),
    "BatchNorm2d": ("num_features", "eps", "affine", "track_running_stats"),
    "MaxPool2d": ("kernel_size", "stride", "padding"),
    "AvgPool2d": ("kernel_size", "stride", "padding"),
    "AdaptiveAvgPool2d": ("output_size",),
    "Flatten": ("start_dim", "end_dim"),
}
PARAMETRISED = ("Conv1d", "Conv2d", "Linear", "BatchNorm1d", "BatchNorm2d")
FORWARD_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, AttributeError, KeyError, AssertionError)


def _config(module: nn.Module) -> dict[str, Any]:
    kind = type(module).__name__
    out: dict[str, Any] = {}
    for name in CONFIG_FIELDS.get(kind, ()):
        value = getattr(module, name, None)
        out[name] = list(value) if isinstance(value, tuple) else value
    if kind in ("Conv1d", "Conv2d", "Linear"):
        out["bias"] = getattr(module, "bias", None) is not None
    return out


def group_of(kind: str, config: dict) -> str:
    """Layers are paired within a group: same type and, for convolutions, same kernel size."""
    if kind.startswith("Conv"):
        return f"{kind} {'x'.join(str(k) for k in config['kernel_size'])}"
    return kind


# Canonical values of large layers, kept after their first use in this process. Drawing
# ResNet-18's 11 million values costs more than running the network; the values depend
# only on the key, so a copy is exact. A warm server that fills them once hands them to
# every child it forks (copy-on-write: the children only read them).
_CANONICAL_CACHE: dict[tuple, list[torch.Tensor]] = {}
CACHE_MIN_ELEMENTS = 65_536          # smaller layers are drawn again: cheaper than a lookup matters
CACHE_MAX_ELEMENTS = 48_000_000      # about 190 MB of float32 at most
_cached_elements = 0


def _fill_canonical(module: nn.Module, group: str, index: int, seed: int) -> None:
    """Deterministic parameters for the ``index``-th layer of ``group`` (PyTorch-like scales)."""
    global _cached_elements
    named = [(n, t) for n, t in list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False))
             if t.is_floating_point()]
    size = sum(t.numel() for _, t in named)
    key = (seed, group, index, type(module).__name__, tuple((n, tuple(t.shape), t.dtype) for n, t in named))
    cached = _CANONICAL_CACHE.get(key) if size >= CACHE_MIN_ELEMENTS else None
    if cached is not None:
        with torch.no_grad():
            for (_, tensor), value in zip(named, cached):
                tensor.copy_(value)
        return
    _draw_canonical(module, group, index, seed)
    if size >= CACHE_MIN_ELEMENTS and _cached_elements + size <= CACHE_MAX_ELEMENTS:
        _CANONICAL_CACHE[key] = [t.detach().clone() for _, t in named]
        _cached_elements += size


def _draw_canonical(module: nn.Module, group: str, index: int, seed: int) -> None:
    generator = torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(f"{group}#{index}".encode())) % 2**63)
    with torch.no_grad():
        named = list(module.named_parameters(recurse=False)) + list(module.named_buffers(recurse=False))
        weight = getattr(module, "weight", None)
        fan_in = weight[0].numel() if isinstance(weight, torch.Tensor) and weight.dim() > 1 else 1
        bound = 1.0 / math.sqrt(max(fan_in, 1))
        is_norm = "BatchNorm" in type(module).__name__
        for name, tensor in named:
            if not tensor.is_floating_point():
                continue
            if is_norm:
                low, high = {"weight": (0.5, 1.5), "bias": (-0.5, 0.5), "running_mean": (-0.2, 0.2),
                             "running_var": (0.5, 1.5)}.get(name, (0.0, 1.0))
            else:
                low, high = -bound, bound
            tensor.uniform_(low, high, generator=generator)


def built_without_init(build: Callable[[], Any]) -> Any:
    """``build()`` run on the meta device, then given real zero-filled tensors: a network
    without PyTorch's random initialization, which is slow for millions of weights and
    pointless under canonical weights (they overwrite every value before a layer first
    runs). Falls back to a normal ``build()`` for code that cannot be built that way, or
    whose network holds a tensor canonical weights would not overwrite. An error raised by
    ``build`` itself (not by the meta device) comes from the normal build."""
    try:
        with torch.device("meta"):
            net = build()
    except Exception:  # noqa: BLE001 - some code cannot run on meta tensors: build it for real
        return build()
    if not isinstance(net, nn.Module) or not replaced_by_canonical_weights(net):
        return build()
    return materialize(net)


def replaced_by_canonical_weights(net: nn.Module) -> bool:
    """True when every tensor the network holds belongs to a layer that canonical weights overwrite."""
    for module in net.modules():
        owned = list(module.parameters(recurse=False)) + list(module.buffers(recurse=False))
        if owned and type(module).__name__ not in PARAMETRISED:
            return False
        if any(isinstance(value, torch.Tensor) for value in vars(module).values()):
            return False                     # a plain tensor attribute would stay on the meta device
    return True


def materialize(net: nn.Module) -> nn.Module:
    """Give a network built on the meta device real, zero-filled tensors on the CPU.

    (``nn.Module.to_empty`` would do it, but its first call imports sympy: seconds.)
    Parameters shared between layers stay shared.
    """
    made: dict[int, torch.Tensor] = {}

    def real(tensor: torch.Tensor) -> torch.Tensor:
        if id(tensor) not in made:
            fresh = torch.zeros(tuple(tensor.shape), dtype=tensor.dtype)
            made[id(tensor)] = nn.Parameter(fresh, tensor.requires_grad) if isinstance(tensor, nn.Parameter) else fresh
        return made[id(tensor)]

    for module in net.modules():
        for store in (module._parameters, module._buffers):
            for name, tensor in store.items():
                if tensor is not None:
                    store[name] = real(tensor)
    return net


def canonical_forward(model: nn.Module, inputs: torch.Tensor, train_mode: bool, seed: int = 0,
                      fill: Callable[[nn.Module, str, int, int], None] | None = None) -> dict:
    """Run ``model`` with canonical weights; report output, executed layers and parameter count.

    Just before a parametrised layer runs for the first time, its parameters and buffers
    are overwritten with values that depend only on its group (type, kernel size) and its
    position among that group's layers in execution order. Two networks with the same
    architecture therefore compute the same function, whatever their attribute names,
    registration order or nesting. Every leaf module that runs is recorded with its
    configuration. An ordinary exception in the forward pass is reported as text, so the
    layers that ran before it can still be compared.

    ``fill(module, group, index, seed)`` writes the values; the default draws every entry
    at random. A pack may pass a cheaper one (the same for its students and its reference).
    """
    fill = fill or _fill_canonical
    leaves: list[dict] = []
    seen: set[int] = set()
    counters: dict[str, int] = {}
    handles = []

    def pre_hook(module: nn.Module, args: tuple) -> None:
        kind = type(module).__name__
        config = _config(module)
        leaves.append({"type": kind, "config": config})
        if kind in PARAMETRISED and id(module) not in seen:
            seen.add(id(module))
            group = group_of(kind, config)
            counters[group] = counters.get(group, 0) + 1
            fill(module, group, counters[group], seed)

    for module in model.modules():
        if not any(True for _ in module.children()):
            handles.append(module.register_forward_pre_hook(pre_hook))
    model.train(train_mode)
    output, error = None, None
    try:
        with torch.no_grad():
            output = model(inputs)
        if not isinstance(output, torch.Tensor):
            error = f"the forward pass returned {type(output).__name__}, not a tensor"
            output = None
    except FORWARD_ERRORS as exc:
        if "can't allocate memory" in str(exc):
            raise
        text = str(exc).strip()
        error = f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"
    finally:
        for handle in handles:
            handle.remove()
    return {"out": output, "leaves": leaves, "error": error, "parameters": count_parameters(model)}


def count_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


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
                    problems.append(f"{group} #{index}: {name}={_show(leaf['config'].get(name))}, expected {_show(expected)}")
    return problems


def _show(value: Any) -> str:
    if isinstance(value, list):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


# --- building a chain of standard layers from a declaration ---------------------------------

LAYERS: dict[str, Callable[..., nn.Module]] = {
    "Conv2d": nn.Conv2d, "Linear": nn.Linear, "ReLU": nn.ReLU, "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
    "AvgPool2d": nn.AvgPool2d, "MaxPool2d": nn.MaxPool2d, "Flatten": nn.Flatten, "BatchNorm2d": nn.BatchNorm2d,
}


def build_chain(chain: list[tuple]) -> nn.Sequential:
    """``[("Conv2d", 1, 6, 5, {"padding": 2}), ("Sigmoid",), ...]`` -> nn.Sequential."""
    layers = []
    for entry in chain:
        kind, *args = entry
        kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
        layers.append(LAYERS[kind](*args, **kwargs))
    return nn.Sequential(*layers)


# --- child side: recording a training run -------------------------------------------------

@dataclass
class TrainingLog:
    """Everything observable about a training function's use of the net and loaders."""

    snapshots: list[np.ndarray] = field(default_factory=list)
    events: list[tuple] = field(default_factory=list)  # (snapshot, training, grad, loader, epoch, batch, size)
    to_calls: list[str] = field(default_factory=list)
    iterations: dict[str, int] = field(default_factory=dict)
    _by_pointer: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    _by_content: dict[bytes, tuple[str, int, int]] = field(default_factory=dict)
    _keep_alive: list[torch.Tensor] = field(default_factory=list)

    def start_epoch(self, loader: str) -> int:
        self.iterations[loader] = self.iterations.get(loader, 0) + 1
        return self.iterations[loader] - 1

    def yielded(self, loader: str, epoch: int, index: int, batch: torch.Tensor) -> None:
        where = (loader, epoch, index)
        self._keep_alive.append(batch)     # keeps its memory from being reused by another tensor
        self._by_pointer[batch.untyped_storage().data_ptr()] = where
        self._by_content[_content_key(batch)] = where

    def identify(self, x: Any) -> tuple[str, int, int] | None:
        if not isinstance(x, torch.Tensor):
            return None
        where = self._by_pointer.get(x.untyped_storage().data_ptr())
        if where is None:
            where = self._by_content.get(_content_key(x))
        return where

    def snapshot(self, params: list[torch.Tensor]) -> int:
        flat = torch.cat([p.detach().reshape(-1).to(torch.float32).cpu() for p in params]).numpy().copy()
        if self.snapshots and np.array_equal(self.snapshots[-1], flat):
            return len(self.snapshots) - 1
        self.snapshots.append(flat)
        return len(self.snapshots) - 1

    def export(self) -> dict:
        return {"snapshots": self.snapshots, "events": [list(e) for e in self.events],
                "to_calls": self.to_calls, "iterations": dict(self.iterations)}


def _content_key(x: torch.Tensor) -> bytes:
    data = x.detach().to(torch.float32).contiguous().cpu().numpy()
    return hashlib.blake2b(data.tobytes(), digest_size=16).digest() + str(tuple(data.shape)).encode()


class RecordingLoader(torch.utils.data.DataLoader):
    """A DataLoader (no shuffling) that tells a :class:`TrainingLog` what it handed out."""

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor, batch_size: int, log: TrainingLog):
        super().__init__(torch.utils.data.TensorDataset(images, labels), batch_size=batch_size, shuffle=False)
        self._log_name = name
        self._log = log
        self._batches = [(images[i:i + batch_size], labels[i:i + batch_size])
                         for i in range(0, len(images), batch_size)]

    def __iter__(self):
        epoch = self._log.start_epoch(self._log_name)
        for index, (x, y) in enumerate(self._batches):
            x, y = x.clone(), y.clone()     # fresh tensors each epoch, like a real loader
            self._log.yielded(self._log_name, epoch, index, x)
            yield x, y

    def __len__(self) -> int:
        return len(self._batches)


def watch(net: nn.Module, log: TrainingLog) -> Callable[[], None]:
    """Record every forward pass of ``net``; returns a function that takes a final snapshot."""
    params = list(net.parameters())

    def pre_hook(module: nn.Module, args: tuple) -> None:
        index = log.snapshot(params)
        where = log.identify(args[0] if args else None)
        size = int(args[0].shape[0]) if args and isinstance(args[0], torch.Tensor) and args[0].dim() else -1
        loader, epoch, batch = where if where else (None, -1, -1)
        log.events.append((index, bool(module.training), bool(torch.is_grad_enabled()), loader, epoch, batch, size))

    net.register_forward_pre_hook(pre_hook)
    original_to = net.to

    def recording_to(*args: Any, **kwargs: Any) -> Any:
        log.to_calls.append(", ".join([str(a) for a in args] + [f"{k}={v}" for k, v in kwargs.items()]))
        return original_to(*args, **kwargs)

    net.to = recording_to  # type: ignore[method-assign]

    def finish() -> None:
        log.snapshot(params)

    return finish


# --- parent side: analysing a recorded training run ---------------------------------------

@dataclass
class Step:
    before: int                 # snapshot index
    after: int
    source: tuple | None        # (loader, epoch, batch) of the forward that caused it


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

    def __init__(self, factory: Callable[[], nn.Module], data: dict[str, tuple[np.ndarray, ...]],
                 batch_size: int, loss: Callable[..., torch.Tensor] = nn.functional.cross_entropy) -> None:
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
                p.copy_(torch.from_numpy(flat[offset:offset + n]).view_as(p))
                offset += n

    def batch(self, loader: str, index: int) -> tuple[torch.Tensor, ...]:
        s = index * self.batch_size
        return tuple(a[s:s + self.batch_size] for a in self.data[loader])

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
            grad = torch.cat([p.grad.reshape(-1) for p in self.params]).numpy().copy()
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
                    *inputs, y = (a[start:start + size] for a in arrays)
                    sums.append((float(self.loss(self.model(*inputs), y, reduction="sum")), len(y)))
            if per_batch:
                cached = self._remember(key, float(np.mean([total / n for total, n in sums])))
            else:
                cached = self._remember(key, sums[0][0] / sums[0][1])
        return cached


def _digest(flat: np.ndarray) -> bytes:
    return hashlib.blake2b(flat.tobytes(), digest_size=16).digest()


def analyse_training(log: dict, replay: Replayer, lr: float, epochs: int, batches: int,
                     train_loader: str = "train", eval_loaders: tuple[str, ...] = (),
                     rule: UpdateRule | None = None) -> TrainingAnalysis:
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
                result.step_problem = ("the parameters changed without a forward pass in training mode with "
                                       "gradients before it (call net.train() and compute the loss on net(X))")
                return result
            cause = training[-1]
            steps.append(Step(k, k + 1, (cause[3], cause[4], cause[5]) if cause[3] else None))
            evaluation += [e for e in segment if e is not cause]
        else:
            evaluation += segment
    result.steps = steps

    # Epochs as the student ran them: consecutive steps drawn from one pass over a loader.
    # (A loader's pass counter also counts evaluation passes, so it is not the epoch number.)
    epochs_run: list[list[Step]] = []
    for step in steps:
        if step.source is None:
            continue
        if not epochs_run or epochs_run[-1][-1].source[:2] != step.source[:2]:
            epochs_run.append([])
        epochs_run[-1].append(step)
    result.step_problem = _check_sources(steps, epochs_run, epochs, batches, train_loader)
    if result.step_problem is None:
        for number, step in enumerate(steps):
            theta, after = snapshots[step.before], snapshots[step.after]
            loss, grad = replay.loss_and_grad(theta, train_loader, step.source[2])
            problem = rule.check(number, step, theta, after, grad)
            if problem:
                epoch, index = number // batches, step.source[2]
                result.step_problem = f"step {number + 1} (epoch {epoch + 1}, batch {index + 1}): {problem}"
                break
    # Losses at the student's own parameters on the batches they used, whatever their updates did.
    result.batch_losses = [[replay.loss_and_grad(snapshots[s.before], s.source[0], s.source[2])[0] for s in epoch]
                           for epoch in epochs_run]
    result.epoch_losses = [float(np.mean(losses)) for losses in result.batch_losses]

    if eval_loaders:
        result.eval_problem, result.eval_snapshots = _check_evaluation(evaluation, epochs_run, eval_loaders, epochs,
                                                                       replay)
    elif evaluation:
        extra = [e for e in evaluation if e[1] and e[2]]
        if extra:
            result.eval_problem = f"{len(extra)} forward pass(es) in training mode that no update followed"
    return result


def _check_sources(steps: list[Step], epochs_run: list[list[Step]], epochs: int, batches: int,
                   train_loader: str) -> str | None:
    """One step per batch of train_loader, in the loader's order, num_epochs passes."""
    unknown = sum(1 for s in steps if s.source is None)
    if unknown:
        return f"{unknown} update(s) came from inputs that were not batches of train_loader"
    wrong = [s.source for s in steps if s.source[0] != train_loader]
    if wrong:
        return f"{len(wrong)} update(s) used batches from {wrong[0][0]}_loader; train only on train_loader"
    if len(epochs_run) != epochs or len(steps) != epochs * batches:
        return (f"made {len(steps)} update(s) in {len(epochs_run)} pass(es) over train_loader; expected "
                f"{epochs * batches}: one per batch, num_epochs={epochs} passes")
    for number, epoch in enumerate(epochs_run, start=1):
        order = [s.source[2] for s in epoch]
        if order != list(range(batches)):
            return (f"epoch {number} updated on batches {[i + 1 for i in order]}; expected each batch of "
                    f"train_loader once, in order")
    return None


class UpdateRule:
    """What one training step must do to the parameters (see :func:`analyse_training`).

    ``check`` is called for every step in order, with the step's number (from 0), the
    :class:`Step` (its ``source`` is (loader, epoch, batch)), the flat parameters before
    and after it, and the gradient of the reference loss on that batch at ``theta``. It
    returns ``None`` when the step is right, or a one-line reason. A rule may keep state
    across steps (an optimizer's momentum, say).
    """

    def check(self, number: int, step: Step, theta: np.ndarray, after: np.ndarray,
              grad: np.ndarray) -> str | None:
        raise NotImplementedError


class PlainSGD(UpdateRule):
    """``theta - lr * grad``, with hints for a forgotten zero_grad, a summed loss or a wrong lr."""

    def __init__(self, lr: float, batch_size: int) -> None:
        self.lr, self.batch_size = lr, batch_size
        self.accumulated: np.ndarray | None = None

    def check(self, number, step, theta, after, grad):
        self.accumulated = grad if self.accumulated is None else self.accumulated + grad
        return _check_update(theta, after, grad, self.accumulated, self.lr, self.batch_size, number)


def _check_update(theta: np.ndarray, after: np.ndarray, grad: np.ndarray, accumulated: np.ndarray,
                  lr: float, batch_size: int, number: int) -> str | None:
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
                return (f"the update is {batch_size}x the SGD step: the loss is summed over the batch; "
                        "use the mean (nn.CrossEntropyLoss() default)")
            return f"the update is {factor:.3g}x the SGD step with lr={lr:g}: use torch.optim.SGD(net.parameters(), lr=lr)"
    return ("the update is not one plain SGD step on the mean cross-entropy of the batch "
            "(another optimizer, momentum, weight decay, or another loss?)")


def _check_evaluation(evaluation: list[tuple], epochs_run: list[list[Step]], loaders: tuple[str, ...], epochs: int,
                      replay: Replayer) -> tuple[str | None, list[int]]:
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
                return (f"after epoch {epoch + 1}, {len(missing)} of {count} batches of {loader}_loader were not "
                        "evaluated with the epoch's final parameters"), end_of_epoch
    return None, end_of_epoch
