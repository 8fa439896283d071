"""assignment3's probes: what runs next to the student's code (child side).

One probe per graded name; nothing here knows a right answer. The contest's file reader
(:func:`parse`) lives here too: it reads a predictions file in the child, and the grader
reads the TA's labels file with the same code.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from ...probing import ProbeError, probe, substituted

MAX_BYTES = 2 * 1024**2  # the limit discovery applies to every submitted file (discovery.py)
HEADER = ("id", "label")
BOM = b"\xef\xbb\xbf"

# --- answers: module-level numbers -----------------------------------------------------------


def _value_of(module, inputs):
    name = inputs["name"]
    if name not in vars(module):
        raise ProbeError(f"{name} is not defined once the file has run")
    value = vars(module)[name]
    if type(value) in (Decimal, Fraction):  # exact numbers from the standard library
        value = float(value)
    return value


probe("answers.Q1")(_value_of)
probe("answers.Q2")(_value_of)

# --- convmat: a convolution as a matrix ----------------------------------------------------------


def out_width(in_width: int, kernel: int, stride: int) -> int:
    """The output width of a convolution without padding (arithmetic the contract states)."""
    return (in_width - kernel) // stride + 1


@probe("convmat.conv1d_matrix")
def conv1d_matrix(module, inputs):
    return {"A": module.conv1d_matrix(inputs["W"].copy(), inputs["in_width"], stride=inputs["stride"])}


@probe("convmat.conv1d_backward_matrix")
def conv1d_backward_matrix(module, inputs, stand_ins):
    with substituted(module, **stand_ins):  # conv1d_matrix
        return {"B": module.conv1d_backward_matrix(inputs["W"].copy(), inputs["in_width"], stride=inputs["stride"])}


# --- predictions: reading a file (in the child, next to nothing but the student's bytes) -----


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


MAX_FIELD = 200  # characters of an id or a label


def parse(data: bytes, allowed: list[str] | None, limit: int = MAX_BYTES) -> dict[str, Any]:
    """Read a predictions file. Returns plain data (it travels from the child to the parent).

    An id is any non-empty text without a comma (``test_00017.png``, ``17``), a label any
    non-empty text (``cat``, ``3``); both are compared exactly, spaces and CSV quotes
    around them aside. ``allowed`` (self-check's: the pack's classes) are the labels a row
    may have; None takes any.

    ``fatal``: why nothing in the file can be used, or None. Otherwise ``ids``, ``labels``
    and ``lines`` hold the usable rows, one per id, and ``problems`` one sentence per kind
    of row that was not counted. ``rows`` counts the non-blank lines after the header.
    """
    out: dict[str, Any] = {"fatal": None, "ids": [], "labels": [], "lines": [], "rows": 0, "problems": []}
    if len(data) > limit:
        out["fatal"] = (
            f"the file is larger than {limit // 1024} KiB, the limit for a predictions file; nothing in it was read"
        )
        return out
    if data.startswith(BOM):
        data = data[len(BOM) :]
    nul = data.find(b"\x00")
    try:
        if nul >= 0:
            raise UnicodeDecodeError("utf-8", data, nul, nul + 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        out["fatal"] = (
            f"this is not a text file (byte {exc.start} is 0x{data[exc.start]:02x}); hand in a plain CSV text file"
        )
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
    seen: dict[str, int] = {}  # id -> line of its first row
    duplicate: tuple[str, int, int] | None = None
    permitted = set(allowed) if allowed is not None else None

    def problem(kind: str, number: int, line: str) -> None:
        entry = found.setdefault(kind, [0, number, line])
        entry[0] += 1

    for number, line in numbered[1:]:
        values = line.split(",")
        if len(values) != 2:
            problem("fields", number, line)
            continue
        key, label = _value(values[0]), _value(values[1])
        if not key or len(key) > MAX_FIELD:
            problem("id", number, line)
            continue
        if not label or len(label) > MAX_FIELD:
            problem("label", number, line)
            continue
        if permitted is not None and label not in permitted:
            problem("range", number, line)
            continue
        if key in seen:
            problem("duplicate", number, line)
            if duplicate is None:
                duplicate = (key, seen[key], number)
            continue
        seen[key] = number
        out["ids"].append(key)
        out["labels"].append(label)
        out["lines"].append(number)

    out["rows"] = len(numbered) - 1
    if out["rows"] == 0:
        out["fatal"] = "there are no predictions after the header line id,label"
        return out
    wording = {
        "fields": "without exactly two comma-separated values",
        "id": f"without an id (or one longer than {MAX_FIELD} characters)",
        "label": f"without a label (or one longer than {MAX_FIELD} characters)",
        "range": "with a label that is not one of " + _labels_text(allowed or []),
    }
    for kind, text in wording.items():
        if kind in found:
            count, number, line = found[kind]
            out["problems"].append(f"{_plural(count, 'row')} {text} (first: line {number}: {_shown(line)})")
    if duplicate is not None:
        key, first, again = duplicate
        count = found["duplicate"][0]
        out["problems"].append(
            f"{_plural(count, 'repeated row')} for an id already given; only the first row "
            f"of an id counts (first: id {key} on lines {first} and {again})"
        )
    return out


def _labels_text(labels: list[str]) -> str:
    if len(labels) > 12:
        return ", ".join(labels[:10]) + f" ... ({len(labels)} labels)"
    return ", ".join(labels)


def _header_problem(header: str) -> str:
    if "," not in header and (";" in header or "\t" in header):
        separator = "semicolons" if ";" in header else "tabs"
        return (
            f"the values are separated by {separator} ({_shown(header)}); "
            "separate them with commas, under the header id,label"
        )
    values = [_value(f) for f in header.split(",")]
    if len(values) == 2 and all(_whole(v.lstrip("-")) for v in values):
        return f"the header line id,label is missing: the first line is {_shown(header)}"
    return f"the first line must be the header id,label; it is {_shown(header)}"


@probe("predictions.accuracy")
def predictions(module, inputs):
    if not isinstance(module, bytes):
        raise ProbeError("a predictions file must be handed in as data, not code")
    return parse(module, inputs["allowed"])
