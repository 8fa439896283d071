"""Grades for an LMS: ``python -m grader export OUT --format FORMAT --column NAME``.

Reads OUT/gradebook.csv (each student's ``total``: after overrides and late penalties) and
writes the file the LMS's grade import takes, in the layout its documentation gives:

* ``canvas``: ``Student,ID,SIS User ID,SIS Login ID,Section,<NAME>`` and a ``Points
  Possible`` row; names, Canvas ids and sections come from the roster (a Canvas gradebook
  export), matched on the student id;
* ``moodle``: ``ID number,Email address,<NAME>``, for Moodle's CSV grade import (map "ID
  number" to the users' ID number field);
* ``brightspace``: ``OrgDefinedId,Username,<NAME> Points Grade,End-of-Line Indicator``,
  ids with Brightspace's ``#`` prefix and ``#`` ending each row;
* ``blackboard``: ``"Last Name","First Name","Username","Student ID","<NAME> [Total Pts: P
  Score]"``, every value quoted, as the Grade Center uploads it;
* ``csv``: ``student_id,<NAME>``.

Every roster student is exported; one without a gradebook row (nothing handed in, and not
graded with the roster) gets 0.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Literal

from grader.intake.roster import Roster, RosterEntry

FORMATS = ("canvas", "moodle", "brightspace", "blackboard", "csv")


class ExportError(ValueError):
    """The export cannot be made; the message says why, in one line."""


def read_totals(out: Path) -> tuple[dict[str, str], float | None]:
    """Each student's total from OUT/gradebook.csv, and the points possible (the run's pack's)."""
    path = Path(out) / "gradebook.csv"
    try:
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    except OSError:
        raise ExportError(f"{path} does not exist: export reads the gradebook of a grade run") from None
    if rows and "total" not in rows[0]:
        raise ExportError(f"{path} has no total column (written by an older grader? grade again)")
    return {row["student_id"]: row["total"] for row in rows}, _points_possible(Path(out))


def _points_possible(out: Path) -> float | None:
    from grader.packs import load_pack
    from grader.term.shards import ShardError, read_run

    try:
        return load_pack(read_run(out)["assignment"]).points
    except (ShardError, KeyError):
        return None


def export(out: Path, fmt: str, column: str, roster: Roster | None = None) -> tuple[str, int]:
    """The import file's text, and how many students it holds."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if not column.strip():
        raise ExportError("--column names the grade column in the LMS; it must not be empty")
    totals, possible = read_totals(out)
    ids = roster.ids() if roster is not None else sorted(totals)
    missing = sorted(set(totals) - set(ids)) if roster is not None else []
    if missing:
        raise ExportError(
            f"the gradebook has students the roster does not list: {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else "")
        )
    rows = [(sid, totals.get(sid, "0"), roster.get(sid) if roster is not None else None) for sid in ids]
    writer = {
        "canvas": _canvas,
        "moodle": _moodle,
        "brightspace": _brightspace,
        "blackboard": _blackboard,
        "csv": _plain,
    }[fmt]
    return writer(rows, column, possible), len(rows)


def _field(entry: RosterEntry | None, *names: str) -> str:
    if entry is None:
        return ""
    for name in names:
        if entry.row.get(name):
            return entry.row[name]
    return ""


def _text(rows: list[list[str]], quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=quoting)
    writer.writerows(rows)
    return out.getvalue()


def _canvas(rows, column: str, possible: float | None) -> str:
    table = [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
        ["    Points Possible", "", "", "", "", f"{possible:g}" if possible is not None else ""],
    ]
    for sid, total, entry in rows:
        table.append(
            [
                _field(entry, "Student"),
                _field(entry, "ID"),
                sid,
                _field(entry, "SIS Login ID"),
                _field(entry, "Section"),
                total,
            ]
        )
    return _text(table)


def _moodle(rows, column: str, possible: float | None) -> str:
    table = [["ID number", "Email address", column]]
    table += [[sid, _field(entry, "Email address", "email", "Email"), total] for sid, total, entry in rows]
    return _text(table)


def _brightspace(rows, column: str, possible: float | None) -> str:
    table = [["OrgDefinedId", "Username", f"{column} Points Grade", "End-of-Line Indicator"]]
    for sid, total, entry in rows:
        username = _field(entry, "Username", "SIS Login ID", "username")
        table.append(["#" + sid.lstrip("#"), "#" + username.lstrip("#") if username else "", total, "#"])
    return _text(table)


def _blackboard(rows, column: str, possible: float | None) -> str:
    points = f" [Total Pts: {possible:g} Score]" if possible is not None else ""
    table = [["Last Name", "First Name", "Username", "Student ID", column + points]]
    for sid, total, entry in rows:
        last, first = _names(_field(entry, "Student", "Full name", "name"))
        table.append(
            [
                _field(entry, "Last Name") or last,
                _field(entry, "First Name") or first,
                _field(entry, "Username", "SIS Login ID", "username"),
                sid,
                total,
            ]
        )
    return _text(table, csv.QUOTE_ALL)


def _plain(rows, column: str, possible: float | None) -> str:
    return _text([["student_id", column]] + [[sid, total] for sid, total, _ in rows])


def _names(full: str) -> tuple[str, str]:
    """(last, first) from "Last, First" (Canvas) or "First Last"."""
    if "," in full:
        last, first = full.split(",", 1)
        return last.strip(), first.strip()
    parts = full.split()
    return (parts[-1], " ".join(parts[:-1])) if parts else ("", "")
