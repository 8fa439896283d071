"""Submission folders as an LMS hands them over, each file tied to its student.

Students rarely name files by the handout when an LMS collects them; the LMS adds its own
names around theirs. Three downloads are read as they are:

* **Gradescope** ("Export Submissions"): a ``submission_<n>/`` folder per submission, with
  the files as uploaded, and ``submission_metadata.yml`` at the top naming each folder's
  submitters (``:sid:``, ``:name:``, ``:email:``) and when it was made (``:created_at:``);
* **Canvas** ("Download Submissions"): every file in one folder, named
  ``<name>[_late]_<canvas user id>_<submission id>_<file as uploaded>``, a resubmitted file
  with ``-1``, ``-2`` ... before its extension;
* **Moodle** ("Download all submissions"): a folder per participant,
  ``<Full Name>_<participant id>_assignsubmission_file_`` (or, without folders, that
  prefix on every file).

Inside a submission, a file's own name only has to say which task it is (``task1.py``
will do; a name with another student's id is graded and flagged), and a zip is read like
a student's zip. Where the download names the student only by the LMS's own id (Canvas,
Moodle), the roster ties it to the student id (:mod:`.roster`); without one, an id that
every file of the submission names is used, and otherwise the LMS id itself, with a note.
Submission times come from the download where it holds them (Gradescope), never from file
modification times.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.intake.roster import Roster

GRADESCOPE_METADATA = "submission_metadata.yml"
CANVAS = re.compile(
    r"^(?P<who>[^_]+)_(?:(?P<late>late)_)?(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)$", re.IGNORECASE
)
MOODLE = re.compile(r"^(?P<who>.+)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<file>.*)$")
RESUBMITTED = re.compile(r"^(?P<stem>.+?)-(?P<n>\d{1,3})(?P<ext>\.[A-Za-z0-9]+)$")
LAYOUTS = ("gradescope", "canvas", "moodle")


@dataclass
class Submission:
    """The files of one submission, and the student the download ties them to."""

    student: str
    label: str  # for messages: "submission_123/", "Canvas user 45"
    files: list[tuple[str, str, Path, int]] = field(default_factory=list)  # (name, origin, path, copy number)
    submitted_at: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)  # for the student's feedback
    lms_id: str = ""


def detect(folder: Path) -> str | None:
    """Which LMS download ``folder`` is, or None for a plain folder of renamed files."""
    if (folder / GRADESCOPE_METADATA).is_file():
        return "gradescope"
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if entries and sum(1 for p in entries if MOODLE.match(p.name)) * 2 > len(entries):
        return "moodle"
    files = [p for p in entries if p.is_file()]
    if files and sum(1 for p in files if CANVAS.match(p.name)) * 2 > len(files):
        return "canvas"
    return None


def read(folder: Path, layout: str, roster: Roster | None, ids_in_names) -> tuple[list[Submission], list[str]]:
    """The submissions of an LMS download, and the folder problems (entries tied to no one).

    ``ids_in_names(names)`` is the one student id that every task-file name in ``names``
    carries, or None: how a submission is tied where neither the download nor a roster can.
    """
    reader = {"gradescope": _gradescope, "canvas": _canvas, "moodle": _moodle}[layout]
    return reader(folder, roster, ids_in_names)


# --- Gradescope -------------------------------------------------------------------------------------


def _gradescope(folder: Path, roster: Roster | None, ids_in_names) -> tuple[list[Submission], list[str]]:
    import yaml

    problems: list[str] = []
    try:
        metadata = yaml.safe_load((folder / GRADESCOPE_METADATA).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{GRADESCOPE_METADATA} cannot be read: {str(exc).splitlines()[0]}") from None
    if not isinstance(metadata, dict):
        raise ValueError(f"{GRADESCOPE_METADATA} does not map submission folders to their submitters")
    submissions = []
    listed = set()
    for name in sorted(metadata, key=str):
        record = metadata[name]
        listed.add(str(name))
        path = folder / str(name)
        if not isinstance(record, dict) or not path.is_dir():
            problems.append(
                f"{GRADESCOPE_METADATA}: {name}: "
                + ("no such folder" if isinstance(record, dict) else "not a submission record")
            )
            continue
        submitters = [s for s in record.get(":submitters") or [] if isinstance(s, dict)]
        when = _when(record.get(":created_at"))
        files = _files_in(path, f"{name}/")
        if not submitters:
            problems.append(f"{name}/: {GRADESCOPE_METADATA} names no submitter for it")
            continue
        for person in submitters:
            sid = str(person.get(":sid") or "").strip()
            if not sid:
                who = person.get(":name") or person.get(":email") or "a submitter"
                problems.append(
                    f"{name}/: {who} has no student id (:sid:) in {GRADESCOPE_METADATA}; add SIDs to "
                    "the Gradescope roster"
                )
                continue
            entry = Submission(sid, f"{name}/", files, when, lms_id=str(name))
            if len(submitters) > 1:
                others = ", ".join(str(p.get(":sid") or p.get(":name")) for p in submitters if p is not person)
                entry.notes.append(f"{name}/: a group submission, graded for each member (with {others})")
            submissions.append(entry)
    for path in sorted(folder.iterdir()):
        if path.is_dir() and path.name not in listed and not path.name.startswith("."):
            problems.append(f"{path.name}/: a folder {GRADESCOPE_METADATA} does not list; not graded")
    return submissions, problems


def _when(value) -> dt.datetime | None:
    """A Gradescope time: YAML may already have read it as a datetime, or left it as text."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # nanoseconds: keep microseconds
        text = re.sub(r" ([+-]\d\d:?\d\d)$", r"\1", text)
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return None


def _files_in(folder: Path, prefix: str) -> list[tuple[str, str, Path, int]]:
    return [
        (p.name, prefix + p.relative_to(folder).as_posix(), p, 0)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    ]


# --- Canvas -----------------------------------------------------------------------------------------


def _canvas(folder: Path, roster: Roster | None, ids_in_names) -> tuple[list[Submission], list[str]]:
    problems: list[str] = []
    by_user: dict[str, list[tuple[str, str, Path, int]]] = {}
    late: set[str] = set()
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        match = CANVAS.match(path.name) if path.is_file() else None
        if match is None:
            problems.append(
                f"{path.name}{'/' if path.is_dir() else ''}: not named as Canvas names a submitted file "
                "(<name>_<user id>_<submission id>_<file>); not graded"
            )
            continue
        name, copy = _resubmission(match["file"])
        by_user.setdefault(match["user"], []).append((name, path.name, path, copy))
        if match["late"]:
            late.add(match["user"])
    submissions = []
    for user, files in sorted(by_user.items()):
        entry = _tied(user, "Canvas user", files, roster, ids_in_names)
        if user in late:
            entry.notes.append("Canvas marked this submission late")
        submissions.append(entry)
    return submissions, problems


def _resubmission(name: str) -> tuple[str, int]:
    """Canvas adds -1, -2 ... before the extension of a file submitted again: the later, the higher."""
    match = RESUBMITTED.match(name)
    if match is None:
        return name, 0
    return match["stem"] + match["ext"], int(match["n"])


# --- Moodle -----------------------------------------------------------------------------------------


def _moodle(folder: Path, roster: Roster | None, ids_in_names) -> tuple[list[Submission], list[str]]:
    problems: list[str] = []
    by_participant: dict[str, list[tuple[str, str, Path, int]]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        match = MOODLE.match(path.name)
        if match is None:
            problems.append(f"{path.name}: not named as Moodle names a submission; not graded")
            continue
        if match["plugin"] != "file":
            problems.append(f"{path.name}: a Moodle {match['plugin']} submission, not files; not graded")
            continue
        files = by_participant.setdefault(match["participant"], [])
        if path.is_dir():
            files += _files_in(path, f"{path.name}/")
        elif match["file"]:
            files.append((match["file"], path.name, path, 0))
    submissions = [
        _tied(participant, "Moodle participant", files, roster, ids_in_names)
        for participant, files in sorted(by_participant.items())
    ]
    return submissions, problems


# --- whose is it -------------------------------------------------------------------------------------


def _tied(
    lms_id: str, what: str, files: list[tuple[str, str, Path, int]], roster: Roster | None, ids_in_names
) -> Submission:
    """The submission of the LMS user ``lms_id``, tied to a student id."""
    label = f"{what} {lms_id}"
    entry = roster.by_lms_id(lms_id) if roster is not None else None
    if entry is not None:
        return Submission(entry.student_id, label, files, lms_id=lms_id)
    named = ids_in_names([name for name, _, _, _ in files])
    if named is not None:
        return Submission(named, label, files, lms_id=lms_id)
    submission = Submission(lms_id, label, files, lms_id=lms_id)
    reason = "is not on the roster" if roster is not None else "cannot be tied to a student id without a roster"
    submission.notes.append(
        f"{label} {reason}, and the file names carry no student id: graded under the LMS id {lms_id}"
    )
    return submission
