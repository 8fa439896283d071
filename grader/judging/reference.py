"""Load the reference solutions (``solutions/``), the single source of truth.

Two ways:

* :func:`solution` imports a whole solution file, for the grader's own process, which
  computes references.
* :func:`isolated` builds a namespace holding only the named functions (and the file's
  imports), for use inside children: e.g. ``train`` is graded with the reference
  ``DNNforward``/``DNNbackward`` substituted, so a bug there does not cost ``train`` too.
  Only those functions are reachable from such a namespace, never the rest of the
  solution.
"""

from __future__ import annotations

import ast
import importlib.util
import threading
from functools import cache
from pathlib import Path
from types import ModuleType, SimpleNamespace

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
TEMPLATES = REPO / "templates"

_lock = threading.Lock()


@cache
def _load(path: str) -> ModuleType:
    name = "solutions_" + Path(path).stem
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None  # a .py file always has both
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def solution(filename: str, folder: Path = SOLUTIONS) -> ModuleType:
    """The reference module ``solutions/<filename>`` (cached)."""
    with _lock:
        return _load(str((folder / filename).resolve()))


def isolated(filename: str, names: tuple[str, ...], folder: Path = SOLUTIONS) -> SimpleNamespace:
    """Only the imports and the named top-level definitions of a solution file."""
    path = folder / filename
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    keep: list[ast.stmt] = [
        node
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        or (isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names)
    ]
    missing = set(names) - {n.name for n in keep if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    if missing:
        raise LookupError(f"{filename} does not define {', '.join(sorted(missing))}")
    namespace: dict = {"__name__": f"reference_{path.stem}"}
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return SimpleNamespace(**{name: namespace[name] for name in names})
