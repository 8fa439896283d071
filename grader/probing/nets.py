"""Child side: networks the student built, run so that their architecture shows.

* :func:`canonical_forward` runs a forward pass and records every leaf module it executes,
  in execution order, with its configuration. Just before a parametrised layer first
  runs, its weights are overwritten with values that depend only on its type, kernel size
  and position in execution order, so two correct architectures written differently
  (attribute names, registration order, nesting) compute the same function.
* :func:`built_without_init` builds a network without PyTorch's random initialization,
  which canonical weights overwrite anyway.
* :func:`build_chain` turns a declared list of standard layers into a network (the
  network a training check hands to the student's training function).

The grader's own process uses the same tools on the reference networks; comparing the
two traces is its job (:mod:`grader.judging.torchtools`).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from grader.probing import ProbeError

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


def _fill_canonical(module: nn.Module, group: str, index: int, seed: int) -> None:
    """Deterministic parameters for the ``index``-th layer of ``group`` (PyTorch-like scales).

    Every value depends only on the key, never on what ran before; a large tensor repeats
    one random block (:func:`_tile`), which costs no more than copying it from a cache would.
    """
    _draw_canonical(module, group, index, seed)


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
                low, high = {
                    "weight": (0.5, 1.5),
                    "bias": (-0.5, 0.5),
                    "running_mean": (-0.2, 0.2),
                    "running_var": (0.5, 1.5),
                }.get(name, (0.0, 1.0))
            else:
                low, high = -bound, bound
            if tensor.numel() < TILE_FROM:
                tensor.uniform_(low, high, generator=generator)
            else:
                _tile(tensor, torch.empty(BLOCK).uniform_(low, high, generator=generator))


# A large tensor (from TILE_FROM values on) repeats one random block of BLOCK values (a prime:
# the repeats line up with no axis of any weight tensor). Drawing every one of ResNet-18's
# 11 million values would cost each child that builds one about 0.1 s; tiling costs a copy.
TILE_FROM = 65_536
BLOCK = 4099


def _tile(tensor: torch.Tensor, block: torch.Tensor) -> None:
    """Fill ``tensor`` (in its logical order) with ``block`` repeated."""
    if not tensor.is_contiguous():
        filled = torch.empty(tensor.shape, dtype=tensor.dtype)
        _tile(filled, block)
        tensor.copy_(filled)
        return
    flat = tensor.view(-1)
    whole = flat.numel() // block.numel()
    flat[: whole * block.numel()].view(whole, block.numel()).copy_(block.expand(whole, block.numel()))
    rest = flat.numel() - whole * block.numel()
    if rest:
        flat[whole * block.numel() :].copy_(block[:rest])


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
            return False  # a plain tensor attribute would stay on the meta device
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
                    # real() keeps a Parameter a Parameter; mypy cannot tie a value's type to its store's.
                    store[name] = real(tensor)  # type: ignore[assignment]
    return net


def canonical_forward(
    model: nn.Module,
    inputs: torch.Tensor,
    train_mode: bool,
    seed: int = 0,
    fill: Callable[[nn.Module, str, int, int], None] | None = None,
) -> dict:
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


@contextmanager
def portable_dropout() -> Iterator[None]:
    """Dropout whose masks are the same on every torch version the student kit accepts.

    PyTorch's own dropout draws its masks with ``bernoulli_``, whose stream changed between
    releases (torch 2.2 and 2.14 drop different units after the same seed), so a training-mode
    output stored by the grader could not be reproduced on a student's older torch. Inside
    this block ``F.dropout`` and ``nn.Dropout`` (both call ``torch._VF.dropout``) and
    ``torch.dropout`` keep a unit where ``torch.rand`` >= p, a stream that has not changed.
    """
    from torch import _VF

    def mask(x: torch.Tensor, p: float) -> torch.Tensor:
        if p >= 1.0:
            return torch.zeros_like(x)
        return (torch.rand(x.shape) >= p).to(x.dtype) / (1.0 - p)

    def dropout(x: torch.Tensor, p: float, train: bool) -> torch.Tensor:
        return x * mask(x, p) if train and p > 0 else x

    def dropout_(x: torch.Tensor, p: float, train: bool) -> torch.Tensor:
        return x.mul_(mask(x, p)) if train and p > 0 else x

    owners = {_VF: ("dropout", "dropout_"), torch: ("dropout", "dropout_")}
    saved: dict[tuple[Any, str], Any] = {
        (owner, name): owner.__dict__.get(name) for owner, names in owners.items() for name in names
    }
    for owner, names in owners.items():
        for name, value in zip(names, (dropout, dropout_)):
            setattr(owner, name, value)
    try:
        yield
    finally:
        for (owner, name), value in saved.items():
            if value is None:
                delattr(owner, name)  # torch._VF looks the name up again on first use
            else:
                setattr(owner, name, value)


def count_parameters(model: nn.Module) -> int:
    return int(sum(p.numel() for p in model.parameters()))


# --- building a chain of standard layers from a declaration ---------------------------------

LAYERS: dict[str, Callable[..., nn.Module]] = {
    "Conv2d": nn.Conv2d,
    "Linear": nn.Linear,
    "ReLU": nn.ReLU,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "AvgPool2d": nn.AvgPool2d,
    "MaxPool2d": nn.MaxPool2d,
    "Flatten": nn.Flatten,
    "BatchNorm2d": nn.BatchNorm2d,
}


def build_chain(chain: list[tuple]) -> nn.Sequential:
    """``[("Conv2d", 1, 6, 5, {"padding": 2}), ("Sigmoid",), ...]`` -> nn.Sequential."""
    layers = []
    for entry in chain:
        kind, *args = entry
        kwargs = args.pop() if args and isinstance(args[-1], dict) else {}
        layers.append(LAYERS[kind](*args, **kwargs))
    return nn.Sequential(*layers)


def require_module(value: Any, what: str) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise ProbeError(f"{what} returned {type(value).__name__}, not an nn.Module")
    return value


def run_network(
    build: Callable[[], Any],
    x: Any,
    train_mode: bool,
    what: str,
    fill: Callable[[nn.Module, str, int, int], None] | None = None,
) -> dict:
    """Build a network with ``build()`` (without random initialization) and run it on the
    array ``x`` with canonical weights; the trace with the output as an array."""
    net = require_module(built_without_init(build), what)
    result = canonical_forward(net, torch.from_numpy(x), train_mode, fill=fill)
    if result["out"] is not None:
        result["out"] = result["out"].numpy()
    return result
