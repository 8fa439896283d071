"""What grading produces: per part, per graded name, per student. Plain dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PartResult:
    label: str
    points: float
    earned: float
    message: str  # one line: why it passed or failed
    visible_passed: bool | None = None  # verdict on the visible inputs alone (None: none ran)
    hidden_passed: bool | None = None  # verdict on the hidden inputs alone
    hidden_message: str = ""  # why the hidden inputs failed, if they did
    only_when_graded: bool = False  # self-check could not judge it (Check.graded_only); not in its total

    @property
    def passed(self) -> bool:
        return self.earned >= self.points


@dataclass
class NameResult:
    key: str
    points: float
    score: float
    status: str  # passed | partial | failed | not_implemented | missing | interface | error
    reason: str  # one line for the gradebook/feedback; "" when full marks
    parts: list[PartResult] = field(default_factory=list)
    detail: str = ""  # traceback lines from the student's file, if any
    output: str = ""  # what the student's code printed (bounded)
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)  # numbers a check measured (e.g. accuracy)


@dataclass
class StudentResult:
    student_id: str
    assignment: str
    names: list[NameResult]
    problems: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # task -> where it came from
    fingerprint: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    grader_errors: list[str] = field(default_factory=list)
    sandbox: dict[str, Any] = field(default_factory=dict)  # the run's sandbox layers (LayerReport.to_dict)

    @property
    def score(self) -> float:
        return round(sum(n.score for n in self.names), 6)

    @property
    def max_score(self) -> float:
        return sum(n.points for n in self.names)

    def name(self, key: str) -> NameResult:
        for n in self.names:
            if n.key == key:
                return n
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = self.score
        data["max_score"] = self.max_score
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StudentResult:
        names = [NameResult(**{**n, "parts": [PartResult(**p) for p in n["parts"]]}) for n in data["names"]]
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "names"}
        return cls(names=names, **fields)


def sandbox_lines(results: list[StudentResult]) -> list[str]:
    """The distinct sandbox reports of a batch's results, for summary.md and report.html.

    Usually one line; more when a resumed run mixes results graded on different machines.
    """
    ran = [r for r in results if r.files]  # a roster student who handed in nothing ran nowhere
    lines = {r.sandbox.get("line", "") for r in ran if r.sandbox}
    if any(not r.sandbox for r in ran):
        lines.add("sandbox: not recorded (graded by an older grader)")
    return sorted(line for line in lines if line)


PRINTED_LINES = 12  # lines of a student's own prints shown per graded name


def first_lines(text: str, lines: int = PRINTED_LINES, limit: int = 2000) -> str:
    """The first few lines (and at most ``limit`` characters) of what student code printed, with a count of the rest."""
    kept = text.splitlines()
    shown = "\n".join(kept[:lines])
    cut_lines = max(0, len(kept) - lines)
    if len(shown) > limit:
        shown = shown[:limit]
    if cut_lines or len(shown) < len("\n".join(kept[:lines])):
        rest = f"{cut_lines} more line{'s' if cut_lines != 1 else ''}" if cut_lines else "the rest of the line"
        shown += f"\n[... {rest} not shown; {len(text) - len(shown)} more characters]"
    return shown
