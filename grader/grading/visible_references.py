"""Stored references for the visible checks, so self-check works without the solutions.

Students get the templates, the notebooks and this grader, but not ``solutions/``. The
references of the visible cases are computed from the solutions once (``make templates``
writes them) and shipped in the pack's folder as ``visible_references.bin``, in the
grader's plain-data format (:mod:`grader.wire`; loading it can run no code).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from grader import wire
from grader.assignment import Assignment
from grader.judging.reference import SOLUTIONS

FILENAME = "visible_references.bin"


def kit_path(assignment: Assignment) -> Path:
    from grader import packs

    return Path(packs.__file__).parent / assignment.name / FILENAME


def solutions_available(assignment: Assignment) -> bool:
    return all((Path(assignment.solutions_dir) / f.solution).exists() for f in assignment.files if f.kind == "code")


def build(assignment: Assignment) -> dict[str, dict[str, Any]]:
    """Compute the reference of every visible case from the solutions."""
    import torch

    torch.set_num_threads(1)
    return {
        graded.key: {case.id: graded.check.reference(case) for case in graded.check.cases() if case.visible}
        for graded in assignment.names
    }


def write(assignment: Assignment) -> Path:
    path = kit_path(assignment)
    path.write_bytes(wire.dumps(wire.to_plain(build(assignment))))
    return path


def refresh(assignment: Assignment, check_only: bool = False) -> bool:
    """Rewrite the stored references when they no longer match the solutions.

    Returns True when they were stale. Float noise within :func:`same`'s tolerance does not
    count, so rebuilding on another CPU does not churn the committed file.
    """
    path = kit_path(assignment)
    encoded = wire.dumps(wire.to_plain(build(assignment)))
    stale = not path.exists() or not same(wire.loads(path.read_bytes()), wire.loads(encoded))
    if stale and not check_only:
        path.write_bytes(encoded)
    return stale


def load(assignment: Assignment) -> dict[str, dict[str, Any]]:
    path = kit_path(assignment)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing and {SOLUTIONS} is not available: self-check has no references")
    return wire.loads(path.read_bytes())


def references_for(assignment: Assignment) -> dict | None:
    """None when the solutions are here (compute live), else the stored visible references."""
    return None if solutions_available(assignment) else load(assignment)


def same(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-7) -> bool:
    """Structural equality with a float tolerance (kits built on other CPUs differ in the last bits)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
    if isinstance(a, (np.ndarray, np.generic, float)) or isinstance(b, (np.ndarray, np.generic, float)):
        try:
            if np.shape(a) != np.shape(b):
                return False
            if getattr(a, "dtype", None) == np.float32 and np.size(a):
                # Deep float32 networks (ResNet) differ by a few 1e-5 of their output's scale from
                # one CPU (or library build) to another; the checks judge with this same slack.
                from grader.judging.compare import NETWORK_SCALE_ATOL

                atol = max(atol, NETWORK_SCALE_ATOL * float(np.max(np.abs(a))))
            return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        except TypeError:
            return False
    return a == b
