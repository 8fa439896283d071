"""Assignment packs. Each pack is a module here exposing ``ASSIGNMENT``."""
from __future__ import annotations

import importlib

from ..assignment import Assignment, check_points

PACKS = ("assignment2", "assignment3", "assignment4")
DEFAULT = "assignment2"


def load_pack(name: str = DEFAULT) -> Assignment:
    if name not in PACKS:
        raise KeyError(f"unknown assignment {name!r}; available: {', '.join(PACKS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    assignment: Assignment = module.ASSIGNMENT
    check_points(assignment)
    return assignment
