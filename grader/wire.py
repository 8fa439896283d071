"""The only format in which data leaves a child process.

The child turns whatever student code returned into plain Python values (None, bool, int,
float, complex, str, bytes, list, tuple, dict) with arrays and tensors flattened to
tagged tuples of raw bytes. The parent reads it with an unpickler that refuses every
class, so nothing a student returns can run code in the grader or lie about its type
(an object with a rigged ``__eq__`` arrives as an :class:`Opaque` description).
"""

from __future__ import annotations

import io
import math
import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np

ARRAY_TAG = "\x00array"
OPAQUE_TAG = "\x00opaque"
MAX_ITEMS = 100_000  # elements in one list/dict
MAX_DEPTH = 32
NUMERIC_KINDS = "biufc"  # bool, int, uint, float, complex


class TooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Tensor:
    """A torch tensor the student returned, carried as its numpy value."""

    array: np.ndarray
    requires_grad: bool = False


@dataclass(frozen=True)
class Opaque:
    """Something that is not plain data (an arbitrary object); only its type and repr travel."""

    type_name: str
    text: str

    def __str__(self) -> str:
        return f"<{self.type_name}>"


# --- child side ---------------------------------------------------------------------------


def to_plain(value: Any, limit: int | None = None) -> Any:
    """Convert ``value`` to plain, picklable data. Runs in the child, next to student code.

    ``limit`` bounds the bytes the result may hold (arrays, strings, and a little for each
    item of a container): a larger result is refused with :class:`TooLarge` before it is
    copied, so neither this child nor the grader ever holds more than a check can use.
    """
    return _plain(value, 0, _Budget(limit))


class _Budget:
    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int, what: str) -> None:
        self.used += size
        if self.limit is not None and self.used > self.limit:
            raise TooLarge(
                f"the result is larger than this check can use ({_size(self.limit)} in all; "
                f"{what} alone holds {_size(size)})"
            )


def _size(count: int) -> str:
    return f"{count / 1024**2:.1f} MiB" if count >= 1024**2 else f"{count:,} bytes"


ITEM_BYTES = 16  # what one item of a list or dict counts toward the limit, besides its value


def _plain(value: Any, depth: int, budget: _Budget) -> Any:
    if depth > MAX_DEPTH:
        raise TooLarge("result nested too deeply")
    if value is None or type(value) in (bool, int, float, complex):
        return value
    if type(value) in (str, bytes):
        budget.take(len(value), f"a {type(value).__name__} of {len(value):,} characters")
        return value
    if type(value) in (list, tuple):
        if len(value) > MAX_ITEMS:
            raise TooLarge(f"a {type(value).__name__} with {len(value)} items")
        budget.take(ITEM_BYTES * len(value), f"a {type(value).__name__} of {len(value):,} items")
        items = [_plain(v, depth + 1, budget) for v in value]
        return items if type(value) is list else tuple(items)
    if type(value) is dict:
        if len(value) > MAX_ITEMS:
            raise TooLarge(f"a dict with {len(value)} items")
        budget.take(ITEM_BYTES * len(value), f"a dict of {len(value):,} items")
        return {(k if type(k) in (str, int) else _safe_repr(k)): _plain(v, depth + 1, budget) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        budget.take(int(value.nbytes), f"an array of shape {value.shape}")
        return _array_record("ndarray", np.ndarray.copy(value.view(np.ndarray)))
    if isinstance(value, np.generic):
        return _array_record("scalar", np.asarray(value))
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        data = torch.Tensor.detach(value)
        budget.take(int(data.numel()) * int(data.element_size()), f"a tensor of shape {tuple(data.shape)}")
        array = torch.Tensor.numpy(torch.Tensor.cpu(torch.Tensor.resolve_conj(torch.Tensor.resolve_neg(data))))
        return _array_record("tensor", array.copy(), bool(torch.Tensor.requires_grad.__get__(value)))
    # Anything else, including subclasses of builtins that could rig comparisons.
    return (OPAQUE_TAG, type(value).__qualname__, _safe_repr(value))


def _array_record(kind: str, array: np.ndarray, requires_grad: bool = False) -> tuple:
    if array.dtype.kind not in NUMERIC_KINDS:
        return (OPAQUE_TAG, f"{kind} of dtype {array.dtype}", f"array of dtype {array.dtype}, shape {array.shape}")
    array = np.array(array, order="C", copy=True)  # (ascontiguousarray would make 0-d arrays 1-d)
    return (ARRAY_TAG, kind, array.dtype.str, tuple(int(s) for s in array.shape), array.tobytes(), requires_grad)


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except BaseException:  # noqa: BLE001 - student __repr__ may do anything
        text = "<repr failed>"
    return text[:200] if isinstance(text, str) else "<repr is not a str>"


def _torch():
    import sys

    return sys.modules.get("torch")


def dumps(message: Any) -> bytes:
    """Serialize an already-plain message."""
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


# --- parent side --------------------------------------------------------------------------


class _NoClasses(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:  # noqa: D401
        raise pickle.UnpicklingError(f"refused to load {module}.{name} from a child process")


def loads(blob: bytes) -> Any:
    """Read a message from a child: plain data only, arrays rebuilt."""
    return from_plain(_NoClasses(io.BytesIO(blob)).load())


def from_plain(value: Any) -> Any:
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        if value[0] == ARRAY_TAG and len(value) == 6:
            return _rebuild_array(*value[1:])
        if value[0] == OPAQUE_TAG and len(value) == 3:
            return Opaque(str(value[1]), str(value[2]))
    if isinstance(value, list):
        return [from_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(from_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: from_plain(v) for k, v in value.items()}
    return value


def _rebuild_array(kind: str, dtype: str, shape: tuple, data: bytes, requires_grad: bool) -> Any:
    dt = np.dtype(dtype)
    if dt.kind not in NUMERIC_KINDS or dt.hasobject:
        return Opaque(f"{kind} of dtype {dt}", "")
    count = math.prod(shape)
    if count * dt.itemsize != len(data):
        return Opaque(kind, "corrupt array record")
    array = np.frombuffer(data, dtype=dt).reshape(shape).copy()
    if kind == "tensor":
        return Tensor(array, bool(requires_grad))
    if kind == "scalar":
        return array[()]
    return array


def describe_type(value: Any) -> str:
    """A short name for what came back, for messages."""
    if isinstance(value, Tensor):
        return f"torch.Tensor of shape {tuple(value.array.shape)}"
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape}, dtype {value.dtype}"
    if isinstance(value, Opaque):
        return f"a {value.type_name} object"
    if isinstance(value, np.generic):
        return f"numpy {value.dtype} scalar"
    return type(value).__name__
