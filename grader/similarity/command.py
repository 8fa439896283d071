"""Glue: ``python -m grader similarity`` and the ``grade --similarity`` sections."""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path

from grader.assignment import Assignment
from grader.files import write_atomic
from grader.intake.discovery import Discovery
from grader.similarity import page
from grader.similarity.compare import Comparison, compare_folder, compare_found
from grader.similarity.options import TOP, TOP_IN_GRADE
from grader.similarity.pairs import Pair


def csv_text(pairs: Sequence[Pair]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["task", "student_a", "student_b", "similarity"])
    for p in pairs:
        writer.writerow([p.task, p.a.label, p.b.label, f"{p.similarity:.4f}"])
    return out.getvalue()


def write(comparison: Comparison, out: Path, top: int = TOP) -> tuple[Path, Path]:
    """Write ``out/similarity.csv`` (every pair that shares own code) and ``out/similarity.html``."""
    out = Path(out)
    table, report = out / "similarity.csv", out / "similarity.html"
    write_atomic(table, csv_text(comparison.pairs))
    write_atomic(report, page.render(comparison, top))
    return table, report


def main(args: argparse.Namespace, assignment: Assignment) -> int:
    folder, out = Path(args.folder).resolve(), Path(args.out).resolve()
    for path in [folder, *args.past]:
        if not Path(path).is_dir():
            print(f"error: {path} is not a folder", file=sys.stderr)
            return 2
    if out == folder or folder in out.parents:
        print(f"error: the output folder {out} must not be inside the submissions folder {folder}", file=sys.stderr)
        return 2
    if not 0 < args.max_share <= 1 or args.min_count < 1 or args.top < 0:
        print("error: --max-share must be in (0, 1], --min-count at least 1, --top at least 0", file=sys.stderr)
        return 2
    comparison = compare_folder(folder, assignment, args.past, args.max_share, args.min_count, max(1, args.jobs))
    table, report = write(comparison, out, args.top)
    best = comparison.pairs[0] if comparison.pairs else None
    lead = f"; highest {best.similarity:.2f} ({best.task}: {best.a.label} and {best.b.label})" if best else ""
    print(
        f"compared {comparison.students} student(s)"
        + (f" and {comparison.past_students} earlier-term reference(s)" if comparison.past_students else "")
        + f" in {comparison.seconds:.1f} s: {len(comparison.pairs)} pair(s) share code of their own{lead}. "
        f"Wrote {table} and {report}. A similarity is a lead, not a verdict."
    )
    return 0


# --- grade --similarity --------------------------------------------------------------------


def markdown_section(comparison: Comparison, top: int = TOP_IN_GRADE) -> str:
    shown = comparison.pairs[:top]
    out = [
        f"\n## Similarity (top {len(shown)} of {len(comparison.pairs)} pairs)\n",
        "A similarity is a lead, not a verdict: read both files before drawing any conclusion. "
        "Template code and code most of the class shares never count. Side by side: `similarity.html`; "
        "every pair: `similarity.csv`.\n",
    ]
    if shown:
        out.append("| # | task | student a | student b | similarity |\n|---|---|---|---|---|")
        for rank, p in enumerate(shown, start=1):
            out.append(f"| {rank} | {p.task} | `{p.a.label}` | `{p.b.label}` | {p.similarity:.2f} |")
    else:
        out.append("No two files share code of their own.")
    return "\n".join(out) + "\n"


def html_section(comparison: Comparison, top: int = TOP_IN_GRADE) -> str:
    shown = comparison.pairs[:top]
    table = (
        page.pair_table(shown, link="similarity.html#pair-")
        if shown
        else "<p>No two files share code of their own.</p>"
    )
    return "\n".join(
        [
            '<h2 id="similarity">Similarity</h2>',
            f'<p class="note">{page.esc(page.LEAD)} Top {len(shown)} of {len(comparison.pairs)} pairs; side by side in '
            '<a href="similarity.html">similarity.html</a>, every pair in <code>similarity.csv</code>.</p>',
            table,
        ]
    )


def for_grade(
    found: Discovery, out: Path, assignment: Assignment, jobs: int = 1, top: int = TOP_IN_GRADE
) -> tuple[str, str]:
    """Compare the class ``grade`` just discovered, write the similarity files into ``out``,
    and return the sections for summary.md and report.html."""
    comparison = compare_found(found, assignment, jobs=jobs)
    write(comparison, out)
    return markdown_section(comparison, top), html_section(comparison, top)
