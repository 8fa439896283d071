"""Grade students: static checks, isolated runs in parallel, judging, one result per student.

The main thread schedules children (at most ``jobs`` at once) and enforces deadlines; a
judging thread turns finished runs into scores, so a slow reference computation never
holds up reading a child's pipe (which would eat into that child's time limit).
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, cast

import numpy as np

from grader import __version__, wire
from grader.assignment import HIDDEN_SEED, Assignment, Case, GradedName, TaskFile, configured
from grader.grading import standins
from grader.grading import visible_references as kit
from grader.grading.judge import CaseOutcome, NameOutcome, ReferenceCache, judge_name
from grader.intake.discovery import Student, SubmittedFile
from grader.intake.interface import FileReport, inspect_file
from grader.judging.results import NameResult, StudentResult
from grader.packs import probes_module
from grader.sandbox import ChildRun, JobSpec, LayerReport, Limits, Sandbox

STARTUP_ALLOWANCE = 10.0  # seconds for a fresh child to start, on top of the import timeout
MANY_STUDENTS = 8  # from this class size on, the forkserver moves onto huge pages (cheaper forks)
# The most the grader holds of one child's results; past it, a case's result is dropped with a
# reason. Each case is bounded on its own by its check's output_limit, refused in the child.
MAX_RESULTS_PER_CHILD = 128 * 1024**2


@dataclass
class Options:
    jobs: int = 2
    timeout: float | None = None  # seconds per graded name; None: each name's default
    memory_mb: int = 3072
    visible_only: bool = False  # self-check: only the visible cases
    only: tuple[str, ...] | None = None  # restrict to these graded keys
    isolate_uid: bool | None = None  # None: when running as root
    protected: tuple[Path, ...] = ()  # folders children may not open
    naming: str | None = None  # "lenient"/"strict"; None: the pack's own policy
    interface: str | None = None  # "compatible"/"strict"; None: the pack's own policy
    sandbox: str = "best"  # "best": the layers this machine has; "require": all or nothing;
    # "off": none (only to measure what they cost)
    self_test: bool = True  # fork the sandbox probe before grading (self-check skips it)
    settings: dict[str, Any] = field(default_factory=dict)  # for checks' configure(), e.g. {"labels": path}
    unconfigured: frozenset[str] = frozenset()  # graded keys no student has a file for: not configured


def versions() -> dict[str, str]:
    import platform

    import torch

    return {
        "grader": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
    }


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
    progress: Any = None  # the student's _StudentProgress
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


class _StudentProgress:
    def __init__(self, student: Student, expected: int) -> None:
        self.student = student
        self.expected = expected
        self.names: dict[str, NameResult] = {}
        self.started = time.monotonic()
        self.internal: list[str] = []
        self.refused: list[str] = []  # what the sandbox stopped the student's code from doing
        self.notes: list[str] = []  # interface differences that were accepted
        self.files_done = 0


class Runner:
    def __init__(self, assignment: Assignment, options: Options | None = None) -> None:
        self.options = options or Options()
        if not self.options.visible_only:  # self-check never sees a run's settings (hidden labels)
            assignment = configured(assignment, self.options.settings, self.options.only, self.options.unconfigured)
        self.assignment = assignment
        if kit.solutions_available(assignment):
            self.refs = ReferenceCache()
        elif self.options.visible_only:
            self.refs = ReferenceCache(kit.load(assignment))
        else:
            raise FileNotFoundError(
                f"grading needs the reference solutions in {assignment.solutions_dir} (self-check works without them)"
            )
        if HIDDEN_SEED is None and not self.options.visible_only:
            raise FileNotFoundError(
                "grading needs the hidden inputs' seed (grader/hidden_seed.py or the "
                "GRADER_HIDDEN_SEED variable); self-check works without it"
            )
        self.cases: dict[str, list[Case]] = {}
        for graded in assignment.names:
            if self.options.only and graded.key not in self.options.only:
                continue
            cases = graded.check.cases()
            if self.options.visible_only:
                cases = [c for c in cases if c.visible]
            self.cases[graded.key] = cases
        self.stand_ins: dict[str, standins.StandIns | None] = {
            key: standins.for_name(assignment, assignment.graded(key)) for key in self.cases
        }
        missing = [key for key, found in self.stand_ins.items() if found is None]
        if missing and not self.options.visible_only:
            raise FileNotFoundError(
                f"grading needs the pack's references and solutions: no stand-ins for "
                f"{', '.join(missing)} (self-check works without them)"
            )
        self._turns: dict[str, bytes] = {}
        self.sandbox: Sandbox | None = None
        self.on_layers: Callable[[LayerReport], None] | None = None  # told the run's layers after the self-test
        self.memory_text = f"{self.options.memory_mb / 1024:g} GiB"
        self.interface = self.options.interface or assignment.interface
        self.versions = versions()

    # --- public ---------------------------------------------------------------------------

    def grade(
        self,
        students: Iterable[Student],
        on_result: Callable[[StudentResult], None],
        on_progress: Callable[[str], None] | None = None,
    ) -> list[str]:
        """Grade every student, calling ``on_result`` once per student (from a worker thread).

        Returns internal grader errors (empty when the grader itself worked).
        """
        students = list(students)
        internal: list[str] = []
        if not students:
            return internal
        self.sandbox = Sandbox(list(self.options.protected), self.options.isolate_uid, self.options.sandbox)
        self.sandbox.warm_up(many_children=len(students) >= MANY_STUDENTS)
        # The judging thread computes while children run; this thread must still answer a
        # child's "start" at once, not after the judge's 5 ms time slice.
        switch = sys.getswitchinterval()
        sys.setswitchinterval(min(switch, 0.0005))
        judge_queue: queue.Queue = queue.Queue()
        worker = threading.Thread(target=self._judge_loop, args=(judge_queue, on_result, internal), daemon=True)
        worker.start()  # it computes the references first, while the forkserver loads
        if self.options.self_test:
            try:
                layers = self.sandbox.self_test()  # raises SandboxError: nothing is graded
            except BaseException:
                judge_queue.put(None)
                worker.join()
                self.sandbox.close()
                sys.setswitchinterval(switch)
                raise
            if self.on_layers:
                self.on_layers(layers)
        try:
            jobs = self._plan(students, judge_queue)
            self._run_jobs(jobs, judge_queue)
        finally:
            judge_queue.put(None)
            worker.join()
            self.sandbox.close()
            sys.setswitchinterval(switch)
        return internal

    # --- planning -------------------------------------------------------------------------

    def _graded_names(self, task: TaskFile) -> list[GradedName]:
        return [n for n in task.names if n.key in self.cases]

    def _plan(self, students: list[Student], judge_queue: queue.Queue) -> list[FileJob]:
        jobs: list[FileJob] = []
        for student in students:
            tasks = [t for t in self.assignment.files if self._graded_names(t)]
            progress = _StudentProgress(student, len(tasks))
            for task in tasks:
                names = self._graded_names(task)
                submitted = student.files.get(task.task)
                if submitted is None:
                    reason = student.blocked.get(task.task) or (
                        f"no file for {task.task}: expected {task.task}_{student.id}{task.suffix}, on its own "
                        f"or inside {student.id}_{self.assignment.name}.zip"
                    )
                    judge_queue.put((progress, task, None, {n.key: reason for n in names}))
                    continue
                # A data file is never imported: its checks parse its bytes in the child.
                report: FileReport = (
                    inspect_file(submitted.data, task, self.interface) if task.kind == "code" else FileReport()
                )
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

    # --- running --------------------------------------------------------------------------

    def _timeout(self, key: str) -> float:
        if self.options.timeout is not None:
            return self.options.timeout
        return self.assignment.graded(key).timeout

    def _spec(self, job: FileJob, slot: int) -> tuple[JobSpec, str]:
        assert self.sandbox is not None
        scratch, module_path = self.sandbox.prepare(job.submitted.data, job.task.task, slot)
        names = list(job.remaining)
        cpu = int(sum(self._timeout(k) for k in names) + job.task.import_timeout + 30)
        job.order, job.started, job.imported, job.received_bytes, job.tampered = list(names), set(), False, 0, None
        spec = JobSpec(
            probes=probes_module(self.assignment.name),
            task=job.task.task,
            kind=job.task.kind,
            imports=job.task.imports,
            module_path=module_path,
            display_name=job.submitted.origin.split(":")[-1].split("/")[-1],
            names=names,
            seed=self.assignment.seed,
            limits=Limits(memory=self.options.memory_mb * 1024**2),
            scratch=scratch,
            cpu_seconds=cpu,
            uid=self.sandbox.uid_for(slot),
            # Other children's scratch folders are off limits; the child's own is always allowed.
            protected=[str(p) for p in self.options.protected] + [str(self.sandbox.scratch_root)],
            required=self.sandbox.required,
            kernel_layers=self.options.sandbox != "off",
            skip_failing_statements=self.interface != "strict",
            # half the import's limit, so that the functions after a stopped statement still load
            top_level_seconds=job.task.import_timeout / 2,
            skip_lines=tuple(job.skipped),  # a resumed child does not run (and wait for) them again
        )
        return spec, scratch

    def _run_jobs(self, jobs: list[FileJob], judge_queue: queue.Queue) -> None:
        assert self.sandbox is not None
        pending = deque(jobs)
        running: dict[Connection, tuple[ChildRun, FileJob, str]] = {}
        free_slots = list(range(max(1, self.options.jobs)))
        while pending or running:
            while pending and free_slots:
                job = pending.popleft()
                slot = free_slots.pop(0)
                spec, scratch = self._spec(job, slot)
                job.attempts += 1
                job.current = None
                child = self.sandbox.start(spec, slot)
                child.set_deadline(STARTUP_ALLOWANCE + job.task.import_timeout)
                running[child.conn] = (child, job, scratch)
            now = time.monotonic()
            nearest = min(c.deadline for c, _, _ in running.values())
            # wait() returns those of the connections it was given that are ready.
            ready = cast("list[Connection]", wait(list(running), timeout=max(0.0, min(nearest - now, 1.0))))
            for conn in ready:
                child, job, scratch = running[conn]
                finished = self._drain(child, job)
                if finished is not None:
                    del running[conn]
                    free_slots.append(child.slot)
                    free_slots.sort()
                    self._after_child(child, job, scratch, finished, pending, judge_queue)
            now = time.monotonic()
            for conn, (child, job, scratch) in list(running.items()):
                if now > child.deadline and conn in running:
                    # Read anything already sent before declaring a timeout.
                    finished = self._drain(child, job) if conn.poll() else None
                    if finished is None:
                        finished = "timeout"
                    del running[conn]
                    free_slots.append(child.slot)
                    free_slots.sort()
                    self._after_child(child, job, scratch, finished, pending, judge_queue)

    def _drain(self, child: ChildRun, job: FileJob) -> str | None:
        """Handle every message waiting; return "end"/"eof" when the child is done, else None."""
        while child.conn.poll():
            message = child.receive()
            if message is None:
                return "eof"
            problem = _out_of_turn(job, message, self.cases)
            if problem:
                job.tampered = problem
                return "eof"
            verdict = self._handle(child, job, message)
            if verdict:
                return verdict
        return None

    def _next_turn(self, child: ChildRun, job: FileJob) -> None:
        """Close the current name and give the child the next one's turn.

        From here on nothing more about the names before it is accepted (see
        :func:`_out_of_turn`), and only now do its inputs and stand-ins go to the child. It
        happens when the child asks ("start"), or earlier, as soon as the current name's
        last result is in (or the file has loaded, for the first name): the child then finds
        its next turn waiting instead of waiting for this process to answer.
        """
        job.current = job.order.pop(0)
        child.set_deadline(self._timeout(job.current))
        child.send(self._turn(job.current))

    def _turn(self, key: str) -> bytes:
        """The message that gives a child one name's turn: its cases and its stand-ins (the
        same for every student, so encoded once)."""
        if key not in self._turns:
            check = self.assignment.graded(key).check
            cases = [(c.id, c.inputs, check.output_limit) for c in self.cases[key]]
            found = self.stand_ins.get(key)
            sources = [list(source) for source in found.sources] if found is not None else []
            self._turns[key] = wire.dumps(wire.to_plain(("turn", key, cases, sources)))
        return self._turns[key]

    def _handle(self, child: ChildRun, job: FileJob, message: tuple) -> str | None:
        kind = message[0]
        if kind == "sandbox":
            assert self.sandbox is not None
            self.sandbox.note_layers(LayerReport.from_dict(message[1]))
            return None
        if kind == "refused":
            missing = ", ".join(message[1])
            job.file_failure = (
                "not graded: the grading sandbox could not be put up around this file "
                f"(missing: {missing}); this is not your fault and staff have been told"
            )
            job.progress.internal.append(
                f"{job.task.task}: a child could not put up the sandbox layers {missing}; its student code was not run"
            )
            return "end"
        if kind == "imported":
            _, error, stdout, violations, skipped = message
            job.import_output += stdout or ""
            job.violations += violations
            job.skipped.update((line, text) for line, text in skipped)
            if error is not None:
                job.file_failure = _import_failure(job, error)
            elif job.order:
                self._next_turn(child, job)  # ready before the child asks for it
            return None
        if kind == "start":
            job.started.add(message[1])
            if message[1] != job.current:
                self._next_turn(child, job)
            return None
        if kind == "case":
            _, key, case_id, output, error, stdout, seconds, violations = message
            job.received_bytes += child.last_size
            if job.received_bytes > MAX_RESULTS_PER_CHILD:
                output, error = (
                    None,
                    {
                        "kind": "output",
                        "trace": "",
                        "message": (
                            f"the results of this file's names hold more than {MAX_RESULTS_PER_CHILD // 1024**2} MiB "
                            "together, more than the grader keeps"
                        ),
                    },
                )
            outcome = job.outcomes[key]
            outcome.cases[case_id] = CaseOutcome(case_id, output, error, stdout, seconds)
            job.violations += violations
            if job.order and len(outcome.cases) == len(self.cases[key]):
                self._next_turn(child, job)  # this name is done: the next one's turn, before it is asked
            return None
        if kind == "end":
            return "end"
        if kind == "fatal":
            job.fatal = message[1]
            return "eof"
        return None

    def _after_child(
        self, child: ChildRun, job: FileJob, scratch: str, how: str, pending: deque, judge_queue: queue.Queue
    ) -> None:
        exit_info = child.finish(timed_out=(how == "timeout"))
        assert self.sandbox is not None
        job.native_output += self.sandbox.release(scratch)
        if how == "end":
            job.remaining = []
        else:
            if how == "timeout":
                limit = self._timeout(job.current) if job.current else job.task.import_timeout
                what = f"timed out after {limit:g} s (wall clock)"
            elif job.tampered:
                what = f"stopped: the grading process was tampered with ({job.tampered})"
            else:
                what = f"stopped: the process {exit_info.describe()}"
            if job.fatal:
                job.file_failure = "the grader's child process failed; staff have been told"
                job.progress.internal.append(f"child harness error in {job.task.task}: {job.fatal}")
                job.remaining = []
            elif job.current is None:
                if job.file_failure is None:
                    job.file_failure = f"{job.submitted.origin}: importing the file {what}" + (
                        " (does it run code at the top level?)" if how == "timeout" else ""
                    )
                job.remaining = []
            else:
                job.outcomes[job.current].failure = {
                    "kind": "timeout" if how == "timeout" else "crash",
                    "message": what,
                }
                index = job.remaining.index(job.current)
                job.remaining = job.remaining[index + 1 :]
        if job.remaining and job.file_failure is None:
            pending.appendleft(job)  # resume with the names after the one that failed
        else:
            judge_queue.put((job.progress, job.task, job, job.blocked))

    # --- judging --------------------------------------------------------------------------

    def _judge_loop(
        self, judge_queue: queue.Queue, on_result: Callable[[StudentResult], None], internal: list[str]
    ) -> None:
        self._compute_references()
        while True:
            item = judge_queue.get()
            if item is None:
                return
            progress, task, job, blocked = item
            try:
                self._judge_file(progress, task, job, blocked)
            except Exception as exc:  # noqa: BLE001 - keep grading the others
                import traceback

                progress.internal.append(f"judging {task.task}: {exc}\n{traceback.format_exc(limit=5)}")
                for graded in self._graded_names(task):
                    progress.names.setdefault(
                        graded.key,
                        NameResult(
                            graded.key,
                            graded.points,
                            0.0,
                            "error",
                            "the grader hit an internal error on this file; staff have been told",
                        ),
                    )
            progress.files_done += 1
            if progress.files_done == progress.expected:
                result = self._student_result(progress)
                internal.extend(f"{progress.student.id}: {e}" for e in progress.internal)
                try:
                    on_result(result)
                except Exception as exc:  # noqa: BLE001
                    internal.append(f"{progress.student.id}: writing results failed: {exc}")

    def _compute_references(self) -> None:
        """Compute every case's reference before the first judging.

        Done on the judging thread as soon as grading starts: the forkserver then still has
        seconds of imports ahead, during which this process would otherwise wait. A
        reference that fails is left for the judging of its name, which reports it.
        """
        if self.refs.kit is not None:
            return  # looked up, not computed
        for key, cases in self.cases.items():
            graded = self.assignment.graded(key)
            for case in cases:
                try:
                    self.refs.get(graded, case)
                except Exception:  # noqa: BLE001 - reported where the name is judged
                    pass

    def _judge_file(
        self, progress: _StudentProgress, task: TaskFile, job: FileJob | None, blocked: dict[str, str]
    ) -> None:
        runtime_block = None
        if job is not None:
            imports = [v for v in job.violations if v.startswith("import of ")]
            if imports:
                runtime_block = f"{job.submitted.origin}: disallowed import at run time: " + ", ".join(
                    sorted(set(imports))
                )
            elif job.file_failure:
                runtime_block = job.file_failure
            others = sorted(set(v for v in job.violations if not v.startswith("import of ")))
            if others:
                progress.refused.append(f"{job.submitted.origin}: refused while grading: " + "; ".join(others[:5]))
            if job.skipped:
                progress.notes.append(_skipped_note(job))
        for graded in self._graded_names(task):
            reason = blocked.get(graded.key) or runtime_block
            outcome = job.outcomes.get(graded.key) if job else None
            result = judge_name(
                graded, self.cases[graded.key], outcome, self.refs, reason, self.memory_text, progress.internal
            )
            if job is not None and graded.key == (job.keys[0] if job.keys else None):
                extra = (job.import_output + job.native_output).strip()
                if extra:
                    result.output = (extra + "\n" + result.output)[:4096]
            if self.stand_ins.get(graded.key) is None and reason is None:
                _note_own_versions(result, graded)
            progress.names[graded.key] = result

    def _student_result(self, progress: _StudentProgress) -> StudentResult:
        student = progress.student
        order = [n.key for n in self.assignment.names if n.key in self.cases]
        for key in order:
            _note_failed_first(progress.names, self.assignment.graded(key))
        return StudentResult(
            student_id=student.id,
            assignment=self.assignment.name,
            names=[progress.names[k] for k in order],
            problems=list(student.problems) + progress.notes + progress.refused,
            files={t: f.origin for t, f in sorted(student.files.items())},
            fingerprint=student.fingerprint(),
            versions=self.versions,
            seconds=round(time.monotonic() - progress.started, 3),
            grader_errors=list(progress.internal),
            sandbox=self.sandbox.layers.to_dict() if self.sandbox and self.sandbox.layers else {},
        )


def _out_of_turn(job: FileJob, message: Any, cases: dict[str, list[Case]]) -> str | None:
    """Why ``message`` breaks the child's protocol, or None.

    Student code can write to the result channel too. What the parent accepts keeps the
    answers useless to it: names start in their order, each once; a case is accepted only
    for the name whose turn it is, once. So once a name's turn has ended, and a stand-in
    that could answer it may have reached the child, nothing about it is accepted any more.
    """
    if not isinstance(message, tuple) or not message or not isinstance(message[0], str):
        return "a message the grader does not know"
    kind = message[0]
    if kind == "imported":
        if job.imported or job.current is not None or len(message) != 5:
            return "a second report of the file's import"
        job.imported = True
        return None
    if kind == "start":
        key = message[1] if len(message) == 2 else None
        given = key == job.current and key not in job.started  # its turn was given before it asked
        if not job.imported or not (given or (job.order and key == job.order[0])):
            return "a name started out of turn"
        return None
    if kind == "case":
        if len(message) != 8 or message[1] != job.current or job.current not in job.outcomes:
            return "a result for a name whose turn it is not"
        if message[2] not in {c.id for c in cases[job.current]}:
            return "a result for an input the grader did not give"
        if message[2] in job.outcomes[job.current].cases:
            return "a second result for the same input"
        return None
    if kind in ("sandbox", "refused"):  # sent before any student code runs
        return "a sandbox report after the file was loaded" if job.imported else None
    if kind in ("end", "fatal"):
        return None
    return "a message the grader does not know"


def _note_failed_first(names: dict[str, NameResult], graded: GradedName) -> None:
    """Say so when a name lost points after a name it cannot run without had failed first."""
    result = names.get(graded.key)
    if result is None or result.score >= result.points or result.status in ("missing", "interface"):
        return
    failed = [key for key in graded.after if key in names and names[key].score < names[key].points]
    if failed:
        words = ", ".join(key.split(".", 1)[1] for key in failed)
        note = (
            f" (note: {graded.path} runs after your {words}, which failed its own checks first; "
            "fix that first, this may then pass too)"
        )
        result.reason += note
        for part in result.parts:
            if not part.passed:
                part.message += note
                break


def _note_own_versions(result: NameResult, graded: GradedName) -> None:
    """Self-check without the pack's references (the student kit): a name that grading runs with
    stand-ins ran with the student's own versions. Say so where it lost points."""
    if result.score >= result.points:
        return
    names = ", ".join(graded.check.stand_ins)
    note = (
        f" (self-check ran {graded.path} with your own {names}; grading runs it with reference versions, "
        "so a mistake there costs only that name)"
    )
    result.reason += note
    for part in result.parts:
        if not part.passed:
            part.message += note
            break


def _skipped_note(job: FileJob) -> str:
    texts = [job.skipped[line] for line in sorted(job.skipped)]
    shown = "; ".join(texts[:3]) + (f"; and {len(texts) - 3} more" if len(texts) > 3 else "")
    return (
        f"{job.submitted.origin}: code outside your functions failed or ran too long when the file was "
        f"loaded, so the grader skipped it and graded the rest: {shown}. Code at the top level runs "
        'whenever the file is imported; put it under `if __name__ == "__main__":`'
    )


def _import_failure(job: FileJob, error: dict) -> str:
    from grader.grading.judge import describe_error

    origin = job.submitted.origin
    if error.get("kind") == "not_implemented":
        return f"{origin}: importing the file raised NotImplementedError"
    return f"{origin}: importing the file failed: {describe_error(error)}"
