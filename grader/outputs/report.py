"""Write what grading produced: per-student files, the gradebook and the batch summary.

Every file is written atomically (a temporary file in the same folder, then a rename),
so an interrupted run never leaves a half-written result behind.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment
from grader.files import write_atomic, write_if_changed  # noqa: F401 - re-exported for the outputs
from grader.judging.results import NameResult, StudentResult, first_lines, sandbox_lines

MARK = {True: "PASS", False: "FAIL"}


VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")  # Gradescope's words


@dataclass
class Visibility:
    """Gradescope visibility of tests (https://gradescope-autograders.readthedocs.io)."""

    tests: str = "visible"  # the scored test of each rubric part
    hidden_inputs: str = "after_published"  # details of failures on hidden inputs


def fmt_points(x: float) -> str:
    return f"{x:g}"


# --- per student --------------------------------------------------------------------------


def gradescope_json(result: StudentResult, grading_key: str, visibility: Visibility | None = None, grade=None) -> dict:
    """``grade`` (:class:`grader.term.grades.Grade`): the total after the TA's overrides and late
    penalty, which is then the score; the checks' own result stays in ``extra_data``."""
    visibility = visibility or Visibility()
    tests = []
    for name in result.names:
        for part in name.parts:
            output = part.message
            if part.visible_passed is not False and part.hidden_passed is False:
                output = "passes the example inputs but fails hidden inputs (details after grades are published)"
            tests.append(
                {
                    "name": f"{name.key}: {part.label}",
                    "score": part.earned,
                    "max_score": part.points,
                    "output": output,
                    "visibility": visibility.tests,
                }
            )
            if part.hidden_passed is not None:
                detail = "passes the hidden inputs" if part.hidden_passed else part.hidden_message
                tests.append(
                    {
                        "name": f"{name.key}: {part.label} (hidden inputs)",
                        "score": 0,
                        "max_score": 0,
                        "output": detail,
                        "visibility": visibility.hidden_inputs,
                    }
                )
    score = result.score if grade is None else grade.total
    summary = f"{fmt_points(score)} / {fmt_points(result.max_score)} points"
    if grade is not None and grade.notes:
        summary += "\n" + "\n".join(grade.notes)
    if result.problems:
        summary += "\nAbout your submission:\n" + "\n".join(f"- {p}" for p in result.problems)
    extra = {"grading_key": grading_key, "sandbox": result.sandbox.get("line", ""), "result": result.to_dict()}
    if grade is not None:
        extra["grade"] = {
            "autograded": grade.autograded,
            "late_penalty": grade.late_penalty,
            "total": grade.total,
            "overridden": grade.overridden_text(),
            "no_submission": grade.no_submission,
            "submitted_at": grade.submitted.isoformat() if grade.submitted else None,
        }
    return {
        "score": score,
        "execution_time": result.seconds,
        "output": summary,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": extra,
    }


def feedback_markdown(result: StudentResult, assignment: Assignment, grade=None) -> str:
    out = io.StringIO()
    w = out.write
    total = result.score if grade is None else grade.total
    w(
        f"# {assignment.title}\n\nStudent `{result.student_id}`: **{fmt_points(total)} / "
        f"{fmt_points(result.max_score)} points**\n\n"
    )
    if grade is not None and grade.notes:
        if total != result.score:
            w(f"The checks gave {fmt_points(result.score)} points; the course's rules make it {fmt_points(total)}:\n\n")
        for note in grade.notes:
            w(f"- {note}\n")
        w("\n")
    if result.problems:
        w("## About your submission\n\n")
        for problem in result.problems:
            w(f"- {problem}\n")
        w("\n")
    w("| graded name | points | status |\n|---|---|---|\n")
    for name in result.names:
        w(f"| `{name.key}` | {fmt_points(name.score)} / {fmt_points(name.points)} | {_status_text(name)} |\n")
    w("\n")
    for name in result.names:
        w(f"## `{name.key}`: {fmt_points(name.score)} / {fmt_points(name.points)}\n\n")
        for line in _part_lines(name):
            w(line + "\n")
        if name.detail:
            w("\nWhere it failed in your file:\n\n```\n" + name.detail.strip() + "\n```\n")
        if name.output.strip():
            w("\nWhat your code printed (first lines):\n\n```\n" + first_lines(name.output.strip()) + "\n```\n")
        w("\n")
    v = result.versions
    w(
        f"---\nGraded by grader {v.get('grader', '?')} (Python {v.get('python', '?')}, numpy {v.get('numpy', '?')}, "
        f"torch {v.get('torch', '?')}).\n"
    )
    return out.getvalue()


def _part_lines(name: NameResult) -> list[str]:
    """One line per rubric part; failing parts that share a reason share one line (one cause, one message)."""
    lines: list[str] = []
    shared: dict[str, int] = {}  # message -> index of its line
    for part in name.parts:
        mark = MARK[part.passed] if part.passed or not part.earned else "PARTIAL"  # a share of the points
        head = f"{mark} ({fmt_points(part.earned)}/{fmt_points(part.points)}) {part.label}"
        if part.passed:
            lines.append(f"- {head}" + (f": {part.message}" if name.metrics else ""))  # metrics: what it measured
        elif part.message in shared:
            index = shared[part.message]
            lines[index] = lines[index].replace(": " + part.message, f"; {head}: {part.message}", 1)
        else:
            shared[part.message] = len(lines)
            lines.append(f"- {head}: {part.message}")
    return lines


def _status_text(name: NameResult) -> str:
    if name.status == "passed":
        return "passed"
    words = {
        "not_implemented": "not implemented",
        "missing": "missing",
        "interface": "not run",
        "error": "grader error",
    }.get(name.status, name.status)
    reason = name.reason.replace("|", "\\|")
    if len(reason) > 140:
        reason = reason[:137] + "..."
    if reason.startswith(words):  # "not implemented yet ..." says it already
        return reason
    return f"{words}: {reason}"


def write_student(
    out_dir: Path,
    result: StudentResult,
    assignment: Assignment,
    grading_key: str,
    visibility: Visibility | None = None,
    grade=None,
) -> None:
    """Write a student's feedback.md and results.json; a file whose text would not change is
    left as it is (a rerun leaves unchanged students' files byte-identical and untouched)."""
    folder = out_dir / result.student_id
    write_if_changed(folder / "feedback.md", feedback_markdown(result, assignment, grade))
    # results.json last: its presence (with a matching key) marks the student as done.
    write_if_changed(
        folder / "results.json", json.dumps(gradescope_json(result, grading_key, visibility, grade), indent=1)
    )


def read_student(out_dir: Path, student_id: str) -> tuple[StudentResult | None, str | None]:
    """The stored result and its grading key, or (None, None) when absent or unreadable."""
    path = out_dir / student_id / "results.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        extra = data["extra_data"]
        return StudentResult.from_dict(extra["result"]), extra["grading_key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None, None


# --- the batch ----------------------------------------------------------------------------

GRADEBOOK_TAIL = ["autograded", "late_penalty", "total", "overridden", "note"]


def gradebook_csv(results: Iterable[StudentResult], assignment: Assignment, grades: dict | None = None) -> str:
    """One row per student: the points of each graded name (after the TA's overrides), their sum
    (``autograded``), the late penalty, the ``total`` the student gets, what was overridden,
    and a note ("no submission"). ``grades``: student id -> :class:`grader.term.grades.Grade`."""
    keys = [n.key for n in assignment.names]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student_id", *keys, *GRADEBOOK_TAIL])
    for result in sorted(results, key=lambda r: r.student_id):
        grade = (grades or {}).get(result.student_id)
        if grade is None:
            scores = {n.key: n.score for n in result.names}
            tail = [fmt_points(result.score), "0", fmt_points(result.score), "", ""]
        else:
            scores = grade.names
            note = "no submission" if grade.no_submission else ""
            if grade.lateness is not None and grade.lateness.days:
                note = f"late: {grade.lateness.days} started day(s)"
            tail = [
                fmt_points(grade.autograded),
                fmt_points(grade.late_penalty),
                fmt_points(grade.total),
                grade.overridden_text(),
                note,
            ]
        writer.writerow([result.student_id, *(fmt_points(scores.get(k, 0.0)) for k in keys), *tail])
    return out.getvalue()


def summary_markdown(
    results: list[StudentResult],
    assignment: Assignment,
    folder_problems: list[str],
    stats: dict,
    grades: dict | None = None,
    term_lines: list[str] | None = None,
    flags: list[str] | None = None,
) -> str:
    """``grades`` (student id -> Grade) make the totals the students get; ``term_lines`` say what
    the term's settings did (roster, late work, overrides); ``flags`` are overrides to look at again."""
    out = io.StringIO()
    w = out.write
    w(f"# Grading summary: {assignment.title}\n\n")
    w(f"- students: {len(results)}\n")
    if results:
        totals = [grades[r.student_id].total if grades and r.student_id in grades else r.score for r in results]
        what = "total (after late penalties and overrides)" if grades else "total"
        w(
            f"- {what}: mean {statistics.mean(totals):.2f}, median {statistics.median(totals):g}, "
            f"min {min(totals):g}, max {max(totals):g} (of {fmt_points(assignment.points)})\n"
        )
    for line in term_lines or []:
        w(f"- {line}\n")
    for key, value in stats.items():
        w(f"- {key}: {value}\n")
    for line in sandbox_lines(results):
        w(f"- {line}\n")
    w(
        "\n## Per graded name\n\n| graded name | points | mean | full marks | zero | most common reason |\n|---|---|---|---|---|---|\n"
    )
    for graded in assignment.names:
        rows = [r.name(graded.key) for r in results if any(n.key == graded.key for n in r.names)]
        if not rows:
            continue
        mean = statistics.mean(n.score for n in rows)
        full = sum(1 for n in rows if n.score >= n.points)
        zero = sum(1 for n in rows if n.score == 0)
        reasons = [n.reason for n in rows if n.reason]
        # The most frequent reason; a tie goes to the first in text order, so reruns agree.
        common = min(set(reasons), key=lambda r: (-reasons.count(r), r)) if reasons else ""
        common = (common[:90] + "...") if len(common) > 90 else common
        w(
            f"| `{graded.key}` | {fmt_points(graded.points)} | {mean:.2f} | {full} | {zero} | "
            f"{common.replace('|', '/')} |\n"
        )
    w("\n## Problems found in the folder\n\n")
    if folder_problems:
        for problem in folder_problems:
            w(f"- {problem}\n")
    else:
        w("None.\n")
    with_problems = [r for r in results if r.problems]
    w("\n## Students whose submission had problems\n\n")
    if with_problems:
        for r in with_problems:
            w(f"- `{r.student_id}`: " + "; ".join(r.problems) + "\n")
    else:
        w("None.\n")
    if flags:
        w("\n## Overrides to look at again\n\n")
        for flag in flags:
            w(f"- {flag}\n")
    errors = [(r.student_id, e) for r in results for e in r.grader_errors]
    if errors:
        w("\n## Grader errors (please report)\n\n")
        for sid, error in errors:
            w(f"- `{sid}`: {error.splitlines()[0]}\n")
    return out.getvalue()
