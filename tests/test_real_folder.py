"""A submissions folder as a new TA meets it: careless names, notebooks, a zip named after
the student, re-downloads. Graded end to end, under the lenient (default) and the strict
naming policy."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from grader.grading.runner import Options
from grader.outputs.batch import grade_folder
from grader.packs import load_pack

REPO = Path(__file__).resolve().parents[1]
PACK = load_pack("assignment2")
SOLUTION = {task: (REPO / "solutions" / f"{task}.py").read_text(encoding="utf-8")
            for task in ("task1", "task2", "task3", "task4", "layers")}


def notebook(source: str) -> bytes:
    """The solution split into notebook cells, with the clutter real notebooks have."""
    chunks = source.split("\n\n\n")
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# My task 1\n", "Some notes."]},
             {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
              "source": ["%matplotlib inline\n", "!pip install numpy\n", "import numpy as np"]}]
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": i, "outputs": [],
               "source": chunk.splitlines(keepends=True)} for i, chunk in enumerate(chunks, start=2)]
    cells.append({"cell_type": "code", "metadata": {}, "execution_count": 99, "outputs": [],
                  "source": ["np.maximum?\n", "print('my own quick test', relu(np.array([-1.0, 2.0])))"]})
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def messy_folder(folder: Path) -> None:
    folder.mkdir()
    files = {
        "Task1_2004.py": SOLUTION["task1"],
        "task2-2004.py": SOLUTION["task2"],
        "task3_2004.py": SOLUTION["task3"].replace("nn.Sigmoid()", "nn.ReLU()"),    # an older, wrong version
        "task3_2004 (1).py": SOLUTION["task3"],                                   # the re-download: graded
        "task4_2004.py.py": SOLUTION["task4"],
        "layers_2004.PY": SOLUTION["layers"],
        "2020_task2.py": SOLUTION["task2"],
        "notes.txt": "please be kind",
        "task1.py": SOLUTION["task1"],                                            # whose?
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "task1_2008.ipynb").write_bytes(notebook(SOLUTION["task1"]))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("hw2/task1.py", SOLUTION["task1"])
        z.writestr("hw2/Layers_2011.py", SOLUTION["layers"])
        z.writestr("hw2/README.md", "my readme")
    (folder / "2011.zip").write_bytes(archive.getvalue())


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    folder = root / "submissions"
    messy_folder(folder)
    out = {}
    for policy in ("lenient", "strict"):
        batch = grade_folder(folder, root / policy, PACK, Options(jobs=2, naming=policy), resume=False, progress=False)
        out[policy] = ({r.student_id: r for r in batch.results}, batch, root / policy)
    return folder, out


def test_lenient_grades_every_file_that_can_be_tied_to_a_student(graded):
    _, out = graded
    results, batch, _ = out["lenient"]
    assert {sid: r.score for sid, r in results.items()} == {"2004": 75, "2008": 20, "2011": 35, "2020": 10}
    assert batch.internal_errors == []


def test_each_student_reads_which_file_counted_and_what_was_wrong_with_its_name(graded):
    _, out = graded
    results, _, folder = out["lenient"]
    feedback = (folder / "2004" / "feedback.md").read_text()
    assert "Task1_2004.py: graded as your task1 file, but the name should be task1_2004.py" in feedback
    assert "task3_2004.py: not graded (different content): task3_2004 (1).py was graded for task3 instead " \
           "(a higher copy number is the later download)" in feedback
    assert "the extension is doubled" in feedback and "upper-case" in feedback
    notebook_feedback = (folder / "2008" / "feedback.md").read_text()
    assert "task1_2008.ipynb: graded as your task1 file" in notebook_feedback and "code cells" in notebook_feedback
    assert "my own quick test" in notebook_feedback         # what the notebook printed is shown, as for a .py
    zipped = (folder / "2011" / "feedback.md").read_text()
    assert "2011.zip: read as your zip" in zipped and "inside the folder hw2/" in zipped
    assert "not graded (not a file of this assignment): hw2/README.md" in zipped


def test_every_file_lands_in_exactly_one_place(graded):
    source, out = graded
    results, batch, _ = out["lenient"]
    # a file's lines start with its name ("task1.py: ..."); a graded file is also listed as the student's file
    places = {sid: r.problems + list(r.files.values()) for sid, r in results.items()}
    places["(folder)"] = batch.folder_problems
    for path in source.iterdir():
        holders = [who for who, lines in places.items()
                   if any(line == path.name or line.startswith(path.name + ":") for line in lines)]
        assert len(holders) == 1, (path.name, holders)
    assert any(p.startswith("task1.py: the name holds no student id") for p in batch.folder_problems)


def test_strict_naming_gives_zero_for_misnamed_files_and_says_why(graded):
    _, out = graded
    results, _, folder = out["strict"]
    # 2004's only exactly named file is the older task3 (ReLU instead of sigmoid): get_lenet keeps the 2
    # points for its layers, and train_cnn (graded on the contract's LeNet) its 15.
    assert {sid: r.score for sid, r in results.items()} == {"2004": 17, "2008": 0, "2011": 0, "2020": 0}
    task1 = results["2004"].name("task1.relu")
    assert task1.reason.startswith("Task1_2004.py: not graded: this course grades only files named exactly as told "
                                   "(task1_2004.py)")
    # the older, exactly named task3 file is the one graded under strict rules
    assert results["2004"].files["task3"] == "task3_2004.py"
    assert "2011.zip" in (folder / "2011" / "feedback.md").read_text()
