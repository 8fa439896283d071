"""A synthetic class: correct students and students with one typical bug.

A correct student hands in the reference solutions renamed ``<task>_<id>.py``. A wrong
(or differently written) student hands in the same files with one of them replaced by a
fixture's source from ``tests/fixtures/students.py``, the wrong and right implementations
the test suite uses to prove that the checks discriminate.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from .env import REPO

TASKS = ("task1", "task2", "task3", "task4", "layers")
CORRECT_EVERY = 4          # one student in four hands in the reference solutions unchanged


@dataclass(frozen=True)
class ClassMember:
    id: str
    kind: str              # "correct", "wrong" (a classic bug) or "alternative" (correct, other style)
    fixture: str | None    # the fixture that replaced one file, None for a correct student
    files: dict[str, str]  # task -> source


@lru_cache(maxsize=None)
def fixtures_module() -> ModuleType:
    """tests/fixtures/students.py, loaded by path (``tests`` is not a package)."""
    path = REPO / "tests" / "fixtures" / "students.py"
    spec = importlib.util.spec_from_file_location("bench_fixture_students", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module        # dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def solution_source(task: str) -> str:
    return (REPO / "solutions" / f"{task}.py").read_text(encoding="utf-8")


def make_class(size: int, tasks: tuple[str, ...] = TASKS) -> list[ClassMember]:
    """``size`` students, deterministic: every CORRECT_EVERY-th is correct, the others take
    the fixtures in turn (see :func:`fixture_order`)."""
    fixtures = fixture_order(tasks)
    members = []
    used = 0
    for index in range(size):
        files = {task: solution_source(task) for task in tasks}
        kind, fixture = "correct", None
        if index % CORRECT_EVERY != 0 and fixtures:
            kind, fixture = fixtures[used % len(fixtures)]
            used += 1
            files[fixture.task] = fixture.source()
        sid = f"{index + 1:03d}" + (fixture.id if fixture else "ok")
        members.append(ClassMember(sid, kind, fixture.id if fixture else None, files))
    return members


def fixture_order(tasks: tuple[str, ...]) -> list[tuple[str, object]]:
    """Every fixture of ``tasks`` as (kind, fixture), ordered so that any run of them
    spreads over the tasks (one task after another) and mixes bugs with correct
    alternatives, as a real class would."""
    module = fixtures_module()
    per_task = []
    for task in tasks:
        wrong = [("wrong", f) for f in module.WRONG if f.task == task]
        right = [("alternative", f) for f in module.RIGHT if f.task == task]
        per_task.append(_alternate(wrong, right))
    return _alternate(*per_task)


def _alternate(*lists: list) -> list:
    """One item of each list in turn, skipping lists that have run out."""
    out = []
    for i in range(max((len(items) for items in lists), default=0)):
        out += [items[i] for items in lists if i < len(items)]
    return out


def write_class(members: list[ClassMember], folder: Path) -> list[Path]:
    """Write every member's files into ``folder`` (created); return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for member in members:
        for task, source in member.files.items():
            path = folder / f"{task}_{member.id}.py"
            path.write_text(source, encoding="utf-8")
            paths.append(path)
    return paths


def spread(members: list[ClassMember], count: int) -> list[ClassMember]:
    """``count`` members evenly spread over the class, so that a subset keeps its mix."""
    if count >= len(members):
        return list(members)
    step = len(members) / count
    return [members[int(i * step)] for i in range(count)]
