"""What a submitted file's name says: which task, which student, and what is wrong with it.

The names students are told are ``<task>_<id>.py`` and ``<id>_<assignment>.zip``. Real
folders also hold ``Task1_123.py``, ``task1-123.py``, ``task1_123 (1).py`` (a
re-download), ``task1_123.py.py``, ``123_task1.py``, ``layers_123.PY``, notebooks
``task1_123.ipynb`` and zips named ``123.zip``. :func:`parse` ties such a name to one task
and one student whenever that needs no guessing, and lists what differs from the exact
name (``faults``), so the student can be told. Names it cannot tie (``task1.py`` with no
id, ``task1_123_v2.py``, ``hw.py``) return None, with :func:`explain` saying why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.assignment import Assignment

# "task1_123 (2).py", "task1_123(2).py", "task1_123 - Copy.py", "task1_123 - Copy (2).py"
COPY = re.compile(r"^(?P<stem>.*?)(?:\s*-\s*copy)?(?:\s*\((?P<n>\d{1,4})\))?$", re.IGNORECASE)
SEPARATORS = re.compile(r"[_\-\s]+")
KINDS = {".py": "source", ".ipynb": "notebook", ".zip": "zip"}  # and "data" for a data task's own suffix
RESERVED_IDS = {"template", "solution", "solutions"}


@dataclass(frozen=True)
class NameMatch:
    """A file name tied to a task (or a whole zip) and, where the name holds one, a student."""

    kind: str  # "source", "notebook", "data" (e.g. a predictions .csv) or "zip"
    task: str | None  # None for a zip
    student: str | None  # None when the name holds no id (a member of a student's zip)
    copy: int = 0  # "task1_1 (2).py" -> 2; "- Copy" -> 1; 0 for the original
    faults: tuple[str, ...] = ()  # how the name differs from the exact one, in words

    @property
    def exact(self) -> bool:
        return not self.faults


def split_extension(name: str) -> tuple[str, str, list[str]]:
    """(stem, extension as written, faults) for ``task1_1.py``, ``task1_1.PY``, ``task1_1.py.py``."""
    faults = []
    lower = name.lower()
    for doubled in (".py.py", ".ipynb.ipynb", ".zip.zip"):
        if lower.endswith(doubled):
            single = len(doubled) // 2
            faults.append(f"the extension is doubled ({name[-len(doubled) :]})")
            return name[: -len(doubled)], name[-single:], faults
    dot = name.rfind(".")
    if dot <= 0:
        return name, "", faults
    return name[:dot], name[dot:], faults


def parse(name: str, assignment: Assignment, zip_owner: str | None = None) -> NameMatch | None:
    """Tie ``name`` to a task and a student, or return None when that would need a guess.

    Inside a student's zip (``zip_owner`` given) a name without an id (``task1.py``) is
    that student's file, and a zip name means nothing.
    """
    stem, extension, faults = split_extension(name)
    kind = kind_of(extension, assignment)
    if kind is None or (kind == "zip" and zip_owner is not None):
        return None
    if extension != extension.lower():
        faults.append(f"the extension is upper-case ({extension})")
    copy_match = COPY.match(stem)
    copy = 0
    if copy_match and copy_match.group("stem") != stem:
        stem = copy_match.group("stem")
        copy = int(copy_match.group("n") or 1)
        faults.append("it carries a copy marker (a re-download or a copy of the file)")
    tokens = [t for t in SEPARATORS.split(stem.strip()) if t]
    separators = set(re.findall(r"[\-\s]+", stem.strip()))
    if kind == "zip":
        return _zip(tokens, separators, faults, copy, assignment)
    return _task_file(tokens, separators, faults, copy, kind, assignment, zip_owner)


def kind_of(extension: str, assignment: Assignment) -> str | None:
    """What a file with this extension can be in ``assignment`` (None: nothing)."""
    extension = extension.lower()
    if any(t.kind == "data" and t.suffix.lower() == extension for t in assignment.files):
        return "data"
    return KINDS.get(extension)


def _zip(
    tokens: list[str], separators: set[str], faults: list[str], copy: int, assignment: Assignment
) -> NameMatch | None:
    pattern = re.compile(rf"{assignment.id_pattern}")
    # "<id>.zip" alone: only a name with a digit in it is taken for an id ("homework.zip" is not one).
    if (
        len(tokens) == 1
        and pattern.fullmatch(tokens[0])
        and any(c.isdigit() for c in tokens[0])
        and tokens[0].lower() != assignment.name.lower()
    ):
        faults.append(f"the zip is named after the student only (expected <id>_{assignment.name}.zip)")
        return NameMatch("zip", None, tokens[0], copy, tuple(faults))
    if len(tokens) == 2:
        names = [t.lower() == assignment.name.lower() for t in tokens]
        if names.count(True) == 1:
            sid = tokens[names.index(False)]
            if pattern.fullmatch(sid) and sid.lower() not in RESERVED_IDS:
                if names[0]:
                    faults.append("the assignment comes before the student id")
                if tokens[names.index(True)] != assignment.name:
                    faults.append(f"the assignment name's case differs ({tokens[names.index(True)]})")
                if separators:
                    faults.append("the parts are separated by something other than '_'")
                return NameMatch("zip", None, sid, copy, tuple(faults))
    return None


def _task_file(
    tokens: list[str],
    separators: set[str],
    faults: list[str],
    copy: int,
    kind: str,
    assignment: Assignment,
    zip_owner: str | None,
) -> NameMatch | None:
    code = kind in ("source", "notebook")
    tasks = {t.task.lower(): t.task for t in assignment.files if (t.kind == "code") == code}
    positions = [i for i, token in enumerate(tokens) if token.lower() in tasks]
    if len(positions) != 1:
        return None
    written = tokens[positions[0]]
    task = tasks[written.lower()]
    others = [t for i, t in enumerate(tokens) if i != positions[0]]
    if written != task:
        faults.append(f"the task name's case differs ({written})")
    if kind == "notebook":
        faults.append("it is a notebook (its code cells were graded, in order, as the .py file)")
    if not others:
        if zip_owner is None:
            return None  # "task1.py" on its own: whose is it?
        return NameMatch(
            kind, task, None, copy, tuple(faults + [f"it has no student id (expected {task}_{zip_owner}.py)"])
        )
    if len(others) != 1:
        return None
    sid = others[0]
    if zip_owner is not None and sid.lower() == "template":
        return NameMatch(kind, task, None, copy, tuple(faults + ["it still has the template's name"]))
    if not re.fullmatch(assignment.id_pattern, sid) or sid.lower() in RESERVED_IDS:
        return None
    if positions[0] != 0:
        faults.append("the student id comes before the task name")
    if separators:
        faults.append("the parts are separated by something other than '_'")
    return NameMatch(kind, task, sid, copy, tuple(faults))


def exact_name(task: str, sid: str, assignment: Assignment) -> str:
    return f"{task}_{sid}{assignment.file(task).suffix}"


def explain(name: str, assignment: Assignment) -> str:
    """Why ``name`` could not be tied to a student and a task (for the folder problems)."""
    stem, extension, _ = split_extension(name)
    lower = stem.lower()
    for task in assignment.files:
        if name == task.template or lower == f"{task.task}_template":
            return f"the untouched template name; rename it {task.task}_<studentID>{task.suffix} so it can be credited"
    kind = kind_of(extension, assignment)
    if kind is None:
        data = "".join(f", {t.suffix} files" for t in assignment.files if t.kind == "data")
        return f"not a file of this assignment (expected .py files{data}, a notebook or a zip)"
    copy_match = COPY.match(stem)
    tokens = [t for t in SEPARATORS.split(copy_match.group("stem") if copy_match else stem) if t]
    tasks = {t.task.lower() for t in assignment.files}
    found = [t for t in tokens if t.lower() in tasks]
    if kind == "zip":
        return f"a zip whose name holds no single student id (expected <studentID>_{assignment.name}.zip)"
    if not found:
        return f"the name holds no task name ({', '.join(t.task for t in assignment.files)})"
    if len(found) > 1:
        return "the name holds more than one task name"
    if len(tokens) == 1:
        suffix = next(t.suffix for t in assignment.files if t.task.lower() == found[0].lower())
        return f"the name holds no student id (expected {found[0].lower()}_<studentID>{suffix})"
    return "the name holds more than a task name and one student id; it cannot be tied to one student"
