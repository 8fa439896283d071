"""Grade a folder of submissions end to end: discover, resume, grade, write everything."""
from __future__ import annotations

import hashlib
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import __version__
from .assignment import HIDDEN_SEED, Assignment, configured
from .discovery import discover
from .htmlreport import write_report
from .leaderboard import write_leaderboard
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
    h = hashlib.sha256(f"{__version__}|{assignment.name}|{options.timeout}|{options.memory_mb}|{HIDDEN_SEED}|"
                       f"{options.naming or assignment.naming}|{options.interface or assignment.interface}".encode())
    # Every grader source counts, except the similarity report's, which no score depends on.
    sources = sorted(p for p in (REPO / "grader").rglob("*.py") if "similarity" not in p.relative_to(REPO).parts)
    sources += sorted(Path(assignment.solutions_dir).glob("*.py"))
    for path in sources:
        h.update(path.name.encode() + path.read_bytes())
    for name, value in sorted(options.settings.items()):     # e.g. the hidden labels (by content) and cutoffs
        h.update(name.encode() + (Path(value).read_bytes() if isinstance(value, Path) else repr(value).encode()))
    return h.hexdigest()[:32]


def hidden_folders(settings: dict) -> tuple[Path, ...]:
    """Folders of files given as settings (hidden labels): student code may not open them while grading.

    Refused when such a folder also holds what children need (the Python installation, the
    grader): keep hidden files in a folder of their own.
    """
    needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), REPO / "grader"]
    folders = []
    for value in settings.values():
        if isinstance(value, Path):
            folder = value.resolve().parent
            if any(folder == p or folder in p.parents for p in needed):
                raise ValueError(f"keep {value.name} in a folder of its own: student code is kept out of its "
                                 f"folder while grading, and {folder} also holds the grader or its Python")
            folders.append(folder)
    return tuple(folders)


def grade_folder(folder: Path, out: Path, assignment: Assignment, options: Options, resume: bool = True,
                 progress: bool = True, visibility: Visibility | None = None,
                 announce: Callable[[str], None] | None = None, similarity: bool = False) -> BatchResult:
    """Grade every student of ``folder`` into ``out``.

    ``announce(line)`` is told the sandbox layers of the run once the start-up self-test
    has settled them (before any student is graded). Raises
    :class:`~grader.sandbox.SandboxError` when the sandbox cannot give what
    ``options.sandbox`` asks for; nothing is graded then.
    """
    started = time.monotonic()
    folder, out = Path(folder).resolve(), Path(out).resolve()
    if out == folder or folder in out.parents:
        raise ValueError(f"the output folder {out} must not be inside the submissions folder {folder}")
    configured(assignment, options.settings, options.only)    # a missing or unusable setting stops here
    hidden = hidden_folders(options.settings)
    found = discover(folder, assignment, options.naming)
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

    options.protected = tuple(options.protected) + (folder, out, Path(assignment.solutions_dir), REPO / "tests") + hidden
    lock = threading.Lock()
    bar = _Progress(len(todo), enabled=progress)

    def on_result(result: StudentResult) -> None:
        write_student(out, result, assignment, key, visibility)
        with lock:
            done[result.student_id] = result
            bar.advance(result)

    def on_layers(layers) -> None:
        if announce:
            announce(layers.line())
        bar.start()              # the bar appears under the sandbox line, not before it

    internal: list[str] = []
    if todo:
        runner = Runner(assignment, options)
        runner.on_layers = on_layers
        if not options.self_test:
            bar.start()
        try:
            internal = runner.grade(todo, on_result)
        finally:
            bar.close()

    results = [done[sid] for sid in sorted(done)]
    problems = found.problems + stale_results(out, found.students)
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
    write_atomic(out / "summary.md", summary_markdown(results, assignment, problems, stats) + similar_md)
    write_leaderboard(out, results, assignment)
    try:
        write_report(out, results, assignment, problems, similar_html)
    except Exception as exc:  # noqa: BLE001 - the gradebook and feedback are already written
        import traceback
        internal.append(f"writing report.html failed: {exc}\n{traceback.format_exc(limit=5)}")
    return BatchResult(results, len(todo), reused, seconds, problems, internal)


def stale_results(out: Path, students) -> list[str]:
    """Result folders of students who are no longer in the submissions folder (kept, flagged)."""
    if not out.is_dir():
        return []
    stale = sorted(p.name for p in out.iterdir() if p.is_dir() and (p / "results.json").is_file()
                   and p.name not in students)
    return [f"{out.name}/{sid}/: results of a student who is no longer in the submissions folder (kept, not in "
            "the gradebook; delete the folder if they withdrew)" for sid in stale]


class _Progress:
    """A progress bar on stderr (tqdm), or nothing when disabled."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        self.total = total
        self.enabled = enabled and total > 0

    def start(self) -> None:
        if self.enabled and self.bar is None:
            from tqdm import tqdm
            self.bar = tqdm(total=self.total, unit="student", file=sys.stderr, dynamic_ncols=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} students [{elapsed}<{remaining}] {postfix}")

    def advance(self, result: StudentResult) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"last: {result.student_id} {result.score:g}/{result.max_score:g}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
