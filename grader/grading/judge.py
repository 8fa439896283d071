"""Turn what a child reported into scores and one-line reasons. Runs in the parent only."""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from typing import Any

from grader.assignment import Case, Credit, GradedName
from grader.judging.results import NameResult, PartResult


@dataclass
class CaseOutcome:
    """What happened when one case ran in a child."""

    case_id: str
    output: Any = None
    error: dict | None = None  # {"kind", "message", "trace"} when the student's code failed
    stdout: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class NameOutcome:
    """All cases of one graded name from one student, plus name-level failures."""

    key: str
    cases: dict[str, CaseOutcome] = field(default_factory=dict)
    failure: dict | None = None  # timeout/crash that stopped the name part-way


class ReferenceCache:
    """References computed once per batch, shared by every student (thread-safe).

    With ``kit`` (a mapping graded key -> case id -> reference, see :mod:`grader.grading.visible_references`),
    references are looked up instead of computed: that is how self-check runs where the
    reference solutions are not available, for the visible cases only.
    """

    def __init__(self, kit: dict | None = None) -> None:
        self._values: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self.kit = kit

    def get(self, graded: GradedName, case: Case) -> Any:
        key = (graded.key, case.id)
        with self._lock:
            if key not in self._values:
                if self.kit is not None:
                    try:
                        self._values[key] = self.kit[graded.key][case.id]
                    except KeyError:
                        raise LookupError(
                            f"no stored reference for {graded.key} {case.id}; "
                            "hidden checks need the reference solutions"
                        ) from None
                else:
                    self._values[key] = graded.check.reference(case)
            return self._values[key]


ERROR_WORDS = {
    "not_implemented": "not implemented yet (it raises NotImplementedError)",
    "memory": "ran out of memory (the limit is {memory})",
    "recursion": "recursed too deeply (RecursionError)",
    "exit": "called sys.exit() / exit(), which stops the program",
    "interrupt": "raised KeyboardInterrupt",
    "forbidden": "did something the grader forbids",
    "output": "returned something that cannot be checked",
}


def describe_error(error: dict, memory: str = "3 GiB") -> str:
    kind = error.get("kind", "exception")
    if kind == "exception":
        text = f"raised {error.get('message', 'an exception')}"
    elif kind in ("timeout", "crash", "harness", "probe"):
        text = error.get("message", kind)
    elif kind == "forbidden" and error.get("message", "").startswith("not allowed while grading"):
        text = error["message"]
    else:
        text = ERROR_WORDS.get(kind, kind).format(memory=memory)
        if kind in ("forbidden", "output", "memory", "recursion") and error.get("message"):
            text += f": {error['message']}"
    trace = error.get("trace", "")
    last = trace.strip().splitlines()[-1].strip() if trace.strip() else ""
    return f"{text} [{last}]" if last and kind != "not_implemented" else text


def judge_name(
    graded: GradedName,
    cases: list[Case],
    outcome: NameOutcome | None,
    refs: ReferenceCache,
    blocked: str | None = None,
    memory: str = "3 GiB",
    internal: list[str] | None = None,
) -> NameResult:
    """Score one graded name of one student.

    ``blocked`` is a reason that stops the name before it runs (missing file, syntax
    error, disallowed import, changed signature): every part scores 0 with that reason.
    Errors of the grader's own judging code are appended to ``internal``.
    """
    internal = internal if internal is not None else []
    parts = graded.check.parts
    if blocked is not None:
        status = "missing" if "not defined" in blocked or "no file" in blocked else "interface"
        return NameResult(
            graded.key,
            graded.points,
            0.0,
            status,
            blocked,
            [PartResult(label, pts, 0.0, blocked, visible_passed=False) for label, pts in parts.items()],
        )

    failures: dict[str, list[tuple[Case, str]]] = {label: [] for label in parts}
    counts: dict[str, list[int]] = {label: [0, 0] for label in parts}  # visible, hidden
    ran: dict[str, list[int]] = {label: [0, 0] for label in parts}
    shares: dict[str, float] = {label: 1.0 for label in parts}  # a part earns its lowest share of any case
    notes: dict[str, str] = {}  # a Credit's message at full credit
    metrics: dict[str, float] = {}
    outputs: list[str] = []
    traces: list[str] = []
    seconds = 0.0
    kinds: set[str] = set()

    for case in cases:
        got = outcome.cases.get(case.id) if outcome else None
        if got is not None:
            seconds += got.seconds
            if got.stdout:
                outputs.append(got.stdout)
        if got is None:
            failure = outcome.failure if outcome and outcome.failure else {"kind": "harness", "message": "was not run"}
            verdicts = {p: describe_error(failure, memory) for p in case.parts}
            kinds.add(failure.get("kind", "harness"))
        elif not got.ok:
            assert got.error is not None  # that is what not ok means
            verdicts = {p: describe_error(got.error, memory) for p in case.parts}
            kinds.add(got.error.get("kind", "exception"))
            if got.error.get("trace"):
                traces.append(got.error["trace"])
        else:
            try:
                verdicts = dict(graded.check.judge(case, got.output, refs.get(graded, case)))
            except Exception as exc:  # noqa: BLE001 - a judge must not take the batch down
                internal.append(f"{graded.key} {case.id}: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=4)}")
                verdicts = {
                    p: "could not be checked (the grader hit an internal error; staff have been told)"
                    for p in case.parts
                }
        for label in case.parts:
            index = 0 if case.visible else 1
            ran[label][index] += 1
            verdict = verdicts.get(label)
            if isinstance(verdict, Credit):
                metrics.update(verdict.metrics)
                share = min(max(float(verdict.fraction), 0.0), 1.0)
                shares[label] = min(shares[label], share)
                if share >= 1.0:
                    notes[label] = verdict.message
                    continue
                verdict = verdict.message
            elif verdict is not None:
                shares[label] = 0.0
            if verdict is not None:
                failures[label].append((case, verdict))
                counts[label][index] += 1

    part_results = [
        _part_result(
            label,
            pts,
            failures[label],
            counts[label],
            ran[label],
            shares[label],
            notes.get(label),
            label in graded.check.graded_only,
        )
        for label, pts in parts.items()
    ]
    score = round(sum(p.earned for p in part_results), 6)
    if score >= graded.points:
        status, reason = "passed", ""
    else:
        first = next(p for p in part_results if not p.passed)
        reason = first.message
        if kinds == {"not_implemented"}:
            status = "not_implemented"
        elif score > 0:
            status = "partial"
        else:
            status = "failed"
    return NameResult(
        graded.key,
        graded.points,
        score,
        status,
        reason,
        part_results,
        detail="\n".join(dict.fromkeys(traces))[:2000],
        output=_join_output(outputs),
        seconds=round(seconds, 4),
        metrics=metrics,
    )


def _part_result(
    label: str,
    points: float,
    failures: list[tuple[Case, str]],
    counts: list[int],
    ran: list[int],
    share: float = 0.0,
    note: str | None = None,
    graded_only: bool = False,
) -> PartResult:
    visible_passed = None if ran[0] == 0 else counts[0] == 0
    hidden_passed = None if ran[1] == 0 else counts[1] == 0
    total = ran[0] + ran[1]
    if graded_only and ran[1] == 0:
        # Self-check: the visible inputs judged only the form. A pass there says nothing of
        # the value, so it earns nothing here and the part is left out of self-check's total.
        if not failures:
            return PartResult(label, points, 0.0, note or "checked only when graded", None, None, only_when_graded=True)
        return PartResult(
            label, points, 0.0, _failure_line(failures[0], len(failures), total), False, None, only_when_graded=True
        )
    if total == 0:
        return PartResult(label, points, 0.0, "no input exercised this part", visible_passed, hidden_passed)
    if not failures:
        return PartResult(label, points, points, note or f"passes all {total} inputs", visible_passed, hidden_passed)
    visible_failures = [f for f in failures if f[0].visible]
    hidden_failures = [f for f in failures if not f[0].visible]
    # Lead with a visible input when one fails: the student can reproduce it in self-check.
    message = _failure_line((visible_failures or hidden_failures)[0], len(failures), total)
    hidden_message = _failure_line(hidden_failures[0], len(hidden_failures), ran[1]) if hidden_failures else ""
    return PartResult(label, points, round(points * share, 6), message, visible_passed, hidden_passed, hidden_message)


def _failure_line(first: tuple[Case, str], failed: int, total: int) -> str:
    case, reason = first
    count = f"; {failed} of {total} inputs fail" if failed > 1 else ""
    return f"{reason} (input: {case.label}{count})"


def _join_output(outputs: list[str], limit: int = 4096) -> str:
    text = "".join(outputs)
    if len(text) > limit:
        text = text[:limit] + f"\n[... {len(text) - limit} more characters of output not kept]"
    return text
