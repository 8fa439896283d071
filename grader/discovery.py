"""Find each student's files in a submissions folder, without changing the folder.

Recognised (ASSIGNMENTS.md, "Submission naming"):

* loose files ``<task>_<id>.py`` (``task1_3180100111.py``);
* one ``<id>_<assignment>.zip`` per student, holding the task files at its root.

Everything else is reported, never silently dropped: template-named files that belong to
no one, zips whose files sit in a folder (still graded), two versions of the same file,
unreadable or oversized files, unsafe zip members. Zips are read in memory with a size
bound per member, so a zip bomb or a ``../`` path cannot do harm.
"""
from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .assignment import Assignment, TaskFile

MAX_FILE_BYTES = 2 * 1024 * 1024      # a task file larger than this is not source code
MAX_ZIP_MEMBERS = 200
JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|\._|\.ipynb_checkpoints/|__pycache__/)")


@dataclass
class SubmittedFile:
    task: str
    origin: str          # where it came from, for messages: "task1_42.py" or "42_assignment2.zip:task1_42.py"
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Student:
    id: str
    files: dict[str, SubmittedFile] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Content hash of everything that determines this student's result: files and problems."""
        h = hashlib.sha256()
        for task in sorted(self.files):
            h.update(task.encode() + b"\0" + self.files[task].origin.encode() + b"\0" + self.files[task].data + b"\0")
        for problem in self.problems:
            h.update(problem.encode() + b"\0")
        return h.hexdigest()


@dataclass
class Discovery:
    students: dict[str, Student] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)   # files that belong to no student

    def student(self, sid: str) -> Student:
        return self.students.setdefault(sid, Student(sid))


def discover(folder: Path, assignment: Assignment) -> Discovery:
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"submissions folder {folder} does not exist or is not a folder")
    found = Discovery()
    loose: list[tuple[Student, SubmittedFile]] = []
    zipped: list[tuple[Student, SubmittedFile]] = []

    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name
        if JUNK.search(name) or name.startswith("."):
            continue
        if path.is_dir():
            found.problems.append(f"{name}/: a folder; only files at the top of the submissions folder are graded")
            continue
        zip_match = assignment.zip_pattern.match(name)
        if zip_match:
            _read_zip(path, zip_match["id"], assignment, found, zipped)
            continue
        task, sid = _match_task_file(name, assignment)
        if task is None:
            found.problems.append(f"{name}: {_explain_unknown(name, assignment)}")
            continue
        data, reason = _read_file(path)
        student = found.student(sid)
        if data is None:
            student.problems.append(f"{name}: {reason}")
            continue
        loose.append((student, SubmittedFile(task.task, name, data)))

    # Zips first, loose files second: when both hold a task, the loose file wins and the
    # duplicate is reported to the student and in the summary.
    for student, submitted in zipped + loose:
        _add(student, submitted, found)
    return found


def _add(student: Student, submitted: SubmittedFile, found: Discovery) -> None:
    previous = student.files.get(submitted.task)
    if previous is not None:
        same = "identical" if previous.data == submitted.data else "different"
        note = (f"two versions of {submitted.task} ({same}): {previous.origin} and {submitted.origin}; "
                f"graded {submitted.origin}")
        student.problems.append(note)
        found.problems.append(f"student {student.id}: {note}")
    student.files[submitted.task] = submitted


def _match_task_file(name: str, assignment: Assignment) -> tuple[TaskFile | None, str]:
    for task in assignment.files:
        m = assignment.file_pattern(task).match(name)
        if m and m["id"] != "template":
            return task, m["id"]
    return None, ""


def _explain_unknown(name: str, assignment: Assignment) -> str:
    lower = name.lower()
    for task in assignment.files:
        if name == task.template:
            return f"the untouched template name; rename it {task.task}_<studentID>{task.suffix} so it can be credited"
        if lower.startswith(task.task.lower() + "_") and not name.startswith(task.task + "_"):
            return f"looks like {task.task}_<studentID>.py but the case differs; names are case-sensitive"
        if lower.startswith(task.task + "_") and not lower.endswith(task.suffix):
            return f"a {task.task} file that is not a {task.suffix} file"
    if lower.endswith(".zip"):
        return f"a zip not named <studentID>_{assignment.name}.zip"
    return "not a recognised submission file name"


def _read_file(path: Path) -> tuple[bytes | None, str]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, f"too large to be graded ({size // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB per file)"
        with open(path, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1), ""
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"


def _read_zip(path: Path, sid: str, assignment: Assignment, found: Discovery,
              out: list[tuple[Student, SubmittedFile]]) -> None:
    student = found.student(sid)
    zip_name = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        student.problems.append(f"{zip_name}: not a readable zip file ({exc}); nothing in it was graded")
        found.problems.append(f"{zip_name}: unreadable zip")
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not JUNK.search(m.filename)]
        if len(members) > MAX_ZIP_MEMBERS:
            student.problems.append(f"{zip_name}: holds {len(members)} files; only the first {MAX_ZIP_MEMBERS} were looked at")
            members = members[:MAX_ZIP_MEMBERS]
        nested = set()
        candidates: dict[str, list[tuple[int, zipfile.ZipInfo, str]]] = {}
        for member in members:
            inner = PurePosixPath(member.filename.replace("\\", "/"))
            if inner.is_absolute() or ".." in inner.parts:
                student.problems.append(f"{zip_name}: ignored {member.filename!r} (unsafe path)")
                continue
            task, how = _task_of_zip_member(inner.name, sid, assignment)
            if task is None:
                if inner.suffix == ".py":
                    student.problems.append(f"{zip_name}: ignored {member.filename} ({how})")
                continue
            depth = len(inner.parts) - 1
            if depth:
                nested.add(str(inner.parent))
            note = how
            candidates.setdefault(task.task, []).append((depth, member, note))
        for folder in sorted(nested):
            student.problems.append(f"{zip_name}: files are inside the folder {folder}/ instead of at the zip's root (graded anyway)")
        for task_name in sorted(candidates):
            options = sorted(candidates[task_name], key=lambda c: (c[0], c[1].filename))
            depth, member, note = options[0]
            if len(options) > 1:
                others = ", ".join(o[1].filename for o in options[1:])
                student.problems.append(f"{zip_name}: several files for {task_name}; graded {member.filename}, ignored {others}")
            if note:
                student.problems.append(f"{zip_name}: {member.filename} {note}")
            origin = f"{zip_name}:{member.filename}"
            if member.file_size > MAX_FILE_BYTES:
                student.problems.append(f"{origin}: too large to be graded ({member.file_size // 1024} KiB; "
                                        f"the limit is {MAX_FILE_BYTES // 1024} KiB per file)")
                continue
            try:
                with archive.open(member) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
                student.problems.append(f"{origin}: cannot be extracted ({exc})")
                continue
            if len(data) > MAX_FILE_BYTES:
                student.problems.append(f"{origin}: decompresses to more than {MAX_FILE_BYTES // 1024} KiB; not graded")
                continue
            out.append((student, SubmittedFile(task_name, origin, data)))


def _task_of_zip_member(name: str, sid: str, assignment: Assignment) -> tuple[TaskFile | None, str]:
    """Which task a file inside a zip is, and a note when its name is not the expected one."""
    for task in assignment.files:
        m = assignment.file_pattern(task).match(name)
        if m:
            if m["id"] == sid:
                return task, ""
            if m["id"] == "template":
                return task, "still has the template's name (graded as this student's file)"
            return task, f"names student {m['id']}, not {sid} (graded as {sid}'s file)"
        if name == f"{task.task}{task.suffix}":
            return task, f"is not renamed {task.task}_{sid}{task.suffix} (graded anyway)"
    return None, "not a file of this assignment"
