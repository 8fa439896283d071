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


# --- parallel runs (make test: pytest -n 2 --dist loadgroup) ---------------------------------------------
# A test module stays on one worker (its module-scoped fixtures are built once), and every test
# that reads a pack's graded class (tests/fixtures/classes.py) runs on the worker of that pack,
# so each class is graded once per run rather than once per worker.
CLASS_MODULES = {"test_packs", "test_visible_predicts", "test_notebooks", "test_assignment3", "test_assignment4"}


def _group(item) -> str:
    module = item.module.__name__.rsplit(".", 1)[-1]
    if module in CLASS_MODULES:
        params = getattr(getattr(item, "callspec", None), "params", {})
        pack = params.get("pack_name") or params.get("pack")
        if isinstance(pack, str):
            return f"class-{pack}"
        if module in ("test_assignment3", "test_assignment4"):
            return f"class-{module.removeprefix('test_')}"
        if module == "test_notebooks":
            return "class-assignment2"
    return module


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
