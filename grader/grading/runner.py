"""Grade students: static checks, isolated runs in parallel, judging, one result per student.

The main thread plans a job per student file, schedules children (at most ``jobs`` at
once), talks to each over its channel (:mod:`.protocol`: what the grader accepts from a
child) and enforces deadlines. A judging thread (:mod:`.scoring`) turns finished runs into
scores, so a slow reference computation never holds up reading a child's pipe (which would
eat into that child's time limit). :mod:`.jobs` holds what the two sides share.
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
from grader.assignment import HIDDEN_SEED, Assignment, Case, configured
from grader.grading import standins
from grader.grading import visible_references as kit
from grader.grading.jobs import FileJob, plan_jobs
from grader.grading.judge import CaseOutcome, ReferenceCache
from grader.grading.protocol import out_of_turn
from grader.grading.scoring import Scorer
from grader.intake.discovery import Student
from grader.judging.results import StudentResult
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


class Runner:
    def __init__(self, assignment: Assignment, options: Options | None = None) -> None:
        self.options = options or Options()
        if not self.options.visible_only:  # self-check never sees a run's settings (hidden labels)
            assignment = configured(assignment, self.options.settings, self.options.only, self.options.unconfigured)
        self.assignment = assignment
        if kit.solutions_available(assignment):
            refs = ReferenceCache()
        elif self.options.visible_only:
            refs = ReferenceCache(kit.load(assignment))
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
        self.interface = self.options.interface or assignment.interface
        self.scorer = Scorer(
            assignment,
            self.cases,
            refs,
            self.stand_ins,
            memory_text=f"{self.options.memory_mb / 1024:g} GiB",
            versions=versions(),
            layers=lambda: self.sandbox.layers.to_dict() if self.sandbox and self.sandbox.layers else {},
        )

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
        worker = threading.Thread(target=self.scorer.run, args=(judge_queue, on_result, internal), daemon=True)
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
            jobs = plan_jobs(students, self.assignment, self.scorer.graded_names, self.interface, judge_queue)
            self._run_jobs(jobs, judge_queue)
        finally:
            judge_queue.put(None)
            worker.join()
            self.sandbox.close()
            sys.setswitchinterval(switch)
        return internal

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
            problem = out_of_turn(job, message, self.cases)
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


def _import_failure(job: FileJob, error: dict) -> str:
    from grader.grading.judge import describe_error

    origin = job.submitted.origin
    if error.get("kind") == "not_implemented":
        return f"{origin}: importing the file raised NotImplementedError"
    return f"{origin}: importing the file failed: {describe_error(error)}"
