"""The classroom contest: a predictions file, graded against labels students never see.

Students hand in ``predictions_<id>.csv``: a header line ``id,label``, then one row per
test item. The file is data, never code: in the child, :func:`parse` (probes.py) reads its bytes
with strict bounds and sends back the rows it could use plus one line per kind of
problem. The hidden labels are loaded in the grader's own process only
(:meth:`Predictions.configure`, from the file a TA gives with ``--labels``); the child
never sees them. The parent's :meth:`Predictions.judge` turns the rows into an accuracy
and points on a scale between two cutoffs, and records the numbers the leaderboard
ranks on (:mod:`grader.leaderboard`).

Self-check has no labels: there the same judge only validates the file (header, ids,
labels in range) and says nothing about its accuracy.

The rules, in the order they are applied (also in ASSIGNMENT.md):

* at most :data:`MAX_BYTES` bytes (2 MiB, the harness's limit for any submitted file);
* UTF-8 text (a byte-order mark at the start is skipped); a NUL byte or bytes that are
  not UTF-8 make it "not a text file";
* lines end in LF, CRLF or CR; blank lines are skipped;
* the first line is the header ``id,label`` (case, spaces and CSV quotes aside);
  values separated by ``;`` or tabs are refused with that reason;
* each row is ``id,label``: an id is a whole number (digits only), a label a whole
  number from 0 to ``classes - 1``; a row that breaks this is not counted;
* an id given twice counts once, with its first row; ids that are not test ids are
  not counted; test ids without a row count as wrong.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ...assignment import Case, Check, Credit, SettingError
from .probes import MAX_BYTES, _plural, parse  # noqa: F401 - MAX_BYTES: the limit, for tests and docs

MAX_LABELS_BYTES = 64 * 1024**2       # the TA's labels file
PART = "accuracy"


# --- the hidden labels (in the grader's process only) -------------------------------------------

@dataclass(frozen=True)
class Truth:
    """The hidden labels: sorted ids, their labels, and which ids rank the public leaderboard."""

    ids: np.ndarray
    labels: np.ndarray
    public: np.ndarray


def public_mask(count: int, fraction: float, seed: int) -> np.ndarray:
    """Which of ``count`` sorted ids are public: a fixed share, drawn once with ``seed``."""
    mask = np.zeros(count, dtype=bool)
    mask[np.random.default_rng(seed).permutation(count)[:round(fraction * count)]] = True
    return mask


def read_labels(path: Path, classes: int, fraction: float, seed: int) -> Truth:
    """The labels file a TA gives (same format as a predictions file, and it must be flawless)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_LABELS_BYTES + 1)
    except OSError as exc:
        raise SettingError(f"cannot read the labels file {path}: {exc.strerror or exc}") from None
    parsed = parse(data, classes, limit=MAX_LABELS_BYTES)
    trouble = parsed["fatal"] or "; ".join(parsed["problems"])
    if trouble:
        raise SettingError(f"the labels file {path} is not usable: {trouble}")
    order = np.argsort(parsed["ids"], kind="stable")
    ids, labels = parsed["ids"][order], parsed["labels"][order]
    return Truth(ids, labels, public_mask(len(ids), fraction, seed))


# --- the check -------------------------------------------------------------------------------

def _points(value: float) -> str:
    return f"{round(float(value), 2):g}"


class Predictions(Check):
    """Accuracy of a predictions file against hidden labels, scored between two cutoffs.

    ``expected_ids`` gives the ids students must predict (public: the ids of the contest
    images); self-check validates against them. Graded, the labels file decides.
    """

    settings = frozenset({"labels", "cutoffs"})
    leaderboard = True          # grader.leaderboard ranks students on this name

    def __init__(self, points: float, classes: int, expected_ids: Callable[[], np.ndarray],
                 public_fraction: float, public_seed: int, cutoffs: tuple[float, float] = (0.5, 0.8),
                 truth: Truth | None = None) -> None:
        self.points = points
        self.parts = {PART: points}
        self.classes = classes
        self.expected_ids = expected_ids
        self.public_fraction = public_fraction
        self.public_seed = public_seed
        self.cutoffs = cutoffs
        self.truth = truth

    def configure(self, settings: Mapping[str, Any]) -> "Predictions":
        labels = settings.get("labels")
        if labels is None:
            raise SettingError("predictions files are graded against hidden labels: give the labels file "
                               "with --labels PATH (a CSV with the header id,label)")
        low, high = (float(c) for c in settings.get("cutoffs", self.cutoffs))
        if not 0 <= low < high <= 1:
            raise SettingError(f"the cutoffs must satisfy 0 <= LOW < HIGH <= 1; got {low:g} {high:g}")
        truth = read_labels(Path(labels), self.classes, self.public_fraction, self.public_seed)
        return Predictions(self.points, self.classes, self.expected_ids, self.public_fraction, self.public_seed,
                           (low, high), truth)

    def cases(self) -> list[Case]:
        # One input, the file itself. Visible: self-check runs it, to validate the file.
        return [Case("file", (PART,), True, {"classes": self.classes}, "the predictions file")]

    def reference(self, case: Case) -> Any:
        if self.truth is None:        # self-check: the ids to predict, and no labels
            return {"ids": np.unique(np.asarray(self.expected_ids(), dtype=np.int64))}
        low, high = self.cutoffs
        return {"ids": self.truth.ids, "labels": self.truth.labels, "public": self.truth.public,
                "low": low, "high": high}

    def judge(self, case: Case, output: Any, reference: Any) -> Mapping[str, Any]:
        parsed = _checked(output)
        if parsed is None:
            return {PART: "the file could not be read (the grader got no usable result from reading it)"}
        if parsed["fatal"]:
            return {PART: parsed["fatal"]}
        expected = reference["ids"]
        ids, labels, lines = parsed["ids"], parsed["labels"], parsed["lines"]
        problems = list(parsed["problems"])
        where = np.minimum(np.searchsorted(expected, ids), max(len(expected) - 1, 0))
        known = (expected[where] == ids) if len(expected) else np.zeros(len(ids), dtype=bool)
        if not known.all():
            first = int(np.argmin(known))
            problems.append(f"{_plural(int((~known).sum()), 'row')} with an id that is not a test id "
                            f"(first: id {ids[first]} on line {lines[first]})")
        missing = len(expected) - int(known.sum())
        if missing:
            first_missing = int(np.setdiff1d(expected, ids[known], assume_unique=True)[0])
            problems.append(f"{missing} of the {len(expected)} test ids have no prediction and count as wrong "
                            f"(first: id {first_missing})")

        if "labels" not in reference:           # self-check: validation only, never an accuracy
            if problems:
                return {PART: "; ".join(problems)}
            return {PART: Credit(1.0, f"{_plural(len(ids), 'prediction')}, one for each test id, "
                                      f"labels within 0-{self.classes - 1}")}

        right = labels[known] == reference["labels"][where[known]]
        public = reference["public"][where[known]]
        correct, total = int(right.sum()), len(expected)
        accuracy = Fraction(correct, total) if total else Fraction(0)
        low, high = Fraction(str(reference["low"])), Fraction(str(reference["high"]))
        share = min(max((accuracy - low) / (high - low), Fraction(0)), Fraction(1))
        message = (f"accuracy {float(accuracy):.4f} ({correct} of {total} test ids right): "
                   f"{_points(self.points * share)}/{_points(self.points)} points "
                   f"(0 at {float(low):g} or below, all at {float(high):g} or above)")
        if problems:
            message += "; not counted: " + "; ".join(problems)
        metrics = {"correct": correct, "total": total, "public_correct": int(right[public].sum()),
                   "public_total": int(reference["public"].sum())}
        return {PART: Credit(float(share), message, metrics)}


def _checked(output: Any) -> dict[str, Any] | None:
    """``output`` if it has the shape :func:`parse` gives, else None."""
    if not isinstance(output, dict) or not isinstance(output.get("problems"), list):
        return None
    if output.get("fatal") is not None:
        return output if isinstance(output["fatal"], str) else None
    arrays = [output.get(k) for k in ("ids", "labels", "lines")]
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "iu" and a.ndim == 1 for a in arrays):
        return None
    if len({len(a) for a in arrays}) != 1 or not all(isinstance(p, str) for p in output["problems"]):
        return None
    return output
