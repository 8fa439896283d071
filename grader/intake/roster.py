"""The class roster: every student who should have a row in the gradebook.

Read from a CSV as the TA has it:

* a plain file with a ``student_id`` column (other columns are kept for exports);
* a Canvas gradebook export as it is (``Student,ID,SIS User ID,SIS Login ID,Section,...``):
  its ``Points Possible`` row is skipped, the student id is ``SIS User ID``, and Canvas's
  own user id (``ID``) ties the files of a Canvas bulk download to the student;
* a Moodle grading worksheet (``Identifier,Full name,Email address,...``): the student id
  is ``ID number`` where the site shows it, else the email address, and the participant
  number in ``Identifier`` ("Participant 123456") ties the folders of a Moodle download.

``--roster-id COLUMN`` names the student-id column where the default is not the one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

MAX_ROSTER_BYTES = 32 * 1024**2


class RosterError(ValueError):
    """The roster file cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class RosterEntry:
    student_id: str
    name: str
    row: dict[str, str]  # every column of the file, as read
    lms_id: str = ""  # the LMS's own user id (Canvas ID, Moodle participant)


@dataclass
class Roster:
    path: Path
    kind: str  # "canvas", "moodle" or "csv"
    id_column: str
    header: list[str]
    entries: list[RosterEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # rows without a student id, and why

    def ids(self) -> list[str]:
        return [e.student_id for e in self.entries]

    def get(self, student_id: str) -> RosterEntry | None:
        return self._index()[0].get(student_id)

    def by_lms_id(self, lms_id: str) -> RosterEntry | None:
        return self._index()[1].get(lms_id)

    def _index(self) -> tuple[dict[str, RosterEntry], dict[str, RosterEntry]]:
        if len(getattr(self, "_indexed", ())) != len(self.entries):
            self._indexed = list(self.entries)
            self._by_id = {e.student_id: e for e in self.entries}
            self._by_lms = {e.lms_id: e for e in self.entries if e.lms_id}
        return self._by_id, self._by_lms


def read_roster(path: Path, id_column: str | None = None) -> Roster:
    """The roster in ``path``; raises :class:`RosterError` with the reason when it cannot be used."""
    path = Path(path)
    try:
        data = path.read_bytes()[: MAX_ROSTER_BYTES + 1]
    except OSError as exc:
        raise RosterError(f"cannot read the roster {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"the roster {path} is larger than {MAX_ROSTER_BYTES // 1024**2} MiB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # an old spreadsheet's export: names may be mangled, ids are not
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise RosterError(f"the roster {path} is empty")
    header = [cell.strip() for cell in rows[0]]
    kind = _kind(header)
    column = id_column or {"canvas": "SIS User ID", "moodle": _moodle_id_column(header)}.get(kind, "student_id")
    if column not in header:
        known = ", ".join(h for h in header if h) or "none"
        raise RosterError(
            f"the roster {path} has no column {column!r} (its columns: {known}); name the student "
            "id column with --roster-id"
        )
    roster = Roster(path, kind, column, header)
    seen: set[str] = set()
    for number, cells in enumerate(rows[1:], start=2):
        row = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(header)}
        if not any(row.values()):
            continue
        name = row.get("Student") or row.get("Full name") or row.get("name") or ""
        if kind == "canvas" and name.strip() == "Points Possible":
            continue
        student_id = row[column]
        if not student_id:
            roster.skipped.append(f"line {number} ({name or 'no name'}): no {column}")
            continue
        if student_id in seen:
            raise RosterError(f"the roster {path} lists {column} {student_id} twice (line {number})")
        seen.add(student_id)
        roster.entries.append(RosterEntry(student_id, name, row, _lms_id(kind, row)))
    if not roster.entries:
        raise RosterError(f"the roster {path} lists no student with a {column}")
    return roster


def _kind(header: list[str]) -> str:
    if {"Student", "ID", "SIS User ID"} <= set(header):
        return "canvas"
    if "Identifier" in header and "Full name" in header:
        return "moodle"
    return "csv"


def _moodle_id_column(header: list[str]) -> str:
    return "ID number" if "ID number" in header else "Email address"


def _lms_id(kind: str, row: dict[str, str]) -> str:
    if kind == "canvas":
        return row.get("ID", "")
    if kind == "moodle":
        identifier = row.get("Identifier", "")
        return identifier.split()[-1] if identifier.lower().startswith("participant") else identifier
    return ""
