"""Find each student's files in a submissions folder, without changing the folder.

Names are read by :mod:`grader.intake.naming`: the exact names (``task1_<id>.py``,
``<id>_<assignment>.zip``) and every careless variant that can be tied to one student
and one task without guessing (case, ``-``, `` (1)``, ``.py.py``, ``<id>_task1.py``,
``.PY``, ``<id>.zip``, a folder inside a zip, notebooks graded from their code cells).

Naming policy (grader/packs/assignment2/ASSIGNMENT.md, "Submission naming"):

* ``lenient`` (default): such a file is graded, and the student's own feedback says
  which file counted and what was wrong with its name;
* ``strict``: only exact names are graded; a misnamed file earns 0 for its task, and the
  student's feedback names the file and says why.

When a student has several files for one task, the one graded is chosen by, in order:
the highest copy number (``task1_1 (2).py`` is a later download than ``task1_1 (1).py``,
which is later than ``task1_1.py``), a ``.py`` file before a notebook, a loose file before
one inside a zip, an exact name before a misnamed one, then the name. The student is told
which counted and which did not.

Nothing is silently dropped: every file ends up in exactly one student's feedback or in
the folder problems (operating-system clutter such as ``.DS_Store`` and ``__MACOSX/``
aside), and a student whose only files were unusable still gets a row. Zips are read in
memory with a size bound per member, so a zip bomb or a ``../`` path cannot do harm.

A folder as an LMS hands it over (a Gradescope export, a Canvas or Moodle download) is
read by :mod:`grader.intake.downloads`, which ties each submission to its student; inside a
submission, file names are read as in a student's zip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import ModuleType

from grader.assignment import Assignment
from grader.intake.naming import NameMatch, exact_name, explain, parse
from grader.notebook_source import notebook_to_source

MAX_FILE_BYTES = 2 * 1024 * 1024  # a task file larger than this is not source code
MAX_ZIP_MEMBERS = 200
JUNK = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|\._|\.ipynb_checkpoints/|__pycache__/|Thumbs\.db$|desktop\.ini$)")
POLICIES = ("lenient", "strict")


@dataclass
class SubmittedFile:
    task: str
    origin: str  # where it came from, for messages: "task1_42.py" or "42_assignment2.zip:task1_42.py"
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Student:
    id: str
    files: dict[str, SubmittedFile] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # task -> why its file was not graded
    submitted_at: dt.datetime | None = None  # when the download says it was handed in

    def fingerprint(self) -> str:
        """Content hash of everything that determines this student's result: files and problems."""
        h = hashlib.sha256()
        for task in sorted(self.files):
            h.update(task.encode() + b"\0" + self.files[task].origin.encode() + b"\0" + self.files[task].data + b"\0")
        for problem in self.problems:
            h.update(problem.encode() + b"\0")
        for task in sorted(self.blocked):
            h.update(task.encode() + b"\0" + self.blocked[task].encode() + b"\0")
        return h.hexdigest()


@dataclass
class Discovery:
    students: dict[str, Student] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # files that belong to no student
    layout: str | None = None  # the LMS download it was, if any

    def student(self, sid: str) -> Student:
        return self.students.setdefault(sid, Student(sid))


@dataclass
class _Candidate:
    """One file that could be a student's task file."""

    task: str
    origin: str
    match: NameMatch
    in_zip: bool
    data: bytes | None = None
    unusable: str | None = None  # why it cannot be graded (unreadable, too large, bad notebook)
    faults: tuple[str, ...] = ()

    def rank(self) -> tuple:
        """Sort key: the file to grade comes first (see the module docstring)."""
        return (-self.match.copy, self.match.kind != "source", self.in_zip, bool(self.faults), self.origin)


def discover(folder: Path, assignment: Assignment, naming: str | None = None, roster=None) -> Discovery:
    """Every student's files; ``naming`` overrides the pack's policy ("lenient"/"strict").

    ``roster`` (:class:`grader.intake.roster.Roster`) ties an LMS download's own user ids to
    student ids.
    """
    downloads: ModuleType | None  # None in the student kit
    try:
        from grader.intake import downloads
    except ImportError:  # the student kit: no LMS downloads to read, only the student's own files
        downloads = None

    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"submissions folder {folder} does not exist or is not a folder")
    policy = naming or assignment.naming
    if policy not in POLICIES:
        raise ValueError(f"unknown naming policy {policy!r}; use one of {', '.join(POLICIES)}")
    found = Discovery()
    candidates: dict[str, dict[str, list[_Candidate]]] = {}

    def add(sid: str, candidate: _Candidate) -> None:
        found.student(sid)
        candidates.setdefault(sid, {}).setdefault(candidate.task, []).append(candidate)

    found.layout = downloads.detect(folder) if downloads is not None else None
    if found.layout is not None:
        assert downloads is not None  # a layout is only detected with it
        submissions, problems = downloads.read(folder, found.layout, roster, lambda names: _one_id(names, assignment))
        found.problems += problems
        for submission in submissions:
            _read_submission(submission, assignment, found, add)
    else:
        _read_flat(folder, assignment, found, add)

    for sid, tasks in candidates.items():
        student = found.students[sid]
        for task in sorted(tasks, key=lambda t: [f.task for f in assignment.files].index(t)):
            _choose(student, task, tasks[task], policy, assignment)
    return found


def _read_flat(folder: Path, assignment: Assignment, found: Discovery, add) -> None:
    """A folder of files named by the handout (``task1_<id>.py``, ``<id>_<assignment>.zip``)."""
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        name = path.name
        if JUNK.search(name) or name.startswith("."):
            continue
        if path.is_dir():
            found.problems.append(f"{name}/: a folder; only files at the top of the submissions folder are graded")
            continue
        match = parse(name, assignment)
        if match is None:
            found.problems.append(f"{name}: {explain(name, assignment)}")
            continue
        if match.kind == "zip":
            _read_zip(path, match, assignment, found, add)
            continue
        assert match.task is not None  # only a zip has no task
        data, reason = _read_file(path)
        add(match.student, _Candidate(match.task, name, match, False, data, reason, match.faults))


def _read_submission(submission, assignment: Assignment, found: Discovery, add) -> None:
    """The files of one LMS submission (:class:`grader.intake.downloads.Submission`), all its student's."""
    sid = submission.student
    student = found.student(sid)
    student.problems += submission.notes
    if submission.submitted_at is not None:
        if student.submitted_at is None or submission.submitted_at > student.submitted_at:
            student.submitted_at = submission.submitted_at
    ignored = []
    for name, origin, path, copy in submission.files:
        if JUNK.search(origin):
            continue
        if name.lower().endswith(".zip"):
            _read_zip(path, NameMatch("zip", None, sid, copy), assignment, found, add, origin=origin)
            continue
        match = parse(name, assignment, zip_owner=sid)
        if match is None:
            ignored.append(origin)
            continue
        faults = list(f for f in match.faults if "copy marker" not in f or not copy)
        if match.student is not None and match.student != sid:
            faults.append(f"it names student {match.student}, not {sid}")
        match = NameMatch(match.kind, match.task, sid, max(match.copy, copy), tuple(faults))
        assert match.task is not None  # parse gives a task for every file that is not a zip
        data, reason = _read_file(path)
        add(sid, _Candidate(match.task, origin, match, False, data, reason, match.faults))
    if ignored:
        shown = ", ".join(ignored[:10]) + (f" and {len(ignored) - 10} more" if len(ignored) > 10 else "")
        student.problems.append(f"{submission.label}: not graded (not a file of this assignment): {shown}")


def _one_id(names: list[str], assignment: Assignment) -> str | None:
    """The one student id every task-file name in ``names`` carries, or None."""
    ids = {m.student for m in (parse(n, assignment) for n in names) if m is not None and m.student}
    return ids.pop() if len(ids) == 1 else None


def _choose(student: Student, task: str, options: list[_Candidate], policy: str, assignment: Assignment) -> None:
    """Pick the file graded for ``task``; tell the student about every candidate."""
    exact = exact_name(task, student.id, assignment)
    for candidate in options:
        if candidate.unusable is None and candidate.data is not None and candidate.match.kind == "notebook":
            candidate.data, candidate.unusable = notebook_to_source(candidate.data)
    usable = sorted((c for c in options if c.unusable is None), key=_Candidate.rank)
    for candidate in options:
        if candidate.unusable is not None:
            student.problems.append(f"{candidate.origin}: {candidate.unusable}")
            if not usable:  # the reason this task earns nothing, shown with its graded names
                student.blocked.setdefault(task, f"{candidate.origin}: {candidate.unusable}")
    if policy == "strict":
        misnamed = [c for c in usable if c.faults]
        usable = [c for c in usable if not c.faults]
        for candidate in misnamed:
            reason = (
                f"{candidate.origin}: not graded: this course grades only files named exactly as told "
                f"({exact}); this one differs: {'; '.join(candidate.faults)}"
            )
            student.problems.append(reason)
            if not usable:
                student.blocked.setdefault(task, reason)
    if not usable:
        return
    chosen, *others = usable
    assert chosen.data is not None  # a candidate without data is unusable
    student.files[task] = SubmittedFile(task, chosen.origin, chosen.data)
    if chosen.faults:
        student.problems.append(
            f"{chosen.origin}: graded as your {task} file, but the name should be {exact}: " + "; ".join(chosen.faults)
        )
    for other in others:
        same = "identical" if other.data == chosen.data else "different"
        student.problems.append(
            f"{other.origin}: not graded ({same} content): {chosen.origin} was graded for {task} "
            f"instead ({_why_first(chosen, other)})"
        )


def _why_first(chosen: _Candidate, other: _Candidate) -> str:
    if chosen.match.copy != other.match.copy:
        return "a higher copy number is the later download"
    if chosen.match.kind != other.match.kind:
        return "a .py file counts before a notebook"
    if chosen.in_zip != other.in_zip:
        return "a loose file counts before the same file in a zip"
    if bool(chosen.faults) != bool(other.faults):
        return "its name is the exact one"
    return "the first by name"


def _read_file(path: Path) -> tuple[bytes | None, str | None]:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return (
                None,
                f"too large to be graded ({size // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB per file)",
            )
        with open(path, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1), None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"


def _read_zip(
    path: Path, match: NameMatch, assignment: Assignment, found: Discovery, add, origin: str | None = None
) -> None:
    sid = match.student
    assert sid is not None  # a zip is always tied to a student
    student = found.student(sid)
    zip_name = origin or path.name
    if match.faults:
        student.problems.append(
            f"{zip_name}: read as your zip, but the name should be {sid}_{assignment.name}.zip: "
            + "; ".join(match.faults)
        )
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        student.problems.append(f"{zip_name}: not a readable zip file ({exc}); nothing in it was graded")
        return
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not JUNK.search(m.filename)]
        if len(members) > MAX_ZIP_MEMBERS:
            student.problems.append(
                f"{zip_name}: holds {len(members)} files; only the first {MAX_ZIP_MEMBERS} were looked at"
            )
            members = members[:MAX_ZIP_MEMBERS]
        ignored = []
        for member in members:
            inner = PurePosixPath(member.filename.replace("\\", "/"))
            if inner.is_absolute() or ".." in inner.parts:
                student.problems.append(f"{zip_name}: ignored {member.filename!r} (unsafe path)")
                continue
            inside = parse(inner.name, assignment, zip_owner=sid)
            if inside is None:
                ignored.append(member.filename)
                continue
            faults = list(inside.faults)
            if match.faults:
                faults.append(f"it comes from a zip not named {sid}_{assignment.name}.zip")
            if inside.student is not None and inside.student != sid:
                faults.append(f"it names student {inside.student}, not {sid}")
            if len(inner.parts) > 1:
                faults.append(f"it is inside the folder {inner.parent}/ instead of at the zip's top level")
            origin = f"{zip_name}:{member.filename}"
            assert inside.task is not None  # parse gives a task for every file that is not a zip
            data, reason = _read_member(archive, member)
            add(sid, _Candidate(inside.task, origin, inside, True, data, reason, tuple(faults)))
        if ignored:
            shown = ", ".join(ignored[:10]) + (f" and {len(ignored) - 10} more" if len(ignored) > 10 else "")
            student.problems.append(f"{zip_name}: not graded (not a file of this assignment): {shown}")


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> tuple[bytes | None, str | None]:
    if member.file_size > MAX_FILE_BYTES:
        return (
            None,
            f"too large to be graded ({member.file_size // 1024} KiB; the limit is {MAX_FILE_BYTES // 1024} KiB per file)",
        )
    try:
        with archive.open(member) as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError, ValueError) as exc:
        return None, f"cannot be extracted ({exc})"
    if len(data) > MAX_FILE_BYTES:
        return None, f"decompresses to more than {MAX_FILE_BYTES // 1024} KiB; not graded"
    return data, None
