"""Late work: how late a submission was, and the points that costs.

The policy is the course's: a due time (``--due``, ISO 8601, with its time zone or in the
grading machine's), a grace period (``--grace`` minutes, default 0), a penalty in percent
of the points the student earned for every day or part of a day after due + grace
(``--late-penalty``), and a last day (``--late-max-days``): later than that earns 0.
``--extensions`` moves the due time of single students (``student_id,due``).

When each student handed in comes from ``--submitted`` (``student_id,submitted_at``) or
from the LMS download (:mod:`.downloads`), never from file modification times, which
copying, unzipping and syncing change. A student without a time is not penalised, and the
run says so once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

DAY = dt.timedelta(days=1)


class LateError(ValueError):
    """A late-work setting or file cannot be used; the message says why, in one line."""


def parse_time(text: str, what: str) -> dt.datetime:
    """An ISO 8601 time; one without a zone is taken in the grading machine's own zone."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise LateError(f"{what}: {text!r} is not an ISO 8601 time (e.g. 2026-12-01T23:59+08:00)") from None
    return parsed if parsed.tzinfo else parsed.astimezone()


def read_times(path: Path, column: str, what: str) -> dict[str, dt.datetime]:
    """``student_id,<column>`` rows of a CSV: a time per student."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LateError(f"cannot read {what} {path}: {exc}") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "student_id" not in rows[0] or column not in rows[0]:
        raise LateError(f"{what} {path} needs the columns student_id,{column}")
    times: dict[str, dt.datetime] = {}
    for number, row in enumerate(rows, start=2):
        sid = (row.get("student_id") or "").strip()
        if not sid:
            continue
        if sid in times:
            raise LateError(f"{what} {path} lists {sid} twice (line {number})")
        times[sid] = parse_time(row.get(column) or "", f"{what} {path}, line {number}")
    return times


@dataclass(frozen=True)
class Lateness:
    """How one submission stands against the due time, and what it costs."""

    submitted: dt.datetime
    due: dt.datetime
    grace: dt.timedelta
    days: int  # started days after due + grace (0: on time)
    fraction: float  # share of the earned points taken off (1.0: all)
    extended: bool = False

    @property
    def late(self) -> bool:
        return self.submitted > self.due

    def penalty(self, earned: float) -> float:
        return round(earned * self.fraction, 6)

    def describe(self, earned: float, percent: float, max_days: int | None) -> str:
        """One sentence for the student: how late, and how the penalty was computed."""
        due = f"the due time {_show(self.due)}" + (" (your extension)" if self.extended else "")
        if not self.late:
            return f"handed in {_show(self.submitted)}, before {due}"
        late_by = _duration(self.submitted - self.due)
        grace = _duration(self.grace) if self.grace else ""
        if self.days == 0:
            return (
                f"handed in {_show(self.submitted)}, {late_by} after {due}: within the {grace} grace period, no penalty"
            )
        counted = f" (days count from the end of the {grace} grace period)" if grace else ""
        if self.fraction >= 1.0 and max_days is not None and self.days > max_days:
            return (
                f"handed in {_show(self.submitted)}, {late_by} after {due}: more than {max_days} day(s) "
                f"late{counted}, which earns 0 points"
            )
        return (
            f"handed in {_show(self.submitted)}, {late_by} after {due}: {self.days} started day(s) "
            f"late{counted}, {percent:g} % of the {earned:g} points earned per day: "
            f"-{self.penalty(earned):g} points"
        )


@dataclass
class LatePolicy:
    due: dt.datetime
    grace: dt.timedelta = dt.timedelta(0)
    percent_per_day: float = 0.0
    max_days: int | None = None
    extensions: dict[str, dt.datetime] = field(default_factory=dict)
    times: dict[str, dt.datetime] = field(default_factory=dict)  # from --submitted

    @property
    def grace_text(self) -> str:
        """The grace period in words ("30 min"), "" without one."""
        return _duration(self.grace) if self.grace else ""

    def __post_init__(self) -> None:
        if self.grace < dt.timedelta(0):
            raise LateError("--grace must not be negative")
        if not 0 <= self.percent_per_day <= 100:
            raise LateError("--late-penalty is a percentage between 0 and 100")
        if self.max_days is not None and self.max_days < 0:
            raise LateError("--late-max-days must not be negative")

    def submitted(self, student_id: str, from_download: dt.datetime | None) -> dt.datetime | None:
        """The time a student handed in: ``--submitted`` first, else the download's."""
        return self.times.get(student_id, from_download)

    def assess(self, student_id: str, submitted: dt.datetime | None) -> Lateness | None:
        if submitted is None:
            return None
        due = self.extensions.get(student_id, self.due)
        over = submitted - (due + self.grace)
        days = max(0, math.ceil(over / DAY)) if over > dt.timedelta(0) else 0
        if self.max_days is not None and days > self.max_days:
            fraction = 1.0
        else:
            fraction = min(1.0, days * self.percent_per_day / 100)
        return Lateness(submitted, due, self.grace, days, fraction, student_id in self.extensions)


def _show(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _duration(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = (
        [f"{days} d"] * bool(days)
        + [f"{hours} h"] * bool(hours)
        + [f"{minutes} min"] * bool(minutes or not (days or hours))
    )
    return " ".join(parts)
