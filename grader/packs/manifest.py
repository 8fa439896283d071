"""A pack's tasks and which of them train networks, readable without importing torch.

Whether a self-check needs a warm server that has already set up torch's optimizers
(seconds of imports, see :mod:`grader.sandbox.preload_training`) must be known before
anything imports torch, so that starting that server overlaps with the caller's own
imports. Each pack's ``manifest.json`` says it per task; it is generated from the pack's
checks by ``make templates`` (``python -m grader templates``), and a test fails while it
is stale, like the templates themselves.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

PACKS_DIR = Path(__file__).resolve().parent
FILENAME = "manifest.json"


def path(pack: str) -> Path:
    return PACKS_DIR / pack / FILENAME


def build(assignment) -> str:
    tasks = {f.task: {"trains": any(n.check.needs_optimizer for n in f.names)} for f in assignment.files}
    return json.dumps({"tasks": tasks}, indent=1, sort_keys=True) + "\n"


def refresh(assignment, check_only: bool = False) -> bool:
    """Rewrite the manifest when it no longer matches the pack; True when it was stale."""
    target = path(assignment.name)
    text = build(assignment)
    stale = not target.exists() or target.read_text(encoding="utf-8") != text
    if stale and not check_only:
        target.write_text(text, encoding="utf-8")
    return stale


def tasks(pack: str) -> dict[str, dict]:
    try:
        return json.loads(path(pack).read_text(encoding="utf-8"))["tasks"]
    except (OSError, ValueError, KeyError):
        return {}


def task_of_name(pack: str, file_name: str) -> str | None:
    """The task a file name mentions (``Task1_123.py`` -> ``task1``), if exactly one."""
    known = {t.lower(): t for t in tasks(pack)}
    found = {known[token.lower()] for token in re.split(r"[_\-\s.()]+", file_name) if token.lower() in known}
    return found.pop() if len(found) == 1 else None


def file_trains(pack: str, file_name: str, task: str | None = None) -> bool:
    """:func:`trains` for the task ``task`` names, else the one ``file_name`` mentions."""
    return trains(pack, task or task_of_name(pack, file_name))


def trains(pack: str, task: str | None) -> bool:
    """True when ``task`` has a check that trains a network (True when unsure: the safe side)."""
    entry = tasks(pack).get(task or "")
    return True if entry is None else bool(entry.get("trains", True))
