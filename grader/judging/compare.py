"""Compare what a student returned with the reference, and say how it differs.

Tolerances live here, once: an entry passes when ``|got - expected| <= atol + rtol *
|expected|``, with (rtol, atol) chosen by the lowest floating precision involved.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from grader.wire import Opaque, Tensor, describe_type

TOLERANCES = {
    np.dtype(np.float64): (1e-7, 1e-9),
    np.dtype(np.float32): (2e-4, 1e-5),
    np.dtype(np.float16): (1e-2, 1e-3),
}


# Outputs of deep float32 networks (ResNet with batch norm) carry rounding noise of the
# order of 1e-5 of their largest value even for equivalent architectures; entries are
# compared with this much absolute slack, relative to the output's scale.
NETWORK_SCALE_ATOL = 1e-4


def network_tolerance(expected: np.ndarray) -> tuple[float, float]:
    """(rtol, atol) for comparing a network's output with the reference network's."""
    scale = float(np.max(np.abs(expected))) if np.size(expected) else 1.0
    rtol, atol = tolerance(expected)
    return rtol, max(atol, NETWORK_SCALE_ATOL * scale)


def tolerance(*arrays: Any) -> tuple[float, float]:
    """(rtol, atol) for the least precise floating dtype among ``arrays`` (float64 if none)."""
    worst = (1e-7, 1e-9)
    for a in arrays:
        dtype = getattr(a, "dtype", None)
        if dtype is not None and dtype in TOLERANCES and TOLERANCES[dtype][0] > worst[0]:
            worst = TOLERANCES[dtype]
    return worst


def fmt(x: float) -> str:
    return f"{x:.6g}"


def fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(i) for i in index) + "]"


def as_array(got: Any, what: str, allow_tensor: bool = False) -> tuple[np.ndarray | None, str | None]:
    """Accept a numpy array (or a tensor when allowed); otherwise explain what came back."""
    if isinstance(got, Tensor):
        if allow_tensor:
            return got.array, None
        return None, f"{what} is a torch.Tensor; return a numpy array"
    if isinstance(got, np.ndarray):
        return got, None
    if isinstance(got, np.generic):
        return np.asarray(got), None
    if isinstance(got, Opaque):
        return None, f"{what} is {describe_type(got)}, not an array"
    if got is None:
        return None, f"{what} is None (missing return statement?)"
    return None, f"{what} is a {type(got).__name__}, not a numpy array"


def compare_arrays(
    got: Any,
    expected: np.ndarray,
    what: str = "the result",
    *,
    rtol: float | None = None,
    atol: float | None = None,
    dtype: bool = False,
    allow_tensor: bool = False,
) -> str | None:
    """None when ``got`` matches ``expected``; otherwise one line saying how it differs."""
    array, problem = as_array(got, what, allow_tensor)
    if problem:
        return problem
    assert array is not None  # as_array gives a problem whenever it has no array
    expected = np.asarray(expected)
    if array.shape != expected.shape:
        hint = ""
        if array.size == expected.size:
            hint = " (same number of entries: a reshape or transpose is off)"
        elif array.shape == expected.shape[::-1]:
            hint = " (transposed?)"
        return f"{what} has shape {array.shape}, expected {expected.shape}{hint}"
    if dtype and array.dtype != expected.dtype:
        return f"{what} has dtype {array.dtype}, expected {expected.dtype} (keep the input's dtype)"
    if array.dtype.kind not in "biufc":
        return f"{what} has dtype {array.dtype}, expected numbers"
    if array.dtype.kind == "c" and expected.dtype.kind != "c":
        return f"{what} is complex-valued"
    default_rtol, default_atol = tolerance(array, expected)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    a = array.astype(np.float64)
    e = expected.astype(np.float64)
    if array.size == 0:
        return None
    finite_expected = np.isfinite(e)
    bad_finite = finite_expected & ~np.isfinite(a)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        count = int(bad_finite.sum())
        return (
            f"{what} contains {'NaN' if np.isnan(a[index]) else 'inf'} at {fmt_index(index)} "
            f"where {fmt(e[index])} was expected ({count} non-finite entr{'y' if count == 1 else 'ies'})"
        )
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - e)
        allowed = atol + rtol * np.abs(e)
        bad = (error > allowed) & finite_expected
        bad |= ~finite_expected & ~((a == e) | (np.isnan(a) & np.isnan(e)))
    if not bad.any():
        return None
    excess = np.where(bad, error - allowed, -np.inf)
    excess = np.nan_to_num(excess, nan=np.inf, posinf=np.inf)
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(excess)), a.shape))
    max_abs = float(np.nanmax(np.where(finite_expected, error, 0)))
    scale = float(np.max(np.abs(e[finite_expected]))) if finite_expected.any() else 0.0
    rel = max_abs / scale if scale > 0 else float("inf")
    where = f" at {fmt_index(index)}" if a.ndim else ""
    return (
        f"{what} differs: max abs error {max_abs:.3g} (relative {rel:.3g}){where}: "
        f"expected {fmt(e[index])}, got {fmt(a[index])}; {int(bad.sum())} of {a.size} entries off"
    )


def as_float(got: Any, what: str) -> tuple[float | None, str | None]:
    """Accept a Python/numpy real scalar (or a size-1 array); explain anything else."""
    if isinstance(got, bool):
        return None, f"{what} is a bool, expected a float"
    if isinstance(got, (int, float)):
        return float(got), None
    if isinstance(got, np.generic) and got.dtype.kind in "iuf":
        return float(got), None
    if isinstance(got, np.ndarray) and got.size == 1 and got.dtype.kind in "iuf":
        return float(got.reshape(())), None
    if isinstance(got, Tensor):
        return None, f"{what} is a torch.Tensor; return a Python float (use .item())"
    return None, f"{what} is {describe_type(got)}, expected a float"


def as_floats(items: Any, what: str) -> tuple[list[float] | None, str | None]:
    """Each entry of a list or tuple through :func:`as_float`; the first problem, if any."""
    values = []
    for item in items:
        value, problem = as_float(item, f"each entry of {what}")
        if problem:
            return None, problem
        assert value is not None  # as_float gives a problem whenever it has no value
        values.append(value)
    return values, None


def compare_float(got: Any, expected: float, what: str, rtol: float = 1e-7, atol: float = 1e-9) -> str | None:
    value, problem = as_float(got, what)
    if problem:
        return problem
    assert value is not None  # as_float gives a problem whenever it has no value
    if not np.isfinite(value) and np.isfinite(expected):
        return f"{what} is {value}, expected {fmt(expected)} (numerically unstable?)"
    if abs(value - expected) > atol + rtol * abs(expected):
        return f"{what} is {fmt(value)}, expected {fmt(expected)}"
    return None


def unchanged(before: np.ndarray, after: Any, what: str) -> str | None:
    """None when ``after`` still equals ``before`` exactly (same shape, same bits where not NaN)."""
    if not isinstance(after, np.ndarray) or after.shape != before.shape:
        return f"{what} was replaced or reshaped in place"
    same = (after == before) | (np.isnan(after) & np.isnan(before)) if after.dtype.kind == "f" else after == before
    if not np.all(same):
        return f"{what} was modified in place (work on a copy)"
    return None
