"""The classroom contest of assignment3: predictions files graded against hidden labels.

* Every kind of file a class hands in, graded through discovery and a child like any
  student file, earns exactly the points its valid rows earn (or 0) with one clear
  reason: perfect, partial, reordered, missing, repeated and unknown ids, labels out of
  range, non-integers, wrong or missing header, a byte-order mark, CRLF, semicolons,
  binary junk, a 100 MB file, a file in a zip.
* The hidden labels stay in the grader: never in a child's inputs, never readable by
  student code while grading, never in the student-facing files.
* The leaderboard ranks on the public part and scores on all ids, ties shared.
* The command line: no labels -> one line and exit 2; --cutoffs; a new labels file or new
  cutoffs regrade.
* Self-check validates (header, ids, labels) and never reports an accuracy.
* The demo class and the contest notebook.
"""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fixtures.cli import run_grader
from fixtures.notebooks import cell_text, load_builder

from grader import selfcheck
from grader.assignment import SettingError
from grader.grading import visible_references as kit
from grader.grading.runner import Options
from grader.intake.discovery import discover
from grader.judging.results import StudentResult
from grader.outputs.batch import grade_folder, hidden_folders
from grader.outputs.leaderboard import Entry, html_section, leaderboard_csv, ranked, write_leaderboard
from grader.packs import load_pack
from grader.packs.assignment3.contest import MAX_BYTES, parse, public_mask

REPO = Path(__file__).resolve().parent.parent
PACK = load_pack("assignment3")
KEY = "predictions.accuracy"
CHECK = PACK.graded(KEY).check
DEMO_LABELS = REPO / "data" / "demo_labels" / "assignment3.csv"


def read_truth(path: Path = DEMO_LABELS) -> dict[int, int]:
    """The labels, read with the csv module (not with the grader's reader)."""
    with open(path, newline="") as fh:
        return {int(row["id"]): int(row["label"]) for row in csv.DictReader(fh)}


TRUTH = read_truth()
IDS = sorted(TRUTH)
PUBLIC = {i for i, public in zip(IDS, public_mask(len(IDS), CHECK.public_fraction, CHECK.public_seed)) if public}


def wrong(label: int) -> int:
    return (label + 1) % 10


def rows_with(wrong_ids: set[int] = frozenset(), ids: list[int] | None = None) -> list[tuple[int, int]]:
    """(id, label) rows, right except for ``wrong_ids``."""
    return [(i, wrong(TRUTH[i]) if i in wrong_ids else TRUTH[i]) for i in (IDS if ids is None else ids)]


def text(rows, header: str = "id,label", separator: str = ",", newline: str = "\n") -> bytes:
    lines = ([header] if header is not None else []) + [f"{i}{separator}{label}" for i, label in rows]
    return (newline.join(lines) + newline).encode()


LAST = set(IDS[740:])                   # 260 ids: getting them wrong gives 0.74, i.e. 8 points
GOOD = rows_with()
P74 = rows_with(LAST)
SHUFFLED = [GOOD[i] for i in np.random.default_rng(0).permutation(len(GOOD))]

# student id -> (file name, bytes, points, words its reason must contain)
CASES = {
    "perfect": (text(GOOD), 10, "accuracy 1.0000 (1000 of 1000 test ids right)"),
    "partial": (text(P74), 8, "accuracy 0.7400 (740 of 1000 test ids right): 8/10 points"),
    "half": (text(rows_with(set(IDS[650:]))), 5, "accuracy 0.6500"),
    "low": (text(rows_with(set(IDS[400:]))), 0, "accuracy 0.4000 (400 of 1000 test ids right): 0/10 points"),
    "reordered": (text(SHUFFLED), 10, "accuracy 1.0000"),
    "missing": (text(GOOD[:740]), 8, "260 of the 1000 test ids have no prediction and count as wrong (first: id 740)"),
    # A repeated id counts with its first row: the right labels given again later do not help.
    "repeated": (text(P74 + GOOD[740:]), 8, "260 repeated rows for an id already given; only the first row "
                                            "of an id counts (first: id 740 on lines 742 and 1002)"),
    "unknown": (text(P74 + [(1000 + k, 3) for k in range(5)]), 8,
                "5 rows with an id that is not a test id (first: id 1000 on line 1002)"),
    "range": (text(GOOD[:740] + [(i, 10) for i, _ in GOOD[740:]]), 8,
              "260 predictions with a label the test set does not have (wrong)"),
    # Ids and labels are compared as text: "3.0" is not the label "3", "870x" not the id "870".
    "nonint": (text(GOOD[:740]) + b"".join(f"{i},{label}.0\n".encode() for i, label in GOOD[740:870])
               + b"".join(f"{i}x,{label}\n".encode() for i, label in GOOD[870:]), 8,
               "130 predictions with a label the test set does not have (wrong)"),
    "header": (text(GOOD, header="image,digit"), 0, "the first line must be the header id,label; it is 'image,digit'"),
    "noheader": (text(GOOD, header=None), 0, "the header line id,label is missing"),
    "bom": (b"\xef\xbb\xbf" + text(P74), 8, "accuracy 0.7400"),
    "crlf": (text(P74, newline="\r\n"), 8, "accuracy 0.7400"),
    "semicolon": (text(GOOD, header="id;label", separator=";"), 0, "the values are separated by semicolons"),
    "binary": (np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes(), 0, "this is not a text file"),
    "nul": (text(GOOD).replace(b"\n5,", b"\n\x005,", 1), 0, "this is not a text file"),
    "empty": (b"", 0, "the file is empty"),
    "headeronly": (b"id,label\n", 0, "there are no predictions after the header"),
}
HUGE_BYTES = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Every case as a student, plus a zip, a 100 MB file and a code file that tries to read the labels."""
    root = tmp_path_factory.mktemp("contest")
    folder, hidden = root / "submissions", root / "hidden"
    folder.mkdir()
    hidden.mkdir()
    labels = hidden / "labels.csv"
    labels.write_bytes(DEMO_LABELS.read_bytes())
    for sid, (data, _, _) in CASES.items():
        (folder / f"predictions_{sid}.csv").write_bytes(data)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("predictions_zipped.csv", text(P74))
    (folder / "zipped_assignment3.zip").write_bytes(buffer.getvalue())
    with open(folder / "predictions_huge.csv", "wb") as fh:      # really 100 MB on disk
        fh.write(text(GOOD))
        rest = HUGE_BYTES - fh.tell()
        fh.write(b"1,1\n" * (rest // 4) + b"\n" * (rest % 4))
    (folder / "answers_spy.py").write_text(
        "try:\n"
        f"    Q1 = open({str(labels)!r}).read()[:200]\n"
        "except Exception as exc:\n"
        "    Q1 = repr(exc)\n"
        "print('LEAK', Q1)\n"
        "Q2 = 1.0\n")
    started = time.monotonic()
    batch = grade_folder(folder, root / "out", PACK, Options(jobs=2, settings={"labels": labels}), progress=False)
    seconds = time.monotonic() - started
    assert batch.internal_errors == []
    return {"results": {r.student_id: r for r in batch.results}, "out": root / "out", "folder": folder,
            "labels": labels, "seconds": seconds}


def explanation(result: StudentResult) -> str:
    name = result.name(KEY)
    return " | ".join([name.reason] + [p.message for p in name.parts])


@pytest.mark.parametrize("sid", list(CASES))
def test_each_kind_of_file_earns_exactly_its_points_with_one_reason(klass, sid):
    _, points, words = CASES[sid]
    result = klass["results"][sid].name(KEY)
    assert result.score == points, explanation(klass["results"][sid])
    assert words in result.parts[0].message, result.parts[0].message
    if points < 10:
        assert words in result.reason                 # the reason in the gradebook/feedback line says it


def test_broken_files_explain_in_one_sentence_and_rows_are_counted_by_kind(klass):
    results = klass["results"]
    nonint = results["nonint"].name(KEY).reason
    assert "130 rows with an id that is not a test id (first: id 870x on line 872)" in nonint
    assert "130 predictions with a label the test set does not have" in nonint
    for sid in ("header", "noheader", "semicolon", "binary", "nul", "empty", "headeronly"):
        reason = results[sid].name(KEY).reason
        assert "accuracy" not in reason and "not counted" not in reason, reason   # its one reason, no score talk
        assert results[sid].name(KEY).metrics == {}                             # nothing to rank


def test_a_predictions_file_inside_the_zip_is_found_and_graded(klass):
    result = klass["results"]["zipped"]
    assert result.files["predictions"] == "zipped_assignment3.zip:predictions_zipped.csv"
    assert result.name(KEY).score == 8


def test_a_100_mb_file_is_refused_from_its_size_alone(klass):
    result = klass["results"]["huge"].name(KEY)
    assert result.score == 0
    assert result.reason == ("predictions_huge.csv: too large to be graded (102400 KiB; the limit is "
                             f"{MAX_BYTES // 1024} KiB per file)")
    started = time.monotonic()
    found = discover(klass["folder"], PACK)                 # stat, not read: a 100 MB file costs nothing
    assert time.monotonic() - started < 5
    assert "huge" in found.students and "predictions" not in found.students["huge"].files
    # Self-check reads at most the limit (plus one byte) and says it is too large.
    report = selfcheck.check_file(klass["folder"] / "predictions_huge.csv", assignment="assignment3")
    assert not report.valid and "larger than 2048 KiB, the limit for a predictions file" in report.text()


def test_the_reader_refuses_anything_over_the_limit_without_looking_further():
    started = time.monotonic()
    parsed = parse(b"id,label\n" + b"1,1\n" * (MAX_BYTES // 4), None)
    assert parsed["fatal"] and "larger than 2048 KiB" in parsed["fatal"]
    assert time.monotonic() - started < 1


def test_the_largest_file_allowed_is_read_in_bounded_time():
    data = b"id,label\n" + b"7,1\n" * ((MAX_BYTES - 9) // 4)
    assert len(data) <= MAX_BYTES
    started = time.monotonic()
    parsed = parse(data, None)
    assert time.monotonic() - started < 15
    assert parsed["fatal"] is None and len(parsed["ids"]) == 1 and "repeated rows" in parsed["problems"][0]


DIGITS = [str(d) for d in range(10)]


@pytest.mark.parametrize("data, ids, labels, problems", [
    (b'"id","label"\n"3","4"\n 5 , 6 \n007,1\n', ["3", "5", "007"], ["4", "6", "1"], []),   # quotes, spaces; exact text
    (b"ID,Label\r2,3\r", ["2"], ["3"], []),                                              # CR only, header case
    (b"id,label\n\n1,2\n\n", ["1"], ["2"], []),                                          # blank lines
    (b"id,label\n1,2,3\n2\n", [], [], ["2 rows without exactly two comma-separated values (first: line 2"]),
    (b"id,label\n-1,2\n1,-2\n,3\n", ["-1"], ["2"], ["1 row without an id (or one longer than 200 characters) "
                                                     "(first: line 4", "1 row with a label that is not one of 0, 1, 2"]),
    ("id,label\n1,\u0663\n".encode(), [], [], ["1 row with a label that is not one of"]),   # an Arabic-Indic digit
    (b"id,label\ntest_00017.png,cat\n", [], [], ["1 row with a label that is not one of"]),  # not among the classes
])
def test_reader_rules(data, ids, labels, problems):
    parsed = parse(data, DIGITS)
    assert parsed["fatal"] is None
    assert parsed["ids"] == ids and parsed["labels"] == labels
    assert len(parsed["problems"]) == len(problems)
    for got, expected in zip(parsed["problems"], problems):
        assert got.startswith(expected), got


def test_tab_separated_files_are_refused_with_their_reason():
    assert "separated by tabs" in parse(b"id\tlabel\n1\t2\n", DIGITS)["fatal"]


# --- the hidden labels stay in the grader ----------------------------------------------------------------

def test_the_labels_never_reach_a_child():
    configured = CHECK.configure({"labels": DEMO_LABELS})
    assert configured.truth is not None and len(configured.truth.ids) == 1000
    # What is sent to a child is the case's inputs: which labels to accept (graded: any), nothing else.
    assert [c.inputs for c in configured.cases()] == [{"allowed": None}]
    assert "labels" in configured.reference(configured.cases()[0])      # parent side only


def test_student_code_cannot_read_the_labels_while_grading(klass):
    spy = klass["results"]["spy"]
    q1 = spy.name("answers.Q1")
    first_rows = "id,label\n" + "".join(f"{i},{TRUTH[i]}\n" for i in IDS[:5])
    assert first_rows not in q1.output and first_rows not in q1.reason
    assert "not allowed while grading" in q1.output or "not allowed while grading" in q1.reason
    assert any("refused while grading: opening" in p for p in spy.problems)
    feedback = (klass["out"] / "spy" / "feedback.md").read_text()
    assert first_rows not in feedback


def test_labels_are_nowhere_students_look():
    label_text = DEMO_LABELS.read_text()
    sample = "".join(f"{i},{TRUTH[i]}\n" for i in IDS[100:110])
    assert sample in label_text
    for folder in ("templates", "notebooks", "grader"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file() and path.suffix != ".pyc":
                content = path.read_bytes()
                assert sample.encode() not in content and b"demo_labels" not in content, path
    # The shipped self-check references hold the ids to predict, not their labels.
    stored = kit.load(PACK)[KEY]
    assert list(stored) == ["file"] and list(stored["file"]) == ["ids"]
    assert stored["file"]["ids"] == [str(i) for i in range(1000)]


def test_a_bad_labels_file_stops_with_the_reason(tmp_path):
    broken = tmp_path / "labels.csv"
    broken.write_text("id,label\n0,1\n0,2\n")
    with pytest.raises(SettingError, match="the labels file .* is not usable: 1 repeated row"):
        CHECK.configure({"labels": broken})
    with pytest.raises(SettingError, match="cannot read the labels file"):
        CHECK.configure({"labels": tmp_path / "nowhere.csv"})
    with pytest.raises(SettingError, match="0 <= LOW < HIGH <= 1"):
        CHECK.configure({"labels": DEMO_LABELS, "cutoffs": (0.8, 0.5)})


def test_labels_next_to_the_grader_are_refused(tmp_path):
    """Student code is kept out of the labels' folder; a folder holding the grader or its Python cannot be."""
    assert hidden_folders({"labels": tmp_path / "labels.csv", "cutoffs": (0.5, 0.8)}) == (tmp_path.resolve(),)
    for place in (REPO / "labels.csv", REPO / "grader" / "labels.csv", Path(sys.prefix) / "labels.csv"):
        with pytest.raises(ValueError, match="keep labels.csv in a folder of its own"):
            hidden_folders({"labels": place})


# --- the leaderboard --------------------------------------------------------------------------------------

def test_ranks_use_the_public_part_final_ranks_all_ids_and_ties_share_a_rank():
    board = ranked([
        Entry("e", 20, 30, 60, 100, 3.33), Entry("b", 27, 30, 80, 100, 10), Entry("a", 24, 30, 90, 100, 10),
        Entry("d", 24, 30, 70, 100, 6.67), Entry("c", 27, 30, 90, 100, 10),
    ])
    assert [(e.public_rank, e.student_id, e.final_rank) for e in board] == \
        [(1, "b", 3), (1, "c", 1), (3, "a", 1), (3, "d", 4), (5, "e", 5)]
    assert leaderboard_csv(board) == (
        "public_rank,student_id,public_accuracy,final_rank,accuracy,points\n"
        "1,b,0.9000,3,0.8000,10\n"
        "1,c,0.9000,1,0.9000,10\n"
        "3,a,0.8000,1,0.9000,10\n"
        "3,d,0.8000,4,0.7000,6.67\n"
        "5,e,0.6667,5,0.6000,3.33\n")
    # The order of the input does not matter.
    again = ranked([Entry(e.student_id, e.public_correct, e.public_total, e.correct, e.total, e.points)
                    for e in reversed(board)])
    assert leaderboard_csv(again) == leaderboard_csv(board)


def test_the_class_leaderboard_matches_each_students_public_and_final_counts(klass):
    with open(klass["out"] / "leaderboard.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    readable = {sid for sid, (_, _, _) in CASES.items()
                if klass["results"][sid].name(KEY).metrics} | {"zipped"}
    assert {row["student_id"] for row in rows} == readable
    assert "semicolon" not in readable and "huge" not in readable and "repeated" in readable
    for row in rows:
        # Recount from the files themselves: right rows among the public ids and among all ids.
        name = klass["results"][row["student_id"]].name(KEY)
        right = _right_ids(klass["folder"], row["student_id"])
        assert int(name.metrics["public_correct"]) == len(right & PUBLIC)
        assert row["public_accuracy"] == f"{len(right & PUBLIC) / len(PUBLIC):.4f}"
        assert row["accuracy"] == f"{len(right) / 1000:.4f}"
        better = [r for r in rows if float(r["public_accuracy"]) > float(row["public_accuracy"])]
        assert int(row["public_rank"]) == 1 + len(better)
    assert [int(r["public_rank"]) for r in rows] == sorted(int(r["public_rank"]) for r in rows)
    page = (klass["out"] / "report.html").read_text()
    assert '<h2 id="leaderboard">' in page and page.index('id="leaderboard"') < page.index('id="names"')


def _right_ids(folder: Path, sid: str) -> set[int]:
    """The ids a file labels right, with the contest's rules, read independently of the grader."""
    if sid == "zipped":
        data = zipfile.ZipFile(folder / "zipped_assignment3.zip").read("predictions_zipped.csv")
    else:
        data = (folder / f"predictions_{sid}.csv").read_bytes()
    right, seen = set(), set()
    for line in data.decode("utf-8-sig").splitlines()[1:]:
        m = re.fullmatch(r"(\d+),(\d+)", line.strip())
        if m and int(m[1]) not in seen:
            seen.add(int(m[1]))
            if TRUTH.get(int(m[1])) == int(m[2]):
                right.add(int(m[1]))
    return right


def test_no_contest_no_leaderboard(tmp_path):
    pack2 = load_pack("assignment2")
    assert write_leaderboard(tmp_path, [], pack2) is None and not (tmp_path / "leaderboard.csv").exists()
    assert html_section([], pack2) == ""
    assert "No student handed in a readable file" in html_section([], PACK)


def test_a_full_mark_still_shows_the_accuracy_in_the_feedback(klass):
    feedback = (klass["out"] / "perfect" / "feedback.md").read_text()
    assert "PASS (10/10) accuracy: accuracy 1.0000 (1000 of 1000 test ids right)" in feedback
    assert "PARTIAL (8/10) accuracy: accuracy 0.7400" in (klass["out"] / "partial" / "feedback.md").read_text()


# --- the command line ---------------------------------------------------------------------------------------

def run_grade(folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python -m grader grade``'s code as a TA runs it, in this process (tests/fixtures/cli.py)."""
    return run_grader("grade", str(folder), "--out", str(out), "--jobs", "2", "--quiet",
                      "--assignment", "assignment3", *extra, cwd=REPO)


@pytest.fixture
def cli(capsys):
    """``python -m grader ...`` run in this process (its start-up already paid): (exit code, stdout, stderr)."""
    from grader.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_without_labels_the_grader_says_so_in_one_line_and_stops(tmp_path, cli):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "predictions_1.csv").write_bytes(text(GOOD))
    code, out, err = cli("grade", str(folder), "--out", str(tmp_path / "out"), "--quiet", "--assignment", "assignment3")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        "error: predictions files are graded against hidden labels: give the labels file with --labels PATH "
        "(a CSV with the header id,label)"]
    assert not (tmp_path / "out").exists()
    # And a pack without a contest refuses labels instead of ignoring them.
    code, _, err = cli("grade", str(folder), "--out", str(tmp_path / "out"), "--quiet", "--assignment", "assignment2",
                       "--labels", str(DEMO_LABELS))
    assert code == 2 and err.splitlines() == ["error: assignment2 has no graded name that uses labels"]


def test_cutoffs_change_the_scale_and_regrade(tmp_path, cli):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "predictions_1.csv").write_bytes(text(P74))
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "labels.csv").write_bytes(DEMO_LABELS.read_bytes())
    grade = ("grade", str(folder), "--out", str(tmp_path / "out"), "--jobs", "1", "--quiet", "--assignment",
             "assignment3", "--labels", str(hidden / "labels.csv"))
    code, out, err = cli(*grade, "--cutoffs", "0.6", "0.8")
    assert code == 0, err
    with open(tmp_path / "out" / "gradebook.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert row[KEY] == "7"                                  # 10 * (0.74 - 0.6) / (0.8 - 0.6)
    assert "(0 at 0.6 or below, all at 0.8 or above)" in (tmp_path / "out" / "1" / "feedback.md").read_text()
    assert "leaderboard (predictions.accuracy), ranked on 300 public ids of 1000:" in out
    # Other cutoffs: the stored result is not reused.
    code, out, _ = cli(*grade)
    assert code == 0 and "graded 1 student(s), reused 0" in out
    with open(tmp_path / "out" / "gradebook.csv", newline="") as fh:
        assert next(csv.DictReader(fh))[KEY] == "8"
    code, _, err = cli(*grade, "--cutoffs", "0.8", "0.5")
    assert code == 2 and err.splitlines() == ["error: the cutoffs must satisfy 0 <= LOW < HIGH <= 1; got 0.8 0.5"]


def test_a_new_labels_file_regrades(tmp_path):
    folder, hidden = tmp_path / "in", tmp_path / "hidden"
    folder.mkdir()
    hidden.mkdir()
    (folder / "predictions_1.csv").write_bytes(text(P74))
    labels = hidden / "labels.csv"
    labels.write_bytes(DEMO_LABELS.read_bytes())
    first = grade_folder(folder, tmp_path / "out", PACK, Options(jobs=1, settings={"labels": labels}), progress=False)
    same = grade_folder(folder, tmp_path / "out", PACK, Options(jobs=1, settings={"labels": labels}), progress=False)
    assert (first.graded, same.graded, same.reused) == (1, 0, 1)
    # The leaderboard of a run that regraded no one comes from the stored results.
    public = f"{len(PUBLIC - LAST) / len(PUBLIC):.4f}"        # P74's wrong ids are not spread evenly
    assert (tmp_path / "out" / "leaderboard.csv").read_text().splitlines()[1] == f"1,1,{public},1,0.7400,8"
    labels.write_bytes(text(P74))                           # the student's guesses become the truth
    changed = grade_folder(folder, tmp_path / "out", PACK, Options(jobs=1, settings={"labels": labels}),
                           progress=False)
    assert changed.graded == 1 and changed.results[0].name(KEY).score == 10


# --- self-check: validation only -------------------------------------------------------------------------------

def test_selfcheck_validates_and_never_reports_an_accuracy(tmp_path):
    reports = {}
    for name, data in (("perfect", text(GOOD)), ("partial", text(P74)), ("repeated", CASES["repeated"][0]),
                       ("semicolon", CASES["semicolon"][0])):
        path = tmp_path / f"predictions_{name}.csv"
        path.write_bytes(data)
        reports[name] = selfcheck.check_file(path, assignment="assignment3")
    perfect, partial = reports["perfect"].text(), reports["partial"].text()
    # A perfect file and one with 26% wrong labels look exactly the same to self-check.
    assert perfect.replace("perfect", "X") == partial.replace("partial", "X")
    assert "valid: 1000 predictions, one for each test id, labels among 0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in perfect
    assert reports["perfect"].valid and reports["perfect"].names[0].metrics == {}
    for report in reports.values():
        assert "accuracy 0." not in report.text() and "points" not in report.text().split("\n", 1)[1]
    assert not reports["repeated"].valid
    assert "not valid: 260 repeated rows for an id already given" in reports["repeated"].text()
    assert "not valid: the values are separated by semicolons" in reports["semicolon"].text()
    html = reports["repeated"]._repr_html_()
    assert "The file is not valid yet." in html and "repeated rows" in html


def test_selfcheck_of_the_command_line(tmp_path, cli):
    path = tmp_path / "predictions_x.csv"
    path.write_bytes(text(GOOD[:-1]))
    code, out, err = cli("check", str(path), "--assignment", "assignment3")
    assert code == 1, err                     # not valid: a script can tell
    assert "not valid: 1 of the 1000 test ids have no prediction and count as wrong (first: id 999)" in out
    assert "The file is not valid yet." in out


# --- the demo ----------------------------------------------------------------------------------------------------

def _build_demo():
    import importlib.util
    spec = importlib.util.spec_from_file_location("build_demo_assignment3", REPO / "data" / "build_demo_assignment3.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_is_what_its_script_builds_and_shows_the_leaderboard(tmp_path):
    build = _build_demo()
    shipped = {p.name: p.read_bytes() for p in (REPO / "data" / "demo_class_assignment3").iterdir()}
    assert shipped == build.files(), "run `make demo` to rebuild data/demo_class_assignment3"
    assert DEMO_LABELS.read_bytes() == build.labels_file(), "run `make demo` to rebuild data/demo_labels"
    # The demo labels are the contest digits' true labels, in the order of contest_digits().
    from grader.data import _raw_digits, contest_digits, contest_order
    ids, images = contest_digits()
    assert np.array_equal(images[:, 0], _raw_digits()["test_images"][contest_order()] / np.float32(255.0))
    assert [TRUTH[i] for i in ids.tolist()] == _raw_digits()["test_labels"][contest_order()].tolist()

    make = subprocess.run(["make", "-n", "grade", "ASSIGNMENT=assignment3"], cwd=REPO, capture_output=True, text=True)
    assert "data/demo_class_assignment3" in make.stdout and "--labels data/demo_labels/assignment3.csv" in make.stdout
    other = subprocess.run(["make", "-n", "grade", "ASSIGNMENT=assignment3", "SUBMISSIONS=elsewhere"], cwd=REPO,
                           capture_output=True, text=True)
    assert "--labels" not in other.stdout       # the demo's labels never grade another folder

    run = run_grade(REPO / "data" / "demo_class_assignment3", tmp_path / "demo", "--labels", str(DEMO_LABELS))
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "demo" / "leaderboard.csv").read_text() == (
        "public_rank,student_id,public_accuracy,final_rank,accuracy,points\n"
        "1,3001,0.9700,1,0.9700,10\n"
        "2,3002,0.8500,3,0.7800,9.33333\n"
        "2,3006,0.8500,4,0.7400,8\n"
        "4,3003,0.8000,2,0.8050,10\n"
        "5,3004,0.7433,5,0.7050,6.83333\n")
    assert "     2  3006" in run.stdout            # the terminal shows the board too
    with open(tmp_path / "demo" / "gradebook.csv", newline="") as fh:
        totals = {row["student_id"]: row["total"] for row in csv.DictReader(fh)}
    assert totals == {"3001": "35", "3002": "29.3333", "3003": "20", "3004": "6.83333", "3005": "0", "3006": "8"}
    assert "semicolons" in (tmp_path / "demo" / "3005" / "feedback.md").read_text()
    assert "predictions_template.csv: the untouched template name; rename it predictions_<studentID>.csv" in \
        (tmp_path / "demo" / "summary.md").read_text()


# --- the student notebook --------------------------------------------------------------------------------------

def notebook_plan(tmp: Path) -> dict:
    """The contest notebook, writing its predictions into ``tmp`` (fixtures/notebooks.py)."""
    return {"contest": ("contest_run.ipynb", tmp / "predictions_nb.csv")}


def test_contest_notebook_trains_a_baseline_writes_a_valid_file_and_self_checks_it(notebook_pool):
    build = load_builder("build_assignment3.py")
    sources = "\n".join(c.source for c in build.NOTEBOOKS["contest_run.ipynb"].cells)
    assert "contest_digits()" in sources and 'check_all("predictions", STUDENT_FILE, assignment="assignment3")' in sources
    assert "load_digits(\"test\")" not in sources and "labels.csv" not in sources

    nb, seconds = notebook_pool.runs(sys.modules[__name__])["contest"]
    target = notebook_pool.plan(sys.modules[__name__])["contest"][1]
    texts = [cell_text(cell) for cell in nb.cells if cell.cell_type == "code"]
    assert not any("ERROR" in t or "Traceback" in t for t in texts), texts
    assert "The file is valid." in texts[-1] and "File valid: True" in texts[-1]
    validation = [float(v) for v in re.findall(r"validation accuracy (0\.\d+)", "\n".join(texts))]
    assert len(validation) == 8 and validation[-1] > 0.85
    # Its accuracy on the contest, measured here with the labels the notebook never sees.
    with open(target, newline="") as fh:
        guesses = {int(row["id"]): int(row["label"]) for row in csv.DictReader(fh)}
    assert sorted(guesses) == IDS
    accuracy = sum(guesses[i] == TRUTH[i] for i in IDS) / len(IDS)
    assert accuracy > 0.85, accuracy
    print(f"contest notebook: {seconds:.1f} s, contest accuracy {accuracy:.3f}")
