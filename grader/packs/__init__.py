"""Assignment packs. Each pack is a folder here:

* ``pack.py``: the declaration, ``ASSIGNMENT`` (files, graded names, points, signatures);
* the check modules: cases and judges (grader side);
* ``references.py``: the pack's own correct versions and the expected values computed
  from them (grader side; never in a child before its turn, never in the student kit);
* ``probes.py``: one probe per graded name (child side: loaded into every child);
* ``ASSIGNMENT.md``, the contract in words, and ``visible_references.bin``.

This module and each pack's ``__init__.py`` import nothing: a child imports a pack's
``probes.py``, which imports its package, and must not pull the grader side in with it.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..assignment import Assignment

# Every pack of the course (`python -m grader new-pack` adds to it) and those present here:
# all of them in the course repository, one in a student kit.
ALL_PACKS = ("assignment2", "assignment3", "assignment4")
PACKS = tuple(name for name in ALL_PACKS if (Path(__file__).parent / name / "pack.py").is_file())
DEFAULT = "assignment2" if "assignment2" in PACKS else PACKS[0]


def kit_settings() -> dict:
    """A student kit's settings (``grader/student_kit.json``: its pack, where to hand in, examples
    for messages); empty in the course repository."""
    import json

    try:
        return json.loads((Path(__file__).parent.parent / "student_kit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def load_pack(name: str = DEFAULT) -> Assignment:
    from ..assignment import check_points

    if name not in PACKS:
        raise KeyError(f"unknown assignment {name!r}; available: {', '.join(PACKS)}")
    assignment: Assignment = importlib.import_module(f"{__name__}.{name}.pack").ASSIGNMENT
    check_points(assignment)
    return assignment


def probes_module(name: str) -> str:
    """The module name of a pack's probes (child side)."""
    return f"{__name__}.{name}.probes"
