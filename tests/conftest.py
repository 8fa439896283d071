"""Shared fixtures for the test suite."""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import pytest

# One BLAS/OpenMP thread, as `python -m grader` gives itself (grader/__main__.py), set before
# anything imports numpy or torch; the notebook kernels and commands the tests start inherit
# it. With torch's default of a thread per core, this process (judging while two children
# run) and two notebook kernels side by side spin their OpenMP threads against each other
# on two cores: assignment4's notebooks took 35 s with the default against 16.5 s with this.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

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
def notebook_pool(request, tmp_path_factory):
    """The notebook runs of every collected module that declares ``notebook_plan`` (see
    fixtures/notebooks.py: NotebookPool); a module's fixture asks ``notebook_pool.runs(module)``."""
    from fixtures.notebooks import NotebookPool

    modules = list({item.module.__name__: item.module for item in request.session.items
                    if callable(getattr(item.module, "notebook_plan", None))}.values())
    together = not hasattr(request.config, "workerinput")          # not a pytest-xdist worker
    return NotebookPool(modules, tmp_path_factory.mktemp("notebooks"), together)


@pytest.fixture(scope="session")
def load_solution():
    """``load_solution("task1")`` returns the reference module ``solutions/task1.py``."""
    return _load_solution


# --- parallel runs (make test: pytest -n 2 --dist loadgroup) ---------------------------------------------
# A test module stays on one worker (its module-scoped fixtures are built once), and the two
# modules that read every pack's graded class (tests/fixtures/classes.py) share a worker, so
# those classes are graded once for both. (Grouping every reader of a pack's class on one
# worker was measured slower: it leaves that worker a long tail while the other idles.)
SHARED_CLASSES = {"test_packs", "test_visible_predicts"}


def _group(item) -> str:
    module = item.module.__name__.rsplit(".", 1)[-1]
    return "pack-classes" if module in SHARED_CLASSES else module


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(pytest.mark.xdist_group(_group(item)))
