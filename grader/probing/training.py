"""Child side: recording what a training function does with the network and the data.

:class:`TrainingLog` with :class:`RecordingLoader` (a DataLoader) or
:class:`RecordingBatches` (a list of ``(x, lengths, y)`` batches) and :func:`watch`
record which batches the student's function fed the network, in which mode, with or
without gradients, and the parameters before every forward pass. The grader's own
process replays each step (:mod:`grader.judging.torchtools`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn


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
        self._keep_alive.append(batch)  # keeps its memory from being reused by another tensor
        self._by_pointer[batch.untyped_storage().data_ptr()] = where
        self._by_content[_content_key(batch)] = where

    def identify(self, x: Any) -> tuple[str, int, int] | None:
        if not isinstance(x, torch.Tensor):
            return None
        where = self._by_pointer.get(x.untyped_storage().data_ptr())
        if where is None:
            where = self._by_content.get(_content_key(x))
        return where

    def snapshot(self, params: Sequence[torch.Tensor]) -> int:
        flat = torch.cat([p.detach().reshape(-1).to(torch.float32).cpu() for p in params]).numpy().copy()
        if self.snapshots and np.array_equal(self.snapshots[-1], flat):
            return len(self.snapshots) - 1
        self.snapshots.append(flat)
        return len(self.snapshots) - 1

    def export(self) -> dict:
        return {
            "snapshots": self.snapshots,
            "events": [list(e) for e in self.events],
            "to_calls": self.to_calls,
            "iterations": dict(self.iterations),
        }


def _content_key(x: torch.Tensor) -> bytes:
    data = x.detach().to(torch.float32).contiguous().cpu().numpy()
    return hashlib.blake2b(data.tobytes(), digest_size=16).digest() + str(tuple(data.shape)).encode()


class RecordingLoader(torch.utils.data.DataLoader):
    """A DataLoader (no shuffling) that tells a :class:`TrainingLog` what it handed out."""

    def __init__(self, name: str, images: torch.Tensor, labels: torch.Tensor, batch_size: int, log: TrainingLog):
        super().__init__(torch.utils.data.TensorDataset(images, labels), batch_size=batch_size, shuffle=False)
        self._log_name = name
        self._log = log
        self._batches = [
            (images[i : i + batch_size], labels[i : i + batch_size]) for i in range(0, len(images), batch_size)
        ]

    def __iter__(self):
        epoch = self._log.start_epoch(self._log_name)
        for index, (x, y) in enumerate(self._batches):
            x, y = x.clone(), y.clone()  # fresh tensors each epoch, like a real loader
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


class RecordingBatches:
    """An iterable of ``(x, lengths, y)`` batches (re-iterable, with ``len``) that logs what it yields."""

    def __init__(
        self, name: str, x: torch.Tensor, lengths: torch.Tensor, y: torch.Tensor, batch_size: int, log: TrainingLog
    ) -> None:
        self._name, self._log = name, log
        self._batches = [
            (x[i : i + batch_size], lengths[i : i + batch_size], y[i : i + batch_size])
            for i in range(0, len(x), batch_size)
        ]

    def __iter__(self):
        epoch = self._log.start_epoch(self._name)
        for index, (x, lengths, y) in enumerate(self._batches):
            x, lengths, y = x.clone(), lengths.clone(), y.clone()
            self._log.yielded(self._name, epoch, index, x)
            yield x, lengths, y

    def __len__(self) -> int:
        return len(self._batches)


def loaders(inputs: dict, log: TrainingLog) -> tuple[RecordingLoader, RecordingLoader | None]:
    """A recording train loader and, when the case has test data, a test loader."""
    train = RecordingLoader("train", torch.from_numpy(inputs["X"]), torch.from_numpy(inputs["y"]), inputs["batch"], log)
    test = None
    if len(inputs.get("y_test", ())):
        test = RecordingLoader(
            "test", torch.from_numpy(inputs["X_test"]), torch.from_numpy(inputs["y_test"]), inputs["batch"], log
        )
    return train, test


def recording_run(net: nn.Module, inputs: dict, call: Callable[[nn.Module, Any, Any], Any]) -> dict:
    """Give ``call(net, train_loader, test_loader)`` recording loaders; return its result and the log."""
    log = TrainingLog()
    train, test = loaders(inputs, log)
    finish = watch(net, log)
    result = call(net, train, test)
    finish()
    return {"result": result, "log": log.export()}
