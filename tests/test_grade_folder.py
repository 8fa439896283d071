"""`python -m grader grade` end to end, as a TA runs it: scores, files, determinism, resume."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from fixtures.cli import run_grader
from fixtures.procs import alive, descendants

from grader.packs import load_pack

REPO = Path(__file__).resolve().parents[1]
PACK = load_pack("assignment2")
TASKS = [f.task for f in PACK.files]
COLUMNS = ["student_id", "task1.relu", "task1.prelu", "task1.DNNforward", "task1.DNNbackward", "task1.train",
           "task2.get_DNN", "task2.train_torch", "task3.get_lenet", "task3.train_cnn", "task4.Residual",
           "task4.get_resnet", "layers.Conv1D.forward", "layers.Conv1D.backward", "autograded", "late_penalty", "total",
           "overridden", "note"]


def solution(task: str) -> bytes:
    return (REPO / "solutions" / f"{task}.py").read_bytes()


def template(task: str) -> bytes:
    return (REPO / "templates" / f"{task}_template.py").read_bytes()


def grade(folder: Path, out: Path, *extra: str, background: bool = False, fresh_process: bool = True):
    """``python -m grader grade``: in a new process (in the background if asked), or with
    ``fresh_process=False`` its code in this one (tests/fixtures/cli.py), which skips a torch
    import and a forkserver start."""
    args = ["grade", str(folder), "--out", str(out), "--jobs", "2", "--quiet", *extra]
    if not fresh_process:
        return run_grader(*args, cwd=REPO)
    command = [sys.executable, "-m", "grader", *args]
    if background:
        return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)


def grade_here(folder: Path, out: Path, resume: bool = True):
    """The same grading in this process (its warm server is shared by the tests); the command
    line itself is tested by the fixture below and the kill test."""
    from grader.grading.runner import Options
    from grader.outputs.batch import grade_folder

    return grade_folder(folder, out, PACK, Options(jobs=2), resume=resume, progress=False)


def read_gradebook(out: Path) -> list[dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """Solutions loose and zipped, blank templates, a student with one file, and two more correct ones."""
    root = tmp_path_factory.mktemp("class")
    folder = root / "submissions"
    folder.mkdir()
    for task in TASKS:
        (folder / f"{task}_1001.py").write_bytes(solution(task))
        (folder / f"{task}_1003.py").write_bytes(template(task))
        for sid in ("1005", "1006"):
            (folder / f"{task}_{sid}.py").write_bytes(solution(task))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for task in TASKS:
            z.writestr(f"{task}_1002.py", solution(task))
    (folder / "1002_assignment2.zip").write_bytes(buffer.getvalue())
    (folder / "task1_1004.py").write_bytes(solution("task1"))
    first = grade(folder, root / "out")
    return {"root": root, "folder": folder, "out": root / "out", "run": first}


def test_the_command_succeeds_and_summarises(klass):
    run = klass["run"]
    assert run.returncode == 0, run.stderr
    assert "graded 6 student(s)" in run.stdout


def test_gradebook_columns_and_scores(klass):
    with open(klass["out"] / "gradebook.csv", newline="") as fh:
        assert next(csv.reader(fh)) == COLUMNS
    rows = {row["student_id"]: row for row in read_gradebook(klass["out"])}
    assert set(rows) == {"1001", "1002", "1003", "1004", "1005", "1006"}
    assert all(cell != "" for row in rows.values() for name, cell in row.items() if name not in ("overridden", "note"))
    assert float(rows["1001"]["total"]) == 75          # loose files
    assert float(rows["1002"]["total"]) == 75          # zipped
    assert float(rows["1003"]["total"]) == 0           # the blank templates
    assert float(rows["1004"]["total"]) == 20          # only task1 handed in
    assert float(rows["1004"]["task2.get_DNN"]) == 0


def test_results_json_is_gradescope_format_with_versions(klass):
    for sid in ("1001", "1003"):
        report = json.loads((klass["out"] / sid / "results.json").read_text())
        assert isinstance(report["score"], (int, float)) and isinstance(report["execution_time"], (int, float))
        for test in report["tests"]:
            assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
            assert test["visibility"] in {"visible", "hidden", "after_due_date", "after_published"}
        assert sum(t["score"] for t in report["tests"]) == report["score"]
        versions = json.dumps(report)
        for package in ("numpy", "torch", "grader"):
            assert package in versions
    blank = json.loads((klass["out"] / "1003" / "results.json").read_text())
    assert blank["score"] == 0


def test_feedback_says_what_is_missing(klass):
    blank = (klass["out"] / "1003" / "feedback.md").read_text()
    assert blank.count("not implemented") >= 13
    partial = (klass["out"] / "1004" / "feedback.md").read_text()
    assert "no file for task2" in partial


def test_grading_twice_gives_the_same_gradebook(klass):
    again = grade_here(klass["folder"], klass["root"] / "again", resume=False)
    assert again.internal_errors == [] and again.graded == 6
    assert (klass["root"] / "again" / "gradebook.csv").read_bytes() == (klass["out"] / "gradebook.csv").read_bytes()


def test_rerun_reuses_unchanged_students_and_regrades_changed_ones(klass):
    rerun = grade_here(klass["folder"], klass["out"])
    assert (rerun.graded, rerun.reused) == (0, 6)
    changed = klass["root"] / "changed"
    changed.mkdir()
    for path in klass["folder"].iterdir():
        (changed / path.name).write_bytes(path.read_bytes())
    (changed / "task1_1004.py").write_bytes(template("task1"))
    import shutil
    shutil.copytree(klass["out"], klass["root"] / "out-changed")
    partial = grade_here(changed, klass["root"] / "out-changed")
    assert (partial.graded, partial.reused) == (1, 5)
    rows = {row["student_id"]: row for row in read_gradebook(klass["root"] / "out-changed")}
    assert float(rows["1004"]["total"]) == 0


def test_killed_mid_batch_then_rerun_finishes_with_the_same_gradebook(klass):
    out = klass["root"] / "killed"
    process = grade(klass["folder"], out, "--no-resume", "--jobs", "1", background=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("*/results.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    abandoned = list(Path(tempfile.gettempdir()).glob(f"grader-scratch-{process.pid}-*"))
    assert abandoned, "the killed run should have left its scratch folder (this test checks the sweep)"
    finished_before = len(list(out.glob("*/results.json")))
    assert 1 <= finished_before < 6, "the kill came too late to interrupt the batch"
    assert not (out / "gradebook.csv").exists()
    rerun = grade(klass["folder"], out, fresh_process=False)
    assert rerun.returncode == 0, rerun.stderr
    assert f"reused {finished_before}" in rerun.stdout, rerun.stdout
    assert (out / "gradebook.csv").read_bytes() == (klass["out"] / "gradebook.csv").read_bytes()
    assert not list(out.rglob("*.tmp*")), "a partially written file was left behind"
    assert not any(p.exists() for p in abandoned), "the rerun should sweep the killed run's scratch folder"


def test_submissions_folder_is_never_written(klass):
    names = sorted(p.name for p in klass["folder"].iterdir())
    assert "1002_assignment2.zip" in names and len(names) == 1 + 5 * 4 + 1


def test_the_demo_class_is_what_its_script_builds_and_grades_as_documented(tmp_path):
    spec = importlib.util.spec_from_file_location("build_demo", REPO / "data" / "build_demo.py")
    build_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_demo)
    wanted = build_demo.files()
    shipped = {p.name: p.read_bytes() for p in (REPO / "data" / "demo_class").iterdir()}
    assert shipped == wanted, "run `make demo` to rebuild data/demo_class"
    run = grade_here(REPO / "data" / "demo_class", tmp_path / "demo")
    assert run.internal_errors == []
    totals = {row["student_id"]: float(row["total"]) for row in read_gradebook(tmp_path / "demo")}
    # 1002's Residual lacks its final ReLU: that costs Residual only (get_resnet is built with the
    # reference block), so 58, not the 55 of a grader that charged the bug twice.
    assert totals == {"1001": 75, "1002": 58, "1003": 10}
    summary = (tmp_path / "demo" / "summary.md").read_text()
    assert "task2_template.py" in summary and "hw2/" in summary


def test_no_child_outlives_a_killed_grader(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    sleeper = solution("task1") + b"\n\nimport time\ndef relu(x):\n    time.sleep(10_000)\n"
    (folder / "task1_sleepy.py").write_bytes(sleeper)
    process = grade(folder, tmp_path / "out", "--timeout", "300", background=True)
    deadline = time.monotonic() + 120
    family: set[int] = set()
    while time.monotonic() < deadline:      # wait for the student's child to be running
        family |= descendants(process.pid)
        if len(family) >= 3:                # forkserver, resource tracker, the child
            break
        time.sleep(0.1)
    time.sleep(1)
    family |= descendants(process.pid)
    assert len(family) >= 3, "the student's child never started"
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while any(alive(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [p for p in family if alive(p)]
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == []
