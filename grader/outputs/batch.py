"""Grade a folder of submissions end to end: discover, resume, grade, write everything."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__
from grader.assignment import HIDDEN_SEED, Assignment, configured
from grader.grading.runner import Options, Runner
from grader.intake.discovery import discover
from grader.judging.reference import REPO
from grader.judging.results import StudentResult
from grader.outputs.htmlreport import write_report
from grader.outputs.leaderboard import write_leaderboard
from grader.outputs.report import (
    Visibility,
    gradebook_csv,
    read_student,
    summary_markdown,
    write_atomic,
    write_if_changed,
    write_student,
)
from grader.term.grades import Term


@dataclass
class BatchResult:
    results: list[StudentResult]
    graded: int
    reused: int
    seconds: float
    folder_problems: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    term_lines: list[str] = field(default_factory=list)  # what the roster, late work and overrides did
    grades: dict = field(default_factory=dict)  # student id -> Grade, when the term has settings
    layout: str | None = None  # the LMS download the folder was, if any

    @property
    def totals(self) -> list[float]:
        """What each student gets: the autograded score, after late penalties and overrides."""
        return [self.grades[r.student_id].total if r.student_id in self.grades else r.score for r in self.results]


def grading_key(assignment: Assignment, options: Options) -> str:
    """Changes whenever the grader, the pack, the solutions or a score-relevant option changes.

    A stored result is reused only under the same key, so an upgraded grader regrades.
    """
    h = hashlib.sha256(
        f"{__version__}|{assignment.name}|{options.timeout}|{options.memory_mb}|{HIDDEN_SEED}|"
        f"{options.naming or assignment.naming}|{options.interface or assignment.interface}".encode()
    )
    # Every grader source counts, except the similarity report's, which no score depends on.
    sources = sorted(p for p in (REPO / "grader").rglob("*.py") if "similarity" not in p.relative_to(REPO).parts)
    sources += sorted(Path(assignment.solutions_dir).glob("*.py"))
    for path in sources:
        h.update(path.name.encode() + path.read_bytes())
    for name, value in sorted(options.settings.items()):  # e.g. the hidden labels (by content) and cutoffs
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
                raise ValueError(
                    f"keep {value.name} in a folder of its own: student code is kept out of its "
                    f"folder while grading, and {folder} also holds the grader or its Python"
                )
            folders.append(folder)
    return tuple(folders)


def grade_folder(
    folder: Path,
    out: Path,
    assignment: Assignment,
    options: Options,
    resume: bool = True,
    progress: bool = True,
    visibility: Visibility | None = None,
    announce: Callable[[str], None] | None = None,
    similarity: bool = False,
    term: Term | None = None,
    students: set[str] | None = None,
    shard: tuple[int, int] | None = None,
) -> BatchResult:
    """Grade every student of ``folder`` into ``out``.

    ``term`` (:class:`grader.term.grades.Term`): the roster, late policy and overrides applied
    after grading. ``students``: regrade only these (even when their files did not change),
    and take every other student's result as it is stored. ``shard`` (I, N): grade only the
    I-th of N shares of the class (:mod:`grader.term.shards`). ``announce(line)`` is told the
    sandbox layers of the run once the start-up self-test has settled them (before any
    student is graded). Raises :class:`~grader.sandbox.SandboxError` when the sandbox cannot
    give what ``options.sandbox`` asks for; nothing is graded then.
    """
    from grader.term.grades import no_submission_result
    from grader.term.shards import in_shard

    started = time.monotonic()
    term = term or Term()
    folder, out = Path(folder).resolve(), Path(out).resolve()
    if out == folder or folder in out.parents:
        raise ValueError(f"the output folder {out} must not be inside the submissions folder {folder}")
    found = discover(folder, assignment, options.naming, roster=term.roster)
    options.unconfigured = frozenset(_unused_settings(assignment, options.settings, found))
    configured(assignment, options.settings, options.only, options.unconfigured)  # a missing setting stops here
    hidden = hidden_folders(options.settings)
    problems = list(found.problems)
    roster_only = _apply_roster(term, found, problems)
    if shard is not None:
        found.students = {sid: s for sid, s in found.students.items() if in_shard(sid, shard)}
        roster_only = [sid for sid in roster_only if in_shard(sid, shard)]
    if students is not None:
        unknown = sorted(students - set(found.students))
        if unknown:
            raise ValueError(
                f"--only: no files of {', '.join(unknown)} in {folder}" + (" (or not in this shard)" if shard else "")
            )
    key = grading_key(assignment, options)
    done: dict[str, StudentResult] = {}
    todo = []
    for sid in sorted(found.students):
        student = found.students[sid]
        stored, stored_key = read_student(out, sid) if resume or students is not None else (None, None)
        if students is not None and sid not in students:
            if stored is not None:
                done[sid] = stored  # as it is: --only regrades the others only
            else:
                problems.append(f"{sid}: not graded (not in --only, and no earlier result in {out.name}/)")
        elif (
            students is None
            and stored is not None
            and stored_key == key
            and stored.fingerprint == student.fingerprint()
        ):
            done[sid] = stored
        else:
            todo.append(student)
    reused = len(done)

    options.protected = (
        tuple(options.protected) + (folder, out, Path(assignment.solutions_dir), REPO / "tests") + hidden
    )
    lock = threading.Lock()
    bar = _Progress(len(todo), enabled=progress)

    def grade_of(result: StudentResult):
        if term.empty:
            return None
        submitted = found.students[result.student_id].submitted_at if result.student_id in found.students else None
        return term.grade(result, submitted, no_submission=result.student_id in roster_only)

    def on_result(result: StudentResult) -> None:
        write_student(out, result, assignment, key, visibility, grade_of(result))
        with lock:
            done[result.student_id] = result
            bar.advance(result)

    def on_layers(layers) -> None:
        if announce:
            announce(layers.line())
        bar.start()  # the bar appears under the sandbox line, not before it

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

    for sid in roster_only:  # on the roster, nothing handed in: a row of zeros
        done[sid] = no_submission_result(sid, assignment)
    results = [done[sid] for sid in sorted(done)]
    grades = {}
    graded_now = {student.id for student in todo}
    for result in results:
        grade = grade_of(result)
        if grade is not None:
            grades[result.student_id] = grade
        if result.student_id not in graded_now:  # reused, or on the roster only: only what changed is written
            write_student(out, result, assignment, key, visibility, grade)
    if term.seen is not None:
        term.seen.save()
    problems += stale_results(out, set(found.students) | set(roster_only))
    seconds = time.monotonic() - started
    stats = {
        "graded now": len(todo),
        "reused from an earlier run (unchanged files)": reused,
        "wall time": f"{seconds:.1f} s"
        + (f" ({seconds / len(todo):.2f} s per graded student, {options.jobs} jobs)" if todo else ""),
    }
    similar_md = similar_html = ""
    if similarity:  # the similarity report (grader/similarity), its top pairs in both summaries
        try:
            from grader.similarity.command import for_grade

            similar_md, similar_html = for_grade(found, out, assignment, options.jobs)
        except Exception as exc:  # noqa: BLE001 - grades matter more than the similarity report
            internal.append(f"similarity report failed: {type(exc).__name__}: {exc}")
    lines = term_lines(term, found.layout, grades, roster_only, shard)
    internal += write_class(out, assignment, results, grades, problems, stats, lines, similar_md, similar_html)
    return BatchResult(results, len(todo), reused, seconds, problems, internal, lines, grades, found.layout)


def write_class(
    out: Path,
    assignment: Assignment,
    results: list[StudentResult],
    grades: dict,
    problems: list[str],
    stats: dict,
    lines: list[str],
    similar_md: str = "",
    similar_html: str = "",
) -> list[str]:
    """The class's files: gradebook.csv, summary.md, the leaderboard, report.html. Returns errors
    (report.html is written last: the rest does not depend on it)."""
    write_if_changed(out / "gradebook.csv", gradebook_csv(results, assignment, grades or None))
    flags = [flag for grade in grades.values() for flag in grade.flags]
    write_atomic(
        out / "summary.md",
        summary_markdown(results, assignment, problems, stats, grades or None, lines, flags) + similar_md,
    )
    write_leaderboard(out, results, assignment)
    try:
        totals = {sid: grade.total for sid, grade in grades.items()}
        write_report(out, results, assignment, problems, similar_html, totals or None)
    except Exception as exc:  # noqa: BLE001 - the gradebook and feedback are already written
        import traceback

        return [f"writing report.html failed: {exc}\n{traceback.format_exc(limit=5)}"]
    return []


def _apply_roster(term: Term, found, problems: list[str]) -> list[str]:
    """Keep the roster's students; the others' files become folder problems. Returns the roster's
    students who handed in nothing."""
    if term.roster is None:
        return []
    on = set(term.roster.ids())
    for sid in sorted(set(found.students) - on):
        origins = ", ".join(f.origin for f in found.students[sid].files.values()) or "no usable file"
        problems.append(f"{sid}: not on the roster ({origins}); not graded, no gradebook row")
        del found.students[sid]
    return [sid for sid in term.roster.ids() if sid not in found.students]


def _unused_settings(assignment: Assignment, settings: dict, found) -> set[str]:
    """Graded keys that read a run setting (hidden labels) but that no student handed a file in
    for: they need not be configured (a folder without predictions grades without --labels)."""
    tasks_with_files = {task for student in found.students.values() for task in student.files}
    return {n.key for n in assignment.names if n.check.settings and n.task not in tasks_with_files}


def term_lines(
    term: Term, layout: str | None, grades: dict, roster_only: list[str], shard: tuple[int, int] | None = None
) -> list[str]:
    """What the term's settings did, for summary.md and the terminal."""
    lines = []
    if term.roster is not None:
        share = f"; {len(grades) if grades else '?'} of them in shard {shard[0]}/{shard[1]}" if shard else ""
        lines.append(
            f"roster: {len(term.roster.entries)} students ({term.roster.path.name}, student id column "
            f"{term.roster.id_column!r}){share}; {len(roster_only)} handed in nothing"
        )
        lines += [f"roster {term.roster.path.name}: {line}: skipped" for line in term.roster.skipped]
    if term.late is not None:
        submitted = [g for sid, g in grades.items() if sid not in roster_only]
        timed = [g for g in submitted if g.lateness is not None]
        late = [g for g in timed if g.lateness.days]
        grace = f" + {term.late.grace_text} grace" if term.late.grace_text else ""
        if not timed:
            lines.append(
                "late work: no submission times (give --submitted, or grade an LMS download that has "
                "them): no penalty was applied"
            )
        else:
            untimed = len(submitted) - len(timed)
            lines.append(
                f"late work: due {term.late.due.isoformat(timespec='minutes')}{grace}; {len(late)} of "
                f"{len(timed)} students with a time handed in late, {sum(g.late_penalty for g in late):g} "
                "points taken off in all" + (f"; {untimed} who handed in have no time (no penalty)" if untimed else "")
            )
    applied = sum(len(g.overridden) for g in grades.values())
    if term.overrides:
        lowered = [sid for sid, g in sorted(grades.items()) if any(o.points < was for o, was in g.overridden)]
        lines.append(
            f"overrides: {applied} applied"
            + (
                f"; {len(lowered)} lower a grade the grader gave ({', '.join(lowered)}): check that this is meant"
                if lowered
                else ""
            )
        )
    if layout is not None:
        lines.append(f"submissions: a {layout.capitalize()} download")
    return lines


def stale_results(out: Path, students) -> list[str]:
    """Result folders of students who are no longer in the submissions folder (kept, flagged)."""
    if not out.is_dir():
        return []
    stale = sorted(
        p.name for p in out.iterdir() if p.is_dir() and (p / "results.json").is_file() and p.name not in students
    )
    return [
        f"{out.name}/{sid}/: results of a student who is no longer in the submissions folder (kept, not in "
        "the gradebook; delete the folder if they withdrew)"
        for sid in stale
    ]


class _Progress:
    """A progress bar on stderr (tqdm), or nothing when disabled."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.bar = None
        self.total = total
        self.enabled = enabled and total > 0

    def start(self) -> None:
        if self.enabled and self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total,
                unit="student",
                file=sys.stderr,
                dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} students [{elapsed}<{remaining}] {postfix}",
            )

    def advance(self, result: StudentResult) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(f"last: {result.student_id} {result.score:g}/{result.max_score:g}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
