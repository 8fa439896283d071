"""The judging side of a grading run: finished runs become scores, one result per student.

:class:`Scorer` runs on the runner's judging thread. It computes every case's reference
first (while the forkserver still loads), then judges each file's outcomes as the runner
hands them over, and calls ``on_result`` once a student's every file is judged. It never
touches a child: a slow reference computation holds up no child's pipe.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

from grader.assignment import Assignment, Case, GradedName, TaskFile
from grader.grading import standins
from grader.grading.jobs import FileJob, StudentProgress
from grader.grading.judge import ReferenceCache, judge_name
from grader.judging.results import NameResult, StudentResult


class Scorer:
    """Judges a run's files and assembles each student's result (see the module's docstring)."""

    def __init__(
        self,
        assignment: Assignment,
        cases: dict[str, list[Case]],
        refs: ReferenceCache,
        stand_ins: dict[str, standins.StandIns | None],
        memory_text: str,
        versions: dict[str, str],
        layers: Callable[[], dict],
    ) -> None:
        self.assignment = assignment
        self.cases = cases
        self.refs = refs
        self.stand_ins = stand_ins
        self.memory_text = memory_text
        self.versions = versions
        self.layers = layers  # the run's sandbox layers, for each result

    def graded_names(self, task: TaskFile) -> list[GradedName]:
        return [n for n in task.names if n.key in self.cases]

    def run(self, judge_queue: queue.Queue, on_result: Callable[[StudentResult], None], internal: list[str]) -> None:
        """The judging thread: judge each ``(progress, task, job, blocked)`` taken from the queue
        until ``None``; a student's result goes to ``on_result`` when their last file is judged."""
        self.compute_references()
        while True:
            item = judge_queue.get()
            if item is None:
                return
            progress, task, job, blocked = item
            try:
                self.judge_file(progress, task, job, blocked)
            except Exception as exc:  # noqa: BLE001 - keep grading the others
                import traceback

                progress.internal.append(f"judging {task.task}: {exc}\n{traceback.format_exc(limit=5)}")
                for graded in self.graded_names(task):
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
                result = self.student_result(progress)
                internal.extend(f"{progress.student.id}: {e}" for e in progress.internal)
                try:
                    on_result(result)
                except Exception as exc:  # noqa: BLE001
                    internal.append(f"{progress.student.id}: writing results failed: {exc}")

    def compute_references(self) -> None:
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

    def judge_file(
        self, progress: StudentProgress, task: TaskFile, job: FileJob | None, blocked: dict[str, str]
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
        for graded in self.graded_names(task):
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

    def student_result(self, progress: StudentProgress) -> StudentResult:
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
            sandbox=self.layers(),
        )


def _note_failed_first(names: dict[str, NameResult], graded: GradedName) -> None:
    """Say so when a name lost points after a name it cannot run without had failed first."""
    result = names.get(graded.key)
    if result is None or result.score >= result.points or result.status in ("missing", "interface"):
        return
    failed = [key for key in graded.after if key in names and names[key].score < names[key].points]
    if failed:
        words = ", ".join(key.split(".", 1)[1] for key in failed)
        _append_note(
            result,
            f" (note: {graded.path} runs after your {words}, which failed its own checks first; "
            "fix that first, this may then pass too)",
        )


def _note_own_versions(result: NameResult, graded: GradedName) -> None:
    """Self-check without the pack's references (the student kit): a name that grading runs with
    stand-ins ran with the student's own versions. Say so where it lost points."""
    if result.score >= result.points:
        return
    names = ", ".join(graded.check.stand_ins)
    _append_note(
        result,
        f" (self-check ran {graded.path} with your own {names}; grading runs it with reference versions, "
        "so a mistake there costs only that name)",
    )


def _append_note(result: NameResult, note: str) -> None:
    """Add ``note`` to the name's reason and to the message of its first failed part."""
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
