"""The grade a student gets: the autograded result, then the TA's overrides and late penalty.

In this order: an override of a graded name replaces what the checks gave it; the
autograded points are the sum of the names; the late penalty is a share of them; the
total is what is left, unless an override of ``total`` says otherwise. The result the
checks produced (``results.json``'s ``extra_data.result``) is never changed: this is
computed on every run from it and the term's files.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from grader.assignment import Assignment
from grader.intake.roster import Roster
from grader.judging.results import NameResult, PartResult, StudentResult
from grader.term.late import Lateness, LatePolicy
from grader.term.overrides import TOTAL, Override, Seen

NO_SUBMISSION = "no submission"


@dataclass
class Grade:
    student_id: str
    names: dict[str, float]  # graded key -> points, after overrides
    autograded: float
    late_penalty: float = 0.0
    total: float = 0.0
    lateness: Lateness | None = None
    overridden: list[tuple[Override, float]] = field(default_factory=list)  # with the value it replaced
    notes: list[str] = field(default_factory=list)  # for the student
    flags: list[str] = field(default_factory=list)  # for the TA
    no_submission: bool = False
    submitted: dt.datetime | None = None  # when the download said it was handed in

    def overridden_text(self) -> str:
        return "; ".join(f"{o.name}: {o.points:g} (was {was:g})" for o, was in self.overridden)


@dataclass
class Term:
    """A run's term settings; every part optional."""

    roster: Roster | None = None
    late: LatePolicy | None = None
    overrides: dict[str, list[Override]] = field(default_factory=dict)
    seen: Seen | None = None

    @property
    def empty(self) -> bool:
        return self.roster is None and self.late is None and not self.overrides

    def grade(
        self, result: StudentResult, submitted_at: dt.datetime | None = None, no_submission: bool = False
    ) -> Grade:
        names = {n.key: n.score for n in result.names}
        grade = Grade(result.student_id, names, 0.0, no_submission=no_submission, submitted=submitted_at)
        mine = self.overrides.get(result.student_id, [])
        for override in mine:
            if override.name != TOTAL and override.name in names:
                grade.overridden.append((override, names[override.name]))
                names[override.name] = override.points
        grade.autograded = round(sum(names.values()), 6)
        if self.late is not None and not no_submission:
            grade.lateness = self.late.assess(result.student_id, self.late.submitted(result.student_id, submitted_at))
            if grade.lateness is not None:
                grade.late_penalty = grade.lateness.penalty(grade.autograded)
                grade.notes.append(
                    "Late work: "
                    + grade.lateness.describe(grade.autograded, self.late.percent_per_day, self.late.max_days)
                )
        grade.total = round(grade.autograded - grade.late_penalty, 6)
        for override in mine:
            if override.name == TOTAL:
                grade.overridden.append((override, grade.total))
                grade.total = override.points
        for override, was in grade.overridden:
            text = f"Changed by the course staff: {override.name} is {override.points:g} (the grader gave {was:g})"
            grade.notes.append(text + (f": {override.comment}" if override.comment else ""))
            if self.seen is not None:
                autograded = (
                    grade.autograded
                    if override.name == TOTAL
                    else next(n.score for n in result.names if n.key == override.name)
                )
                changed = self.seen.check(override, autograded, result.fingerprint)
                if changed:
                    grade.flags.append(
                        f"`{result.student_id}`: the override of {override.name} (line "
                        f"{override.line}) was written against other results: {changed}"
                    )
        return grade


def no_submission_result(student_id: str, assignment: Assignment) -> StudentResult:
    """The result of a roster student who handed in nothing: 0 on every graded name."""
    names = [
        NameResult(
            g.key,
            g.points,
            0.0,
            "missing",
            NO_SUBMISSION,
            [PartResult(label, points, 0.0, NO_SUBMISSION) for label, points in g.check.parts.items()],
        )
        for g in assignment.names
    ]
    return StudentResult(
        student_id,
        assignment.name,
        names,
        problems=[f"{NO_SUBMISSION}: no file of this assignment was found for this student"],
    )
