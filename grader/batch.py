"""Grade a folder of submissions end to end: discover, resume, grade, write everything."""
from __future__ import annotations

import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .assignment import HIDDEN_SEED, Assignment
from .discovery import discover
from .htmlreport import write_report
from .reference import REPO
from .report import (Visibility, gradebook_csv, read_student, summary_markdown, write_atomic,
                     write_student)
from .results import StudentResult
from .runner import Options, Runner


@dataclass
class BatchResult:
    results: list[StudentResult]
    graded: int
    reused: int
    seconds: float
    folder_problems: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)


def grading_key(assignment: Assignment, options: Options) -> str:
    """Changes whenever the grader, the pack, the solutions or a score-relevant option changes.

    A stored result is reused only under the same key, so an upgraded grader regrades.
    """
    h = hashlib.sha256(f"{__version__}|{assignment.name}|{options.timeout}|{options.memory_mb}|{HIDDEN_SEED}".encode())
    sources = sorted((REPO / "grader").rglob("*.py")) + sorted(Path(assignment.solutions_dir).glob("*.py"))
    for path in sources:
        h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()[:32]


def grade_folder(folder: Path, out: Path, assignment: Assignment, options: Options, resume: bool = True,
                 progress: bool = True, visibility: Visibility | None = None, similarity: bool = False) -> BatchResult:
    started = time.monotonic()
    folder, out = Path(folder).resolve(), Path(out).resolve()
    if out == folder or folder in out.parents:
        raise ValueError(f"the output folder {out} must not be inside the submissions folder {folder}")
    found = discover(folder, assignment)
    key = grading_key(assignment, options)
    done: dict[str, StudentResult] = {}
    todo = []
    for sid in sorted(found.students):
        student = found.students[sid]
        stored, stored_key = read_student(out, sid) if resume else (None, None)
        if stored is not None and stored_key == key and stored.fingerprint == student.fingerprint():
            done[sid] = stored
        else:
            todo.append(student)
    reused = len(done)

    options.protected = tuple(options.protected) + (folder, out, Path(assignment.solutions_dir), REPO / "tests")
    lock = threading.Lock()
    bar = _Progress(len(todo), enabled=progress)

    def on_result(result: StudentResult) -> None:
        write_student(out, result, assignment, key, visibility)
        with lock:
            done[result.student_id] = result
            bar.advance(result)

    internal: list[str] = []
    if todo:
        internal = Runner(assignment, options).grade(todo, on_result)
    bar.close()

    results = [done[sid] for sid in sorted(done)]
    seconds = time.monotonic() - started
    stats = {"graded now": len(todo), "reused from an earlier run (unchanged files)": reused,
             "wall time": f"{seconds:.1f} s" + (f" ({seconds / len(todo):.2f} s per graded student, "
                                                 f"{options.jobs} jobs)" if todo else "")}
    similar_md = similar_html = ""
    if similarity:      # the similarity report (grader/similarity), its top pairs in both summaries
        try:
            from .similarity.command import for_grade
            similar_md, similar_html = for_grade(found, out, assignment, options.jobs)
        except Exception as exc:  # noqa: BLE001 - grades matter more than the similarity report
            internal.append(f"similarity report failed: {type(exc).__name__}: {exc}")
    write_atomic(out / "gradebook.csv", gradebook_csv(results, assignment))
    write_atomic(out / "summary.md", summary_markdown(results, assignment, found.problems, stats) + similar_md)
    try:
        write_report(out, results, assignment, found.problems, similar_html)
    except Exception as exc:  # noqa: BLE001 - the gradebook and feedback are already written
        import traceback
        internal.append(f"writing report.html failed: {exc}\n{traceback.format_exc(limit=5)}")
    return BatchResult(results, len(todo), reused, seconds, found.problems, internal)


class _Progress:
    """A progress bar on stderr (tqdm), or nothing when disabled."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        if enabled and total:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="student", file=sys.stderr, dynamic_ncols=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} students [{elapsed}<{remaining}] {postfix}")

    def advance(self, result: StudentResult) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"last: {result.student_id} {result.score:g}/{result.max_score:g}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
