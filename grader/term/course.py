"""The term's options, from the command line or a course file, and the :class:`Term` they make.

Every option is a flag of ``grade`` (``--roster``, ``--due``, ...). A course file bundles
them for the whole term (``--course course.toml``); a flag on the command line wins over
the file. The file's keys are the flags' names with ``_`` for ``-``::

    roster = "canvas-gradebook.csv"      # paths are relative to the course file
    roster_id = "SIS User ID"
    due = "2026-12-01T23:59:00+08:00"
    grace = 15                           # minutes
    late_penalty = 10                    # percent of the earned points per started day
    late_max_days = 3
    extensions = "extensions.csv"
    submitted = "submitted.csv"
    overrides = "overrides.csv"
    labels = "hidden/labels.csv"         # a contest's hidden labels
    cutoffs = [0.5, 0.8]
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.intake.roster import read_roster
from grader.term.grades import Term
from grader.term.late import LatePolicy, parse_time, read_times
from grader.term.overrides import Seen, read_overrides

PATH_OPTIONS = ("roster", "extensions", "submitted", "overrides", "labels")


class CourseError(ValueError):
    """The course file or a term option cannot be used; the message says why."""


@dataclass
class TermOptions:
    roster: Path | None = None
    roster_id: str | None = None
    due: str | None = None
    grace: float = 0.0
    late_penalty: float = 0.0
    late_max_days: int | None = None
    extensions: Path | None = None
    submitted: Path | None = None
    overrides: Path | None = None
    labels: Path | None = None
    cutoffs: tuple[float, float] | None = None

    def merged_with(self, given: dict) -> TermOptions:
        """These options (from a course file) with every flag given on the command line on top."""
        values = asdict(self)
        values.update({k: v for k, v in given.items() if v is not None and k in values})
        return TermOptions(**values)

    def build(self, assignment: Assignment, out: Path | None = None) -> Term:
        """The :class:`Term` these options describe (files read and checked now)."""
        roster = read_roster(self.roster, self.roster_id) if self.roster else None
        if self.roster_id and not self.roster:
            raise CourseError("--roster-id names a column of the roster: give --roster too")
        late = None
        late_options = [
            self.extensions,
            self.submitted,
            self.late_penalty or None,
            self.late_max_days,
            self.grace or None,
        ]
        if self.due:
            late = LatePolicy(
                due=parse_time(self.due, "--due"),
                grace=dt.timedelta(minutes=float(self.grace)),
                percent_per_day=float(self.late_penalty),
                max_days=self.late_max_days,
                extensions=read_times(self.extensions, "due", "the extensions") if self.extensions else {},
                times=read_times(self.submitted, "submitted_at", "the submission times") if self.submitted else {},
            )
        elif any(option is not None for option in late_options):
            raise CourseError(
                "late-work options (--grace, --late-penalty, --late-max-days, --extensions, --submitted) need --due"
            )
        points = {n.key: n.points for n in assignment.names}
        overrides = read_overrides(self.overrides, points) if self.overrides else {}
        return Term(roster, late, overrides, Seen(out) if overrides and out is not None else None)

    def settings(self) -> dict:
        """The checks' run settings among these options (a contest's labels and cutoffs)."""
        found: dict = {}
        if self.labels is not None:
            found["labels"] = Path(self.labels)
        if self.cutoffs is not None:
            found["cutoffs"] = tuple(self.cutoffs)
        return found

    def describe(self) -> dict:
        """Plain data for run.json: every option, and each file's content hash (shards must agree)."""
        out: dict[str, Any] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if value is None:
                continue
            if spec.name in PATH_OPTIONS:
                out[spec.name] = str(Path(value).resolve())
                out[spec.name + "_sha256"] = _digest(Path(value))
            else:
                out[spec.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_description(cls, data: dict) -> TermOptions:
        values: dict[str, Any] = {
            spec.name: data.get(spec.name) for spec in fields(cls) if data.get(spec.name) is not None
        }
        for name in PATH_OPTIONS:
            if name in values:
                path = Path(values[name])
                if _digest(path) != data.get(name + "_sha256"):
                    raise CourseError(f"{path} changed (or is gone) since the shards were graded; grade them again")
                values[name] = path
        if "cutoffs" in values:
            values["cutoffs"] = tuple(values["cutoffs"])
        return cls(**values)


def read_course(path: Path) -> TermOptions:
    """A course file (TOML); its paths are taken relative to the file."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise CourseError("--course needs Python 3.11 or newer (tomllib); give the options as flags") from None
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"cannot read the course file {path}: {exc}") from None
    names = {spec.name for spec in fields(TermOptions)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise CourseError(
            f"the course file {path} has unknown keys: {', '.join(unknown)} (known: {', '.join(sorted(names))})"
        )
    for name in PATH_OPTIONS:
        if name in data:
            data[name] = (path.parent / data[name]).resolve()
    if "cutoffs" in data:
        data["cutoffs"] = tuple(data["cutoffs"])
    return TermOptions(**data)


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""
