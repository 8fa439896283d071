"""Turn one Gradescope upload into a folder that :mod:`grader.intake.discovery` understands.

On Gradescope everything in ``/autograder/submission`` belongs to one student, and
students upload whatever they have: ``task1.py``, ``task1_<id>.py``, the untouched
``task1_template.py``, ``<id>_assignment2.zip``, any other zip, sometimes inside a
folder (a data file such as assignment3's ``predictions.csv`` likewise, with its own
suffix). This module picks one file per task (and at most one zip) and copies them into a
fresh folder under the names the batch grader expects, ``<task>_<id><suffix>`` and
``<id>_<assignment>.zip``, so the same discovery and grading run as for a whole class.
The original names are remembered, so messages can show the student their own names.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.assignment import Assignment, TaskFile
from grader.intake.discovery import JUNK

FALLBACK_ID = "student"
MAX_LISTED = 10  # ignored files named in the notes, at most


@dataclass
class Staged:
    folder: Path  # the folder to grade: files of exactly one student
    student_id: str
    notes: list[str] = field(default_factory=list)  # for the student: what was ignored and why
    renamed: dict[str, str] = field(default_factory=dict)  # staged name -> name to show the student


@dataclass
class _Candidate:
    path: Path
    relative: str  # as the student sees it, e.g. "hw2/task1.py"
    task: str | None  # None for a zip
    file_id: str | None  # the id in the file name, if any

    @property
    def depth(self) -> int:
        return self.relative.count("/")


def stage(upload: Path, dest: Path, assignment: Assignment) -> Staged:
    """Copy the task files and zip of ``upload`` into ``dest`` under the batch grader's names."""
    dest.mkdir(parents=True)
    loose: list[_Candidate] = []
    zips: list[_Candidate] = []
    ignored: list[str] = []
    task: str | TaskFile | None  # a file's task, then each task's name, then each TaskFile
    for path in sorted(upload.rglob("*")):
        relative = path.relative_to(upload).as_posix()
        if JUNK.search(relative) or any(part.startswith(".") for part in relative.split("/")):
            continue
        if path.is_symlink():
            ignored.append(f"{relative} (a symbolic link)")
            continue
        if path.is_dir():
            continue
        task, file_id = _task_of(path.name, assignment)
        if task is not None:
            loose.append(_Candidate(path, relative, task, file_id))
        elif path.suffix.lower() == ".zip":
            zips.append(_Candidate(path, relative, None, _zip_id(path.name, assignment)))
        else:
            ignored.append(relative)

    sid = _student_id(loose, zips, assignment)
    staged = Staged(dest, sid)
    ids = sorted({c.file_id for c in loose if c.file_id and c.file_id != "template"})
    if len(ids) > 1:
        staged.notes.append(
            f"the file names carry different student IDs ({', '.join(ids)}); "
            "all files were graded as this one submission"
        )

    for task, suffix in [(t.task, t.suffix) for t in assignment.files]:
        options = sorted(
            (c for c in loose if c.task == task),
            key=lambda c: (c.depth, c.file_id != sid, c.file_id == "template", c.relative),
        )
        if not options:
            continue
        chosen, rest = options[0], options[1:]
        name = f"{task}_{sid}{suffix}"
        shutil.copyfile(chosen.path, dest / name)
        staged.renamed[name] = chosen.relative
        if rest:
            staged.notes.append(
                f"several files for {task}: graded {chosen.relative}, ignored " + ", ".join(c.relative for c in rest)
            )

    # Always stage a zip, empty when the upload has none: discovery then knows the student
    # even if nothing else was found, and every graded name is reported as missing.
    zip_name = f"{sid}_{assignment.name}.zip"
    if zips:
        zips.sort(key=lambda c: (c.file_id is None, c.depth, c.relative))
        shutil.copyfile(zips[0].path, dest / zip_name)
        staged.renamed[zip_name] = zips[0].relative
        if len(zips) > 1:
            staged.notes.append(
                f"several zip files: graded {zips[0].relative}, ignored " + ", ".join(c.relative for c in zips[1:])
            )
    else:
        with zipfile.ZipFile(dest / zip_name, "w"):
            pass
    if sid == FALLBACK_ID:
        # Messages about missing files name the expected files; without an id in the
        # upload, "task2.py" reads better than "task2_student.py".
        for task in assignment.files:
            staged.renamed.setdefault(f"{task.task}_{sid}{task.suffix}", f"{task.task}{task.suffix}")
        staged.renamed.setdefault(zip_name, "a zip")
    if not loose and not zips:
        expected = ", ".join(f"{f.task}{f.suffix}" for f in assignment.files)
        staged.notes.append(
            f"no file of this assignment was found in the upload (expected {expected}, "
            f"named like task1.py or task1_<studentID>.py, or a zip of them)"
        )
    if ignored:
        more = f" and {len(ignored) - MAX_LISTED} more" if len(ignored) > MAX_LISTED else ""
        staged.notes.append("ignored (not a file of this assignment): " + ", ".join(ignored[:MAX_LISTED]) + more)
    return staged


def _task_of(name: str, assignment: Assignment) -> tuple[str | None, str | None]:
    """("task1", "42") for task1_42.py, ("task1", None) for task1.py, (None, None) otherwise."""
    for task in assignment.files:
        if name == f"{task.task}{task.suffix}":
            return task.task, None
        m = assignment.file_pattern(task).match(name)
        if m:
            return task.task, m["id"]
    return None, None


def _zip_id(name: str, assignment: Assignment) -> str | None:
    m = assignment.zip_pattern.match(name)
    return m["id"] if m else None


def _student_id(loose: list[_Candidate], zips: list[_Candidate], assignment: Assignment) -> str:
    """The id most file names agree on, or :data:`FALLBACK_ID` when none carries one.

    It only shapes messages (e.g. "expected task2_<id>.py"); the score does not depend on it.
    """
    votes = Counter(c.file_id for c in loose + zips if c.file_id and c.file_id != "template")
    for z in zips:
        votes.update(_ids_inside_zip(z.path, assignment))
    if not votes:
        return FALLBACK_ID
    best = max(votes.values())
    return sorted(i for i, n in votes.items() if n == best)[0]


def _ids_inside_zip(path: Path, assignment: Assignment) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [PurePosixPath(n.replace("\\", "/")).name for n in archive.namelist()[:500]]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
    found = []
    for name in names:
        _, file_id = _task_of(name, assignment)
        if file_id and file_id != "template":
            found.append(file_id)
    return found


def restore_names(text: str, renamed: dict[str, str]) -> str:
    """Write the student's own file names back into a message about the staged files."""
    if not renamed:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(renamed, key=len, reverse=True)))
    return pattern.sub(lambda m: renamed[m.group(0)], text)
