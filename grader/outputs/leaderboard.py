"""The leaderboard of a classroom contest: ``OUT/leaderboard.csv`` and a section of report.html.

A contest is a graded name whose check says ``leaderboard = True`` (the predictions of
assignment 3). Its results carry four counts (see :class:`grader.assignment.Credit`):
``public_correct`` of ``public_total`` ids right on the public part of the ids (a fixed
share drawn once with a seed, the same for everyone), and ``correct`` of ``total`` on all
ids. As in a classroom contest, students are ranked on the public part, and the final
rank and the points use all ids.

Ranks are competition ranks: equal counts share a rank and the next rank skips (1, 2, 2,
4); within a rank, rows are listed by student id. Counts are compared, not floats, so
ties are exact and the order never depends on rounding. A student whose file could not
be read at all (or who handed in none) has no entry.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.assignment import Assignment, GradedName
from grader.judging.results import StudentResult
from grader.outputs.html import esc, feedback_link
from grader.outputs.report import fmt_points, write_atomic

FILENAME = "leaderboard.csv"
COLUMNS = ["public_rank", "student_id", "public_accuracy", "final_rank", "accuracy", "points"]
COUNTS = ("public_correct", "public_total", "correct", "total")


@dataclass
class Entry:
    student_id: str
    public_correct: int
    public_total: int
    correct: int
    total: int
    points: float
    public_rank: int = 0
    final_rank: int = 0

    @property
    def public_accuracy(self) -> float:
        return self.public_correct / self.public_total if self.public_total else 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def contest_name(assignment: Assignment) -> GradedName | None:
    """The graded name a leaderboard ranks on, if the pack has one (the first, if several)."""
    return next((n for n in assignment.names if getattr(n.check, "leaderboard", False)), None)


def ranked(entries: list[Entry]) -> list[Entry]:
    """Set both ranks and return the entries in public-leaderboard order."""
    for entry in entries:
        entry.public_rank = 1 + sum(other.public_correct > entry.public_correct for other in entries)
        entry.final_rank = 1 + sum(other.correct > entry.correct for other in entries)
    return sorted(entries, key=lambda e: (e.public_rank, e.student_id))


def entries(results: Sequence[StudentResult], key: str) -> list[Entry]:
    out = []
    for result in results:
        for name in result.names:
            if name.key == key and all(c in name.metrics for c in COUNTS):
                counts = {c: int(name.metrics[c]) for c in COUNTS}
                out.append(Entry(result.student_id, points=name.score, **counts))
    return ranked(out)


def leaderboard_csv(board: Sequence[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in board:
        writer.writerow(
            [
                e.public_rank,
                e.student_id,
                f"{e.public_accuracy:.4f}",
                e.final_rank,
                f"{e.accuracy:.4f}",
                fmt_points(e.points),
            ]
        )
    return out.getvalue()


def write_leaderboard(out: Path, results: Sequence[StudentResult], assignment: Assignment) -> Path | None:
    """Write ``out/leaderboard.csv`` when the pack has a contest; return its path (None: no contest)."""
    name = contest_name(assignment)
    if name is None:
        return None
    path = Path(out) / FILENAME
    write_atomic(path, leaderboard_csv(entries(results, name.key)))
    return path


def _split_note(board: Sequence[Entry]) -> str:
    if not board:
        return ""
    first = board[0]
    return (
        f"Ranked by accuracy on the public part of the test ids ({first.public_total} of {first.total}, "
        f"drawn once with a fixed seed, the same for everyone), as during the contest; the final rank and "
        f"the points use all {first.total} ids. Equal accuracies share a rank."
    )


def html_section(results: Sequence[StudentResult], assignment: Assignment) -> str:
    """The leaderboard as a section of report.html ("" when the pack has no contest)."""
    name = contest_name(assignment)
    if name is None:
        return ""
    board = entries(results, name.key)
    out = [f'<h2 id="leaderboard">Leaderboard: <code>{esc(name.key)}</code></h2>']
    if not board:
        out.append("<p>No student handed in a readable file for this contest.</p>")
        return "\n".join(out)
    out.append(f'<p class="note">{esc(_split_note(board))} Also in <code>{FILENAME}</code>.</p>')
    out.append(
        "<table><tr><th>public rank</th><th>student</th><th>public accuracy</th><th>final rank</th>"
        "<th>accuracy</th><th>points</th></tr>"
    )
    for e in board:
        moved = "" if e.final_rank == e.public_rank else f" ({e.public_rank - e.final_rank:+d})"
        out.append(
            f"<tr><td class=num>{e.public_rank}</td><td>{feedback_link(e.student_id)}</td>"
            f"<td class=num>{e.public_accuracy:.4f}</td><td class=num>{e.final_rank}{moved}</td>"
            f"<td class=num>{e.accuracy:.4f}</td><td class=num>{fmt_points(e.points)} / "
            f"{fmt_points(name.points)}</td></tr>"
        )
    out.append("</table>")
    return "\n".join(out)


def terminal_lines(results: Sequence[StudentResult], assignment: Assignment, limit: int = 10) -> list[str]:
    """A few lines for the terminal after grading ([] when the pack has no contest)."""
    name = contest_name(assignment)
    if name is None:
        return []
    board = entries(results, name.key)
    if not board:
        return [f"leaderboard ({name.key}): no readable predictions file"]
    first = board[0]
    lines = [
        f"leaderboard ({name.key}), ranked on {first.public_total} public ids of {first.total}:",
        "  rank  student          public  final rank  accuracy  points",
    ]
    for e in board[:limit]:
        lines.append(
            f"  {e.public_rank:>4}  {e.student_id:<15} {e.public_accuracy:.4f}  {e.final_rank:>10}  "
            f"{e.accuracy:.4f}  {fmt_points(e.points):>6}"
        )
    if len(board) > limit:
        lines.append(f"  ... {len(board) - limit} more in {FILENAME}")
    return lines
