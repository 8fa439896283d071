"""The classroom contest: a predictions file, graded against labels students never see.

Students hand in ``predictions_<id>.csv``: a header line ``id,label``, then one row per
test item. The file is data, never code: in the child, :func:`parse` reads its bytes
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

from ...assignment import Case, Check, Credit, ProbeError, SettingError
from ...discovery import MAX_FILE_BYTES

MAX_BYTES = MAX_FILE_BYTES            # the same limit discovery applies to every submitted file
MAX_LABELS_BYTES = 64 * 1024**2       # the TA's labels file
MAX_ID_DIGITS = 18                    # ids fit in an int64
HEADER = ("id", "label")
BOM = b"\xef\xbb\xbf"
PART = "accuracy"


# --- reading a file (in the child, next to nothing but the student's bytes) ------------------

def _shown(line: str) -> str:
    return repr(line if len(line) <= 40 else line[:37] + "...")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _value(field: str) -> str:
    """A field without surrounding spaces and CSV quotes."""
    field = field.strip()
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1].strip()
    return field


def _whole(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse(data: bytes, classes: int, limit: int = MAX_BYTES) -> dict[str, Any]:
    """Read a predictions file. Returns plain data (it travels from the child to the parent).

    ``fatal``: why nothing in the file can be used, or None. Otherwise ``ids``, ``labels``
    and ``lines`` (int64 arrays) hold the usable rows, one per id, and ``problems`` one
    sentence per kind of row that was not counted. ``rows`` counts the non-blank lines
    after the header.
    """
    out: dict[str, Any] = {"fatal": None, "ids": np.zeros(0, np.int64), "labels": np.zeros(0, np.int64),
                           "lines": np.zeros(0, np.int64), "rows": 0, "problems": []}
    if len(data) > limit:
        out["fatal"] = (f"the file is larger than {limit // 1024} KiB, the limit for a predictions file; "
                        "nothing in it was read")
        return out
    if data.startswith(BOM):
        data = data[len(BOM):]
    nul = data.find(b"\x00")
    try:
        if nul >= 0:
            raise UnicodeDecodeError("utf-8", data, nul, nul + 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out["fatal"] = (f"this is not a text file (byte {exc.start} is 0x{data[exc.start]:02x}); "
                        "hand in a plain CSV text file")
        return out

    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    numbered = [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        out["fatal"] = "the file is empty; it must start with the header line id,label"
        return out
    header = numbered[0][1]
    fields = [_value(f).lower() for f in header.split(",")]
    if tuple(fields) != HEADER:
        out["fatal"] = _header_problem(header)
        return out

    # kind -> [count, first line number, first line's text]
    found: dict[str, list] = {}
    seen: dict[int, int] = {}                    # id -> line of its first row
    duplicate: tuple[int, int, int] | None = None
    ids, labels, where = [], [], []

    def problem(kind: str, number: int, line: str) -> None:
        entry = found.setdefault(kind, [0, number, line])
        entry[0] += 1

    for number, line in numbered[1:]:
        values = line.split(",")
        if len(values) != 2:
            problem("fields", number, line)
            continue
        id_text, label_text = _value(values[0]), _value(values[1])
        if not _whole(id_text) or len(id_text) > MAX_ID_DIGITS:
            problem("id", number, line)
            continue
        negative = label_text.startswith("-")
        if not _whole(label_text[1:] if negative else label_text):
            problem("label", number, line)
            continue
        label = int(label_text) if len(label_text) <= MAX_ID_DIGITS else classes
        if not 0 <= label < classes:
            problem("range", number, line)
            continue
        key = int(id_text)
        if key in seen:
            problem("duplicate", number, line)
            if duplicate is None:
                duplicate = (key, seen[key], number)
            continue
        seen[key] = number
        ids.append(key)
        labels.append(label)
        where.append(number)

    out["rows"] = len(numbered) - 1
    if out["rows"] == 0:
        out["fatal"] = "there are no predictions after the header line id,label"
        return out
    out["ids"] = np.asarray(ids, dtype=np.int64)
    out["labels"] = np.asarray(labels, dtype=np.int64)
    out["lines"] = np.asarray(where, dtype=np.int64)
    wording = {
        "fields": "without exactly two comma-separated values",
        "id": "whose id is not a whole number",
        "label": "whose label is not a whole number",
        "range": f"with a label outside 0-{classes - 1}",
    }
    for kind, text in wording.items():
        if kind in found:
            count, number, line = found[kind]
            out["problems"].append(f"{_plural(count, 'row')} {text} (first: line {number}: {_shown(line)})")
    if duplicate is not None:
        key, first, again = duplicate
        count = found["duplicate"][0]
        out["problems"].append(f"{_plural(count, 'repeated row')} for an id already given; only the first row "
                               f"of an id counts (first: id {key} on lines {first} and {again})")
    return out


def _header_problem(header: str) -> str:
    if "," not in header and (";" in header or "\t" in header):
        separator = "semicolons" if ";" in header else "tabs"
        return (f"the values are separated by {separator} ({_shown(header)}); "
                "separate them with commas, under the header id,label")
    values = [_value(f) for f in header.split(",")]
    if len(values) == 2 and all(_whole(v.lstrip("-")) for v in values):
        return f"the header line id,label is missing: the first line is {_shown(header)}"
    return f"the first line must be the header id,label; it is {_shown(header)}"


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

    def probe(self, module: Any, inputs: Any) -> Any:
        if not isinstance(module, bytes):
            raise ProbeError("a predictions file must be handed in as data, not code")
        return parse(module, int(inputs["classes"]))

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
