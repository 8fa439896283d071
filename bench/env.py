"""Paths, and the thread settings of the benchmark process.

Kernel timings must be single-threaded on both sides (our NumPy code and torch), so
:func:`pin_threads` sets the BLAS/OpenMP thread counts to 1; it only works before NumPy
is imported, which is why ``bench/run.py`` calls it first. The grader and the naive
harness run as subprocesses with the environment as it was before (:data:`ORIGINAL_ENV`),
exactly as ``make grade`` would see it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")

ORIGINAL_ENV = dict(os.environ)


def pin_threads() -> bool:
    """One BLAS/OpenMP thread for this process; False when NumPy or torch came first."""
    if "numpy" in sys.modules or "torch" in sys.modules:
        return False
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    return True


def child_env() -> dict[str, str]:
    """The environment for subprocesses: the caller's, plus the repository on the import path."""
    env = dict(ORIGINAL_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env
