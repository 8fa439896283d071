"""The classroom contest: a predictions file, graded against labels students never see.

Students hand in ``predictions_<id>.csv``: a header line ``id,label``, then one row per
test item. The file is data, never code: in the child, :func:`parse` (probes.py) reads its bytes
with strict bounds and sends back the rows it could use plus one line per kind of
problem. The hidden labels are loaded in the grader's own process only
(:meth:`Predictions.configure`, from the file a TA gives with ``--labels``); the child
never sees them. The parent's :meth:`Predictions.judge` turns the rows into an accuracy
and points on a scale between two cutoffs, and records the numbers the leaderboard
ranks on (:mod:`grader.outputs.leaderboard`).

Self-check has no labels: there the same judge only validates the file (header, the ids
to predict, labels among the pack's classes) and says nothing about its accuracy.

The rules, in the order they are applied (also in ASSIGNMENT.md):

* at most :data:`MAX_BYTES` bytes (2 MiB, the harness's limit for any submitted file);
* UTF-8 text (a byte-order mark at the start is skipped); a NUL byte or bytes that are
  not UTF-8 make it "not a text file";
* lines end in LF, CRLF or CR; blank lines are skipped;
* the first line is the header ``id,label`` (case, spaces and CSV quotes aside);
  values separated by ``;`` or tabs are refused with that reason;
* each row is ``id,label``: an id is any non-empty text without a comma
  (``test_00017.png``, ``17``), a label any non-empty text (``cat``, ``3``); spaces and
  CSV quotes around them aside, both are compared exactly; a row that breaks this is not
  counted;
* an id given twice counts once, with its first row; ids that are not test ids are
  not counted; test ids without a row count as wrong; a label the labels file does not
  have is wrong (and the feedback says how many there were).

The labels file a TA gives follows the same format, and decides the ids and the labels:
a TA's own test set with ids like ``test_00017.png`` and class names like ``cat`` works as
it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ...assignment import Case, Check, Credit, SettingError
from .probes import MAX_BYTES, _plural, parse  # noqa: F401 - MAX_BYTES: the limit, for tests and docs

MAX_LABELS_BYTES = 64 * 1024**2  # the TA's labels file
PART = "accuracy"


# --- the hidden labels (in the grader's process only) -------------------------------------------


@dataclass(frozen=True)
class Truth:
    """The hidden labels: ids in order, their labels, and which ids rank the public leaderboard."""

    ids: list[str]
    labels: list[str]
    public: list[bool]


def id_order(key: str) -> tuple:
    """Ids in a stable order: whole numbers by value (2 before 10), then the rest by text."""
    return (0, int(key), key) if key.isascii() and key.isdigit() else (1, 0, key)


def public_mask(count: int, fraction: float, seed: int) -> np.ndarray:
    """Which of ``count`` ordered ids are public: a fixed share, drawn once with ``seed``."""
    mask = np.zeros(count, dtype=bool)
    mask[np.random.default_rng(seed).permutation(count)[: round(fraction * count)]] = True
    return mask


def read_labels(path: Path, fraction: float, seed: int) -> Truth:
    """The labels file a TA gives (same format as a predictions file, and it must be flawless)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_LABELS_BYTES + 1)
    except OSError as exc:
        raise SettingError(f"cannot read the labels file {path}: {exc.strerror or exc}") from None
    parsed = parse(data, None, limit=MAX_LABELS_BYTES)
    trouble = parsed["fatal"] or "; ".join(parsed["problems"])
    if trouble:
        raise SettingError(f"the labels file {path} is not usable: {trouble}")
    rows = sorted(zip(parsed["ids"], parsed["labels"]), key=lambda row: id_order(row[0]))
    ids = [key for key, _ in rows]
    return Truth(ids, [label for _, label in rows], [bool(v) for v in public_mask(len(ids), fraction, seed)])


def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


class Predictions(Check):
    """Accuracy of a predictions file against hidden labels, scored between two cutoffs.

    ``expected_ids`` gives the ids students must predict and ``classes`` the labels they may
    use (the pack's own contest: its images and digits 0-9); self-check validates against
    them. Graded, the labels file decides both.
    """

    settings = frozenset({"labels", "cutoffs"})
    leaderboard = True  # grader.outputs.leaderboard ranks students on this name

    def __init__(
        self,
        points: float,
        classes: int,
        expected_ids: Callable[[], np.ndarray],
        public_fraction: float,
        public_seed: int,
        cutoffs: tuple[float, float] = (0.5, 0.8),
        truth: Truth | None = None,
    ) -> None:
        self.points = points
        self.parts = {PART: points}
        self.classes = classes
        self.expected_ids = expected_ids
        self.public_fraction = public_fraction
        self.public_seed = public_seed
        self.cutoffs = cutoffs
        self.truth = truth

    def configure(self, settings: Mapping[str, Any]) -> Predictions:
        labels = settings.get("labels")
        if labels is None:
            raise SettingError(
                "predictions files are graded against hidden labels: give the labels file "
                "with --labels PATH (a CSV with the header id,label)"
            )
        low, high = (float(c) for c in settings.get("cutoffs", self.cutoffs))
        if not 0 <= low < high <= 1:
            raise SettingError(f"the cutoffs must satisfy 0 <= LOW < HIGH <= 1; got {low:g} {high:g}")
        truth = read_labels(Path(labels), self.public_fraction, self.public_seed)
        return Predictions(
            self.points, self.classes, self.expected_ids, self.public_fraction, self.public_seed, (low, high), truth
        )

    def cases(self) -> list[Case]:
        # One input, the file itself. Visible: self-check runs it, to validate the file. Graded,
        # any label is read (the labels file decides which are right).
        allowed = None if self.truth is not None else [str(c) for c in range(self.classes)]
        return [Case("file", (PART,), True, {"allowed": allowed}, "the predictions file")]

    def reference(self, case: Case) -> Any:
        if self.truth is None:  # self-check: the ids to predict, and no labels
            return {"ids": sorted({str(int(i)) for i in self.expected_ids()}, key=id_order)}
        low, high = self.cutoffs
        return {
            "ids": self.truth.ids,
            "labels": self.truth.labels,
            "public": self.truth.public,
            "low": low,
            "high": high,
        }

    def judge(self, case: Case, output: Any, reference: Any) -> Mapping[str, Any]:
        parsed = _checked(output)
        if parsed is None:
            return {PART: "the file could not be read (the grader got no usable result from reading it)"}
        if parsed["fatal"]:
            return {PART: parsed["fatal"]}
        position = {key: index for index, key in enumerate(reference["ids"])}
        problems = list(parsed["problems"])
        rows = list(zip(parsed["ids"], parsed["labels"], parsed["lines"]))
        known = [(key, label) for key, label, _ in rows if key in position]
        strangers = [(key, line) for key, _, line in rows if key not in position]
        if strangers:
            key, line = strangers[0]
            problems.append(
                f"{_plural(len(strangers), 'row')} with an id that is not a test id (first: id {key} on line {line})"
            )
        predicted = {key for key, _ in known}
        missing = [key for key in reference["ids"] if key not in predicted]
        if missing:
            problems.append(
                f"{len(missing)} of the {len(reference['ids'])} test ids have no prediction and count as "
                f"wrong (first: id {missing[0]})"
            )

        if "labels" not in reference:  # self-check: validation only, never an accuracy
            if problems:
                return {PART: "; ".join(problems)}
            return {
                PART: Credit(
                    1.0,
                    f"{_plural(len(known), 'prediction')}, one for each test id, "
                    f"labels among {', '.join(str(c) for c in range(self.classes))}",
                )
            }

        truth, public = reference["labels"], reference["public"]
        names = set(truth)
        unknown = sum(1 for _, label in known if label not in names)
        if unknown:
            problems.append(f"{_plural(unknown, 'prediction')} with a label the test set does not have (wrong)")
        right = [label == truth[position[key]] for key, label in known]
        correct, total = sum(right), len(reference["ids"])
        public_right = sum(1 for (key, _), ok in zip(known, right) if ok and public[position[key]])
        accuracy = Fraction(correct, total) if total else Fraction(0)
        low, high = Fraction(str(reference["low"])), Fraction(str(reference["high"]))
        share = min(max((accuracy - low) / (high - low), Fraction(0)), Fraction(1))
        message = (
            f"accuracy {float(accuracy):.4f} ({correct} of {total} test ids right): "
            f"{_points(self.points * share)}/{_points(self.points)} points "
            f"(0 at {float(low):g} or below, all at {float(high):g} or above)"
        )
        if problems:
            message += "; not counted: " + "; ".join(problems)
        metrics = {
            "correct": correct,
            "total": total,
            "public_correct": public_right,
            "public_total": sum(1 for p in public if p),
        }
        return {PART: Credit(float(share), message, metrics)}


def _checked(output: Any) -> dict[str, Any] | None:
    """``output`` if it has the shape :func:`parse` gives, else None."""
    if not isinstance(output, dict) or not isinstance(output.get("problems"), list):
        return None
    if output.get("fatal") is not None:
        return output if isinstance(output["fatal"], str) else None
    columns: list[Any] = [output.get(k) for k in ("ids", "labels", "lines")]
    if not all(isinstance(c, list) for c in columns) or len({len(c) for c in columns}) != 1:
        return None
    if (
        not all(isinstance(v, str) for v in columns[0] + columns[1])
        or not all(isinstance(v, int) for v in columns[2])
        or not all(isinstance(p, str) for p in output["problems"])
    ):
        return None
    return output
