"""Shared fixtures for the test suite."""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=None)
def _load_solution(name: str) -> ModuleType:
    """Import ``solutions/<name>.py`` by path (``solutions/`` is not a package)."""
    path = REPO / "solutions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"test_solution_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture(scope="session")
def load_solution():
    """``load_solution("task1")`` returns the reference module ``solutions/task1.py``."""
    return _load_solution
