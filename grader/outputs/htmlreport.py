"""The TA's report of a grading run: one self-contained page, ``OUT/report.html``.

It shows the class distribution of totals, each graded name's mean score and pass rate,
the most common reasons for lost points, every problem found in the folder or in a
student's submission, and links to each student's ``<id>/feedback.md``. Charts are
embedded PNGs (:mod:`grader.outputs.charts`); there are no scripts and no external assets.

Everything a student controls (ids, file names, reasons, problems) is escaped.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__
from grader.assignment import Assignment
from grader.judging.results import StudentResult, sandbox_lines
from grader.outputs import charts, leaderboard
from grader.outputs.html import esc, feedback_link
from grader.outputs.report import fmt_points, write_if_changed

TOP_REASONS = 3  # reasons shown per graded name
IDS_PER_REASON = 12  # student ids listed next to a reason
REASON_CHARS = 240  # longer reasons are cut


@dataclass
class NameStats:
    """How the class did on one graded name."""

    key: str
    points: float
    students: int = 0
    mean: float = 0.0
    full: int = 0
    zero: int = 0
    reasons: list[tuple[str, list[str]]] = field(default_factory=list)  # (reason, ids), most common first

    @property
    def mean_percent(self) -> float:
        return 100.0 * self.mean / self.points if self.points else 0.0

    @property
    def pass_percent(self) -> float:
        return 100.0 * self.full / self.students if self.students else 0.0


def name_stats(results: Sequence[StudentResult], assignment: Assignment) -> list[NameStats]:
    stats = []
    for graded in assignment.names:
        row = NameStats(graded.key, graded.points)
        scored = [(r.student_id, n) for r in results for n in r.names if n.key == graded.key]
        if scored:
            row.students = len(scored)
            row.mean = statistics.mean(n.score for _, n in scored)
            row.full = sum(1 for _, n in scored if n.score >= n.points)
            row.zero = sum(1 for _, n in scored if n.score == 0)
            by_reason: dict[str, list[str]] = {}
            for sid, n in scored:
                if n.score < n.points and n.reason:
                    by_reason.setdefault(shared_reason(n.reason, sid, assignment), []).append(sid)
            counts = Counter({reason: len(ids) for reason, ids in by_reason.items()})
            row.reasons = [(reason, by_reason[reason]) for reason, _ in counts.most_common(TOP_REASONS)]
        stats.append(row)
    return stats


_ORIGIN = re.compile(r"^\S+?\.(?:py|zip)(?::\S+?\.py)?: ")  # "task1_42.py: " / "42_a2.zip:hw/task1.py: "
_WHERE = re.compile(r"\s*\[[^\[\]]*?, line \d+[^\[\]]*(?:\]|$)")  # "[task1_42.py, line 9, in relu: ...]"
_INPUT = re.compile(r"\s*\(input: .*\)$")  # "(input: x = [...]; 5 of 7 inputs fail)"


def shared_reason(reason: str, student_id: str, assignment: Assignment) -> str:
    """A reason with the student-specific parts removed, so equal mistakes count together.

    Drops the leading file name, the "[file, line N, in f: code]" location and the
    trailing "(input: ...; N of M inputs fail ...)" (which input failed first), and writes the
    student's id in file names as <id>. Each student's feedback.md keeps the full reason.
    """
    text = _INPUT.sub("", _WHERE.sub("", _ORIGIN.sub("", reason.strip())))
    sid = re.escape(student_id)
    text = re.sub(rf"_{sid}\.py\b", "_<id>.py", text)
    text = re.sub(rf"\b{sid}_{re.escape(assignment.name)}\.zip\b", f"<id>_{assignment.name}.zip", text)
    return text


def _cut(text: str, limit: int = REASON_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _chart(draw: Callable[..., str], *args, alt: str) -> str:
    """An embedded chart, or a note saying why it is missing (the report is written regardless)."""
    try:
        data = draw(*args)
    except Exception as exc:  # noqa: BLE001 - a chart is never worth losing the report
        return f'<p class="note">chart not drawn: {esc(type(exc).__name__)}: {esc(exc)}</p>'
    return f'<img src="data:image/png;base64,{data}" alt="{esc(alt)}">'


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1180px;
       padding: 0 0.75rem; color: #222; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.full { background: #e3f3e3; } td.part { background: #fff4d6; } td.zero { background: #fbe1e1; }
img { max-width: 100%; display: block; margin: 0.6rem 0; }
code { background: #f5f5f5; padding: 0 0.2rem; } .note { color: #666; } .warn { color: #8a4b00; font-weight: bold; }
ul.reasons { margin: 0.2rem 0 0.8rem; } .ids { color: #555; font-size: 0.85rem; }
.scroll { overflow-x: auto; } td ul { margin: 0; padding-left: 1.2rem; }
table.students th, table.students td { padding: 0.2rem 0.3rem; font-size: 0.78rem; }
table.students th { vertical-align: bottom; } .task { color: #777; font-weight: normal; }
"""


def render(
    results: Sequence[StudentResult],
    assignment: Assignment,
    folder_problems: Sequence[str],
    extra: str = "",
    totals: Mapping[str, float] | None = None,
) -> str:
    """The page; ``extra`` is ready-made HTML placed after the students' table (e.g. similarity).
    ``totals`` (student id -> points) are what students get after late penalties and overrides,
    when the run had such settings; otherwise a student's total is the autograded score."""
    results = sorted(results, key=lambda r: r.student_id)
    stats = name_stats(results, assignment)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Grading report: {esc(assignment.title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Grading report: {esc(assignment.title)}</h1>",
        _sandbox(results),
        _overview(results, assignment, totals),
        leaderboard.html_section(results, assignment),
        _per_name(stats, results),
        _reasons(stats),
        _problems(results, folder_problems),
        _students(results, assignment, totals),
        extra,
        f'<p class="note">Written by grader {esc(__version__)}. Per-student details: '
        "<code>&lt;id&gt;/feedback.md</code> and <code>&lt;id&gt;/results.json</code> next to this file.</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _sandbox(results: Sequence[StudentResult]) -> str:
    """Which sandbox layers protected this run (a warning when some were missing)."""
    lines = sandbox_lines(list(results))
    return "\n".join(
        f'<p class="{"warn" if "MISSING" in line or "not recorded" in line else "note"}" id="sandbox">{esc(line)}</p>'
        for line in lines
    )


def _overview(
    results: Sequence[StudentResult], assignment: Assignment, final: Mapping[str, float] | None = None
) -> str:
    out = ['<h2 id="overview">Class distribution</h2>']
    if not results:
        out.append("<p>No students were graded.</p>")
        return "\n".join(out)
    totals = [_total(r, final) for r in results]
    full = sum(1 for r, total in zip(results, totals) if total >= r.max_score)
    zero = sum(1 for total in totals if total == 0)
    what = "total (after late penalties and overrides)" if final else "total"
    out.append(
        f"<p><strong>{len(results)}</strong> students; {what} mean <strong>{statistics.mean(totals):.2f}</strong>, "
        f"median {statistics.median(totals):g}, min {min(totals):g}, max {max(totals):g} "
        f"(of {fmt_points(assignment.points)}); {full} with full marks, {zero} with zero.</p>"
    )
    out.append(
        _chart(
            charts.totals_histogram,
            totals,
            assignment.points,
            alt=f"histogram of the totals of {len(results)} students",
        )
    )
    return "\n".join(out)


def _per_name(stats: Sequence[NameStats], results: Sequence[StudentResult]) -> str:
    out = [
        '<h2 id="names">Per graded name</h2>',
        '<p class="note">Pass rate: the share of students with full marks for that name.</p>',
        "<table><tr><th>graded name</th><th>points</th><th>students</th><th>mean</th><th>mean %</th>"
        "<th>pass rate</th><th>full marks</th><th>zero</th></tr>",
    ]
    for s in stats:
        out.append(
            f"<tr><td><code>{esc(s.key)}</code></td><td class=num>{fmt_points(s.points)}</td>"
            f"<td class=num>{s.students}</td><td class=num>{s.mean:.2f}</td>"
            f"<td class=num>{s.mean_percent:.0f}%</td><td class=num>{s.pass_percent:.0f}%</td>"
            f"<td class=num>{s.full}</td><td class=num>{s.zero}</td></tr>"
        )
    out.append("</table>")
    if results:
        shown = [s for s in stats if s.students]
        out.append(
            _chart(
                charts.names_chart,
                [s.key for s in shown],
                [s.mean_percent for s in shown],
                [s.pass_percent for s in shown],
                alt="mean score and pass rate per graded name",
            )
        )
    return "\n".join(out)


def _reasons(stats: Sequence[NameStats]) -> str:
    out = ['<h2 id="reasons">Most common reasons for lost points</h2>']
    failing = [s for s in stats if s.reasons]
    if not failing:
        out.append("<p>No graded name lost points.</p>")
    for s in failing:
        out.append(
            f"<h3><code>{esc(s.key)}</code> ({s.students - s.full} of {s.students} without full marks)</h3>"
            '<ul class="reasons">'
        )
        for reason, ids in s.reasons:
            more = f" and {len(ids) - IDS_PER_REASON} more" if len(ids) > IDS_PER_REASON else ""
            links = ", ".join(feedback_link(sid) for sid in ids[:IDS_PER_REASON])
            out.append(
                f"<li><strong>{len(ids)}</strong> {'student' if len(ids) == 1 else 'students'}: "
                f"{esc(_cut(reason))} <span class=ids>({links}{more})</span></li>"
            )
        out.append("</ul>")
    return "\n".join(out)


def _problems(results: Sequence[StudentResult], folder_problems: Sequence[str]) -> str:
    out = ['<h2 id="problems">Problems</h2>', "<h3>Files in the folder that belong to no student</h3>"]
    if folder_problems:
        out.append("<ul>" + "".join(f"<li>{esc(p)}</li>" for p in folder_problems) + "</ul>")
    else:
        out.append("<p>None.</p>")
    out.append("<h3>Students whose submission had problems</h3>")
    with_problems = [r for r in results if r.problems]
    if with_problems:
        out.append("<table><tr><th>student</th><th>problems</th></tr>")
        for r in with_problems:
            items = "".join(f"<li>{esc(p)}</li>" for p in r.problems)
            out.append(f"<tr><td>{feedback_link(r.student_id)}</td><td><ul>{items}</ul></td></tr>")
        out.append("</table>")
    else:
        out.append("<p>None.</p>")
    errors = [(r.student_id, e) for r in results for e in r.grader_errors]
    if errors:
        out.append("<h3>Grader errors (please report)</h3><ul>")
        out.extend(
            f"<li>{feedback_link(sid)}: {esc(_cut(error.splitlines()[0] if error else ''))}</li>"
            for sid, error in errors
        )
        out.append("</ul>")
    return "\n".join(out)


def _total(result: StudentResult, final: Mapping[str, float] | None) -> float:
    return final[result.student_id] if final and result.student_id in final else result.score


def _students(
    results: Sequence[StudentResult], assignment: Assignment, final: Mapping[str, float] | None = None
) -> str:
    keys = [n.key for n in assignment.names]
    autograded = "<th>autograded</th>" if final else ""
    out = [
        '<h2 id="students">Students</h2>',
        f'<div class="scroll"><table class="students"><tr><th>student</th><th>total</th>{autograded}',
    ]
    for k in keys:
        task, name = k.split(".", 1)
        out.append(
            f'<th title="{esc(k)}"><span class=task>{esc(task)}</span><br>{esc(name).replace(".", ".<wbr>")}</th>'
        )
    out.append("</tr>")
    for r in results:
        scores = {n.key: n for n in r.names}
        cells = []
        for k in keys:
            n = scores.get(k)
            if n is None:
                cells.append("<td></td>")
                continue
            kind = "full" if n.score >= n.points else ("zero" if n.score == 0 else "part")
            cells.append(f'<td class="num {kind}" title="{esc(_cut(n.reason, 200))}">{fmt_points(n.score)}</td>')
        before = f"<td class=num>{fmt_points(r.score)}</td>" if final else ""
        out.append(
            f"<tr><td>{feedback_link(r.student_id)}</td>"
            f"<td class=num><strong>{fmt_points(_total(r, final))}</strong></td>{before}{''.join(cells)}</tr>"
        )
    out.append("</table></div>")
    return "\n".join(out)


def write_report(
    out: Path,
    results: Sequence[StudentResult],
    assignment: Assignment,
    folder_problems: Sequence[str],
    extra: str = "",
    totals: Mapping[str, float] | None = None,
) -> Path:
    """Write ``out/report.html`` (atomically, only when its text changes) and return its path."""
    path = Path(out) / "report.html"
    write_if_changed(path, render(results, assignment, folder_problems, extra, totals))
    return path
