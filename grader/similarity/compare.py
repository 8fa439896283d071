"""Compare a class: discover the files, fingerprint them, drop boilerplate, score pairs per task."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from grader.assignment import Assignment
from grader.intake.discovery import Discovery, discover
from grader.similarity.boilerplate import (
    MAX_SHARE,
    MIN_COUNT,
    Dropped,
    cut_template,
    drop_boilerplate,
    template_code,
    template_lines,
)
from grader.similarity.fingerprint import Fingerprint, decode, fingerprint, normalise_all
from grader.similarity.pairs import Pair, rank, score_task

PAST_PREFIX = "past:"


@dataclass
class TaskStats:
    files: int = 0  # current students' files
    past: int = 0  # earlier terms' files
    dropped: Dropped = field(default_factory=Dropped)
    template_only: int = 0  # files with no code of their own left (e.g. the untouched template)


@dataclass
class Comparison:
    assignment: Assignment
    pairs: list[Pair]  # every task, best first
    tasks: dict[str, TaskStats]
    students: int
    past_students: int
    problems: list[str]
    seconds: float
    max_share: float
    min_count: int


def past_label(folder: Path, student_id: str) -> str:
    return f"{PAST_PREFIX}{folder.name}/{student_id}"


def _prints(
    found: Discovery, assignment: Assignment, past: bool, folder: Path | None = None, jobs: int = 1
) -> list[Fingerprint]:
    lines = {f.task: template_lines(template_code(assignment, f.task)) for f in assignment.files}
    files = []
    for sid in sorted(found.students):
        student = found.students[sid]
        label = past_label(cast(Path, folder), sid) if past else sid  # past prints always come with a folder
        for task in sorted(student.files):
            code = decode(student.files[task].data)
            files.append((code, label, task, *cut_template(code, lines.get(task, frozenset()))))
    normalised = normalise_all([text for _, _, _, text, _, _ in files], jobs)
    return [
        fingerprint(code, label, task, past, text, line_map, cut, norm)
        for (code, label, task, text, line_map, cut), norm in zip(files, normalised)
    ]


def compare_found(
    found: Discovery,
    assignment: Assignment,
    past: Iterable[Path] = (),
    max_share: float = MAX_SHARE,
    min_count: int = MIN_COUNT,
    jobs: int = 1,
) -> Comparison:
    """Compare an already discovered class (``grade --similarity`` reuses its discovery)."""
    started = time.monotonic()
    prints = _prints(found, assignment, past=False, jobs=jobs)
    problems = list(found.problems)
    past_students = 0
    for folder in past:
        folder = Path(folder).resolve()  # its name labels the references: past:<name>/<id>
        earlier = discover(folder, assignment)
        past_students += len(earlier.students)
        prints += _prints(earlier, assignment, past=True, folder=folder, jobs=jobs)
        problems += [f"{folder.name} (earlier term): {p}" for p in earlier.problems]

    pairs: list[Pair] = []
    tasks: dict[str, TaskStats] = {}
    for task_file in assignment.files:
        task = task_file.task
        of_task = [fp for fp in prints if fp.task == task]
        if not of_task:
            continue
        stats = TaskStats(files=sum(not fp.past for fp in of_task), past=sum(fp.past for fp in of_task))
        stats.dropped = drop_boilerplate(of_task, template_code(assignment, task), max_share, min_count)
        stats.template_only = sum(1 for fp in of_task if not fp.past and len(fp.hashes) == 0)
        tasks[task] = stats
        pairs += score_task(of_task)
    return Comparison(
        assignment,
        rank(pairs),
        tasks,
        len(found.students),
        past_students,
        problems,
        time.monotonic() - started,
        max_share,
        min_count,
    )


def compare_folder(
    folder: Path,
    assignment: Assignment,
    past: Iterable[Path] = (),
    max_share: float = MAX_SHARE,
    min_count: int = MIN_COUNT,
    jobs: int = 1,
) -> Comparison:
    """Discover ``folder`` the way ``grade`` does and compare every pair of files of a task."""
    return compare_found(discover(Path(folder), assignment), assignment, past, max_share, min_count, jobs)
