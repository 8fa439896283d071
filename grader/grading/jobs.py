"""What the running side and the judging side of :class:`~grader.grading.runner.Runner` share:
one student's file being graded (:class:`FileJob`) and one student's results so far
(:class:`StudentProgress`); and the plan that makes them (:func:`plan_jobs`)."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from grader.assignment import Assignment, GradedName, TaskFile
from grader.grading.judge import NameOutcome
from grader.intake.discovery import Student, SubmittedFile
from grader.intake.interface import FileReport, inspect_file
from grader.judging.results import NameResult


@dataclass
class FileJob:
    """The graded names of one student's file, run in one child (or more after a failure)."""

    student: str
    task: TaskFile
    submitted: SubmittedFile
    keys: list[str]
    outcomes: dict[str, NameOutcome] = field(default_factory=dict)
    file_failure: str | None = None  # stops every name of the file
    violations: list[str] = field(default_factory=list)
    import_output: str = ""
    native_output: str = ""
    remaining: list[str] = field(default_factory=list)
    current: str | None = None
    attempts: int = 0
    blocked: dict[str, str] = field(default_factory=dict)  # names stopped by static checks
    progress: Any = None  # the student's StudentProgress
    fatal: str | None = None  # the child harness itself failed
    skipped: dict[int, str] = field(default_factory=dict)  # top-level statements skipped (raised, or ran too
    # long): first line -> description
    # The running child's protocol: the names it may still start, in order, and what it sent.
    order: list[str] = field(default_factory=list)  # names whose turn has not come
    started: set[str] = field(default_factory=set)  # names the child asked for with "start"
    imported: bool = False
    received_bytes: int = 0
    tampered: str | None = None

    def __post_init__(self) -> None:
        self.remaining = list(self.keys)
        self.outcomes = {k: NameOutcome(k) for k in self.keys}


class StudentProgress:
    """One student's results while their files are graded; complete when ``files_done == expected``."""

    def __init__(self, student: Student, expected: int) -> None:
        self.student = student
        self.expected = expected
        self.names: dict[str, NameResult] = {}
        self.started = time.monotonic()
        self.internal: list[str] = []
        self.refused: list[str] = []  # what the sandbox stopped the student's code from doing
        self.notes: list[str] = []  # interface differences that were accepted
        self.files_done = 0


def plan_jobs(
    students: list[Student],
    assignment: Assignment,
    graded_names: Callable[[TaskFile], list[GradedName]],
    interface: str,
    judge_queue: queue.Queue,
) -> list[FileJob]:
    """A job per student file that has a name to run. What cannot run is decided here and goes
    straight to the judging thread: a missing file, and names the static checks stopped (an
    interface problem, a disallowed import, a file that does not parse)."""
    jobs: list[FileJob] = []
    for student in students:
        tasks = [t for t in assignment.files if graded_names(t)]
        progress = StudentProgress(student, len(tasks))
        for task in tasks:
            names = graded_names(task)
            submitted = student.files.get(task.task)
            if submitted is None:
                reason = student.blocked.get(task.task) or (
                    f"no file for {task.task}: expected {task.task}_{student.id}{task.suffix}, on its own "
                    f"or inside {student.id}_{assignment.name}.zip"
                )
                judge_queue.put((progress, task, None, {n.key: reason for n in names}))
                continue
            # A data file is never imported: its checks parse its bytes in the child.
            report: FileReport = inspect_file(submitted.data, task, interface) if task.kind == "code" else FileReport()
            progress.notes += [f"{submitted.origin}: {note}" for note in report.notes]
            blocked = {n.key: cast(str, report.problem_for(n)) for n in names if report.problem_for(n)}
            if blocked:
                prefix = f"{submitted.origin}: "
                blocked = {
                    k: (prefix + v if (report.fatal or report.import_problems) else v) for k, v in blocked.items()
                }
            runnable = [n.key for n in names if n.key not in blocked]
            if not runnable:
                judge_queue.put((progress, task, None, blocked))
                continue
            jobs.append(FileJob(student.id, task, submitted, runnable, blocked=blocked, progress=progress))
    return jobs
