"""Manual overrides: a TA's corrections, kept in a file and applied on every run.

``--overrides FILE.csv`` holds ``student_id,name,points,comment`` rows; ``name`` is a graded
name (``task1.relu``: that name earns ``points``) or ``total`` (the student's total is
``points``, after any late penalty). Because they are applied after grading, every time,
a regrade never loses them. The comment reaches the student's feedback.

An override is written against what the autograder gave at the time. The grader notes,
in the output folder, the autograded value and the student's files when it first
applies each override; when either has changed since (the student resubmitted, the check
was fixed), summary.md flags the override for the TA to look at again.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

TOTAL = "total"
SEEN_FILE = "overrides-seen.json"


class OverrideError(ValueError):
    """The overrides file cannot be used; the message says why, in one line."""


@dataclass(frozen=True)
class Override:
    student_id: str
    name: str  # a graded key, or "total"
    points: float
    comment: str
    line: int

    @property
    def key(self) -> str:
        """What identifies this override as written (a changed row is a new one)."""
        return f"{self.name}|{self.points:g}|{self.comment}"


def read_overrides(path: Path, points: dict[str, float]) -> dict[str, list[Override]]:
    """Overrides by student; ``points`` maps each graded key to its points (for the checks)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise OverrideError(f"cannot read the overrides {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    needed = {"student_id", "name", "points"}
    if reader.fieldnames is None or not needed <= {f.strip() for f in reader.fieldnames}:
        raise OverrideError(f"the overrides {path} need the columns student_id,name,points,comment")
    found: dict[str, list[Override]] = {}
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue
        sid, name = row.get("student_id", ""), row.get("name", "")
        where = f"the overrides {path}, line {number}"
        if not sid:
            raise OverrideError(f"{where}: no student_id")
        if name != TOTAL and name not in points:
            close = [key for key in points if key.endswith("." + name) or key.split(".")[-1] == name]
            hint = f" (did you mean {' or '.join(close)}?)" if close else f"; the graded names are {', '.join(points)}"
            raise OverrideError(f"{where}: {name!r} is neither a graded name of this assignment nor 'total'{hint}")
        try:
            value = float(row.get("points", ""))
        except ValueError:
            raise OverrideError(f"{where}: points {row.get('points')!r} is not a number") from None
        if not math.isfinite(value) or value < 0:
            raise OverrideError(f"{where}: points must be a number of 0 or more")
        if name != TOTAL and value > points[name]:
            raise OverrideError(f"{where}: {name} is worth {points[name]:g} points; {value:g} is more")
        mine = found.setdefault(sid, [])
        if any(o.name == name for o in mine):
            raise OverrideError(f"{where}: a second override of {name} for {sid}")
        mine.append(Override(sid, name, value, row.get("comment", ""), number))
    return found


class Seen:
    """What the autograder gave, and the student's files, when each override was first applied."""

    def __init__(self, out: Path) -> None:
        self.path = Path(out) / SEEN_FILE
        try:
            self.data: dict = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}
        self.changed = False

    def check(self, override: Override, autograded: float, fingerprint: str) -> str | None:
        """None when nothing moved since the override was written; else why the TA should look again."""
        record = self.data.setdefault(override.student_id, {}).get(override.key)
        if record is None:
            self.data[override.student_id][override.key] = {"autograded": autograded, "fingerprint": fingerprint}
            self.changed = True
            return None
        reasons = []
        if record.get("fingerprint") != fingerprint:
            reasons.append("the student's files changed (a resubmission?)")
        if abs(float(record.get("autograded", autograded)) - autograded) > 1e-9:
            reasons.append(f"the autograded value went from {float(record['autograded']):g} to {autograded:g}")
        return "; ".join(reasons) or None

    def save(self) -> None:
        if self.changed:
            from grader.files import write_atomic

            write_atomic(self.path, json.dumps(self.data, indent=1, sort_keys=True) + "\n")
