"""Build the assignment 3 demo: ``data/demo_class_assignment3/`` and its hidden contest labels.

``make grade ASSIGNMENT=assignment3`` grades this class against ``data/demo_labels/
assignment3.csv``, the true labels of the contest digits (``grader.data.contest_digits``).
That file is the grader's demo data: it is not in the templates, the notebooks or the
grader package, and student code is kept out of its folder while grading.

The predictions are the true labels with a chosen number of mistakes on the public and on
the private part of the ids, so every accuracy is exact and the same on any machine:

* 3001: every file right; predictions 97% right.
* 3002: one zip; a momentum answer one update short; predictions 85% right on the public
  part but 75% on the rest (78% overall): second on the public board, third in the end.
* 3003: a blank convmat template; predictions 80% public, 80.5% overall: third on the
  public board, second in the end.
* 3004: only a messy predictions file: a byte-order mark, CRLF line ends, shuffled rows,
  three repeated ids, two unknown ids and five missing ones (70.5% overall).
* 3005: a predictions file separated by semicolons (0, with the reason).
* 3006: the same public accuracy as 3002 (a shared rank), 74% overall.
* a stray, untouched ``predictions_template.csv`` that belongs to nobody.

The output is deterministic (fixed zip timestamps, seeded choices); ``tests/test_contest.py``
checks that the committed files match what this script writes. Run it with ``make demo``.
"""
from __future__ import annotations

import io
import shutil
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from grader.data import _raw_digits, contest_ids, contest_order  # noqa: E402
from grader.packs import load_pack  # noqa: E402
from grader.packs.assignment3.contest import public_mask  # noqa: E402

CLASS = REPO / "data" / "demo_class_assignment3"
LABELS = REPO / "data" / "demo_labels" / "assignment3.csv"

# student -> (wrong on the public ids, wrong on the other ids)
MISTAKES = {"3001": (9, 21), "3002": (45, 175), "3003": (60, 135), "3004": (75, 215), "3006": (45, 215)}


def truth() -> tuple[np.ndarray, np.ndarray]:
    """(ids, labels) of the contest digits, ids sorted."""
    return contest_ids(), _raw_digits()["test_labels"][contest_order()].astype(np.int64)


def public() -> np.ndarray:
    check = load_pack("assignment3").graded("predictions.accuracy").check
    return public_mask(len(contest_ids()), check.public_fraction, check.public_seed)


def with_mistakes(labels: np.ndarray, wrong_public: int, wrong_private: int, seed: int) -> np.ndarray:
    """``labels`` with exactly that many wrong on the public and on the other ids."""
    rng = np.random.default_rng(seed)
    mask = public()
    out = labels.copy()
    for where, count in ((np.flatnonzero(mask), wrong_public), (np.flatnonzero(~mask), wrong_private)):
        chosen = rng.choice(where, size=count, replace=False)
        out[chosen] = (labels[chosen] + rng.integers(1, 10, size=count)) % 10
    return out


def csv_text(rows: list[tuple[int, int]], separator: str = ",", newline: str = "\n") -> str:
    return newline.join([f"id{separator}label"] + [f"{i}{separator}{label}" for i, label in rows]) + newline


def predictions(student: str) -> bytes:
    ids, labels = truth()
    wrong_public, wrong_private = MISTAKES.get(student, (0, 0))
    guessed = with_mistakes(labels, wrong_public, wrong_private, seed=int(student))
    rows = list(zip(ids.tolist(), guessed.tolist()))
    if student == "3004":
        rng = np.random.default_rng(4)
        right = [i for i, (g, t) in enumerate(zip(guessed, labels)) if g == t]
        dropped = set(rng.choice(right, size=5, replace=False).tolist())      # 5 missing ids, each a right one
        rows = [row for i, row in enumerate(rows) if i not in dropped]
        rows = [rows[i] for i in rng.permutation(len(rows))]                  # any order
        rows += [(rows[3][0], (rows[3][1] + 1) % 10), (rows[10][0], rows[10][1]), (rows[20][0], 0)]  # repeats
        rows += [(1000, 1), (5000, 2)]                                        # not test ids
        return b"\xef\xbb\xbf" + csv_text(rows, newline="\r\n").encode()
    if student == "3005":
        return csv_text(rows, separator=";").encode()
    return csv_text(rows).encode()


def source(task: str, override: str | None = None) -> str:
    base = (REPO / "solutions" / f"{task}.py").read_text(encoding="utf-8")
    return base if override is None else base + "\n\n" + override.strip() + "\n"


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(2026, 11, 30, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
    return buffer.getvalue()


def files() -> dict[str, bytes]:
    """Every file of the demo class, by name."""
    out = {
        "answers_3001.py": source("answers").encode(),
        "convmat_3001.py": source("convmat").encode(),
        "predictions_3001.csv": predictions("3001"),
        "3002_assignment3.zip": zip_bytes({
            "answers_3002.py": source("answers", "Q2 = -7.542   # w(166): one update short").encode(),
            "convmat_3002.py": source("convmat").encode(),
            "predictions_3002.csv": predictions("3002"),
        }),
        "answers_3003.py": source("answers").encode(),
        "convmat_3003.py": (REPO / "templates" / "convmat_template.py").read_bytes(),
        "predictions_3003.csv": predictions("3003"),
        "predictions_3004.csv": predictions("3004"),
        "predictions_3005.csv": predictions("3005"),
        "predictions_3006.csv": predictions("3006"),
        "predictions_template.csv": (REPO / "templates" / "predictions_template.csv").read_bytes(),
    }
    return out


def labels_file() -> bytes:
    ids, labels = truth()
    return csv_text(list(zip(ids.tolist(), labels.tolist()))).encode()


def main() -> int:
    if CLASS.exists():
        shutil.rmtree(CLASS)
    CLASS.mkdir(parents=True)
    for name, data in files().items():
        (CLASS / name).write_bytes(data)
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    LABELS.write_bytes(labels_file())
    print(f"wrote {len(files())} files to {CLASS} and the hidden labels to {LABELS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
