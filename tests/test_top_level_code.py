"""Code students leave outside their functions: their own data loading, a training run, a
``sys.exit()``. By default a top-level statement that raises when the file is loaded is
skipped and reported, and costs only the names that depend on it; ``--interface strict``
keeps the old rule (the file earns 0)."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.grading.runner import Options, Runner
from grader.intake.discovery import Student, SubmittedFile
from grader.packs import load_pack
from grader.selfcheck import runner_options

REPO = Path(__file__).resolve().parents[1]
PACK = load_pack("assignment2")
SOLUTION = (REPO / "solutions" / "task1.py").read_text(encoding="utf-8")

LEFTOVER_SCRIPT = SOLUTION + '''

data = np.load("mnist_train.npy")           # the student's own copy of the data
params = train(data[:, 1:], data[:, 0], 10)
print("trained")
import sys
sys.exit(0)
'''

# relu reads a constant that a failing top-level line was meant to set; the rest is correct.
DEPENDS_ON_A_FAILED_LINE = SOLUTION.replace("def relu(", "def _reference_relu(") + '''

SLOPE = float(open("config.txt").read())

def relu(x):
    return np.where(x > 0, x, SLOPE * x)
'''

# Future annotations must hold for every statement after them (the name in the annotation
# does not exist), and the module docstring must stay the module's.
FUTURE_AND_DOCSTRING = '"""My MLP."""\nfrom __future__ import annotations\n' + SOLUTION.replace(
    "def relu(x", "def relu(x: UndefinedArrayType", 1) + "\nassert __doc__ == 'My MLP.', __doc__\n"


def grade(sources: dict[str, str], interface: str | None = None, pack=PACK) -> dict:
    students = [Student(sid, {"task1": SubmittedFile("task1", f"task1_{sid}.py", text.encode())})
                for sid, text in sources.items()]
    results: dict = {}
    options = Options(jobs=2, protected=runner_options(PACK).protected, interface=interface, only=None)
    errors = Runner(pack, options).grade(students, lambda r: results.__setitem__(r.student_id, r))
    assert errors == [], errors
    return results


@pytest.fixture(scope="module")
def lenient():
    return grade({"1": LEFTOVER_SCRIPT, "2": DEPENDS_ON_A_FAILED_LINE, "3": FUTURE_AND_DOCSTRING})


def test_a_leftover_script_costs_nothing_and_is_reported(lenient):
    result = lenient["1"]
    assert result.score == PACK.file("task1").points == 20
    note = next(p for p in result.problems if "skipped" in p)
    assert "FileNotFoundError" in note and "NameError" in note and "SystemExit" in note
    assert f"line {LEFTOVER_SCRIPT.splitlines().index('sys.exit(0)') + 1} " in note
    assert 'if __name__ == "__main__"' in note
    assert "trained" in result.names[0].output           # what the file printed while loading


def test_a_name_that_depends_on_a_skipped_line_loses_its_points_with_the_reason(lenient):
    scores = {n.key: n.score for n in lenient["2"].names}
    assert scores["task1.relu"] == 0 and "SLOPE" in lenient["2"].names[0].reason + str(lenient["2"].names[0].parts)
    assert all(score == PACK.graded(key).points for key, score in scores.items()
               if key.startswith("task1.") and key != "task1.relu")


def test_statements_keep_the_files_future_imports_and_docstring(lenient):
    result = lenient["3"]
    assert result.score == 20 and not any("skipped" in p for p in result.problems), result.problems


def test_a_top_level_run_that_does_not_end_is_stopped_and_the_functions_after_it_are_graded():
    import dataclasses

    # The task's import limit is 4 s, so its top-level statements get 2 s between them.
    quick = dataclasses.replace(PACK, files=tuple(dataclasses.replace(f, import_timeout=4.0) for f in PACK.files))
    endless = SOLUTION.replace("def relu(", "def _reference_relu(") + '''
import time
while True:                        # "training" until interrupted, errors ignored
    try:
        time.sleep(100)
    except Exception:
        pass

def relu(x):
    return np.maximum(x, 0)
'''
    result = grade({"1": endless}, pack=quick)["1"]
    assert result.score == 20, [(n.key, n.reason) for n in result.names]
    note = next(p for p in result.problems if "skipped" in p)
    loop_line = next(n for n, line in enumerate(endless.splitlines(), 1) if line.startswith("while True:"))
    assert f"line {loop_line} (while True:" in note
    assert "was still running after 2 s and was stopped" in note


def test_strict_interface_keeps_the_rule_that_a_failing_file_earns_nothing():
    result = grade({"1": LEFTOVER_SCRIPT}, interface="strict")["1"]
    assert result.score == 0
    assert "importing the file failed" in result.names[0].reason and "FileNotFoundError" in result.names[0].reason


def test_in_a_notebook_skipped_lines_and_tracebacks_name_the_cell(tmp_path):
    """A notebook is graded as one module of its cells; what the student reads points at cells."""
    import nbformat

    from grader import selfcheck

    broken = SOLUTION.replace("return np.maximum(x, 0)", "return np.maximum(x, 0) + undefined_name")
    assert broken != SOLUTION
    line_in_cell = broken.splitlines().index("    return np.maximum(x, 0) + undefined_name") + 1
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# My MLP"), nbformat.v4.new_code_cell(broken),
                      nbformat.v4.new_code_cell("%matplotlib inline\ndata = np.load('train.npy')")]
    path = tmp_path / "task1_3180101234.ipynb"
    nbformat.write(notebook, path)
    result = selfcheck.check_file(path)
    assert any("cell 3, line 2 (data = np.load('train.npy')) raised FileNotFoundError" in n for n in result.notes), \
        result.notes
    relu = result.names[0]
    assert relu.key == "task1.relu" and relu.score == 0
    assert f"task1_3180101234.ipynb, cell 2, line {line_in_cell}, in relu" in relu.detail + relu.reason
    assert result.score == 17                                   # every other name keeps its points


def test_cell_positions_count_every_cell_and_fall_back_to_lines():
    from grader.notebook_source import notebook_to_source, position

    raw = json_notebook(["x = 1", "y = 2\nz = 3"], markdown_first=True)
    lines = notebook_to_source(raw)[0].decode().splitlines()
    assert position(lines, lines.index("z = 3") + 1) == "cell 3, line 2"
    assert position(["a = 1", "b = 2"], 2) == "line 2"


def json_notebook(cells: list[str], markdown_first: bool = False) -> bytes:
    import json

    body = ([{"cell_type": "markdown", "source": "text", "metadata": {}}] if markdown_first else []) + [
        {"cell_type": "code", "source": text, "metadata": {}, "outputs": [], "execution_count": None}
        for text in cells]
    return json.dumps({"cells": body, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode()


def test_a_child_resumed_after_a_timeout_does_not_run_the_skipped_statements_again():
    """relu never returns, so its child is killed and a second child grades the names after
    it; that child loads the file again but leaves out the statement the first one stopped,
    instead of waiting for it a second time."""
    import dataclasses

    quick = dataclasses.replace(PACK, files=tuple(dataclasses.replace(f, import_timeout=4.0) for f in PACK.files))
    source = SOLUTION.replace("def relu(", "def _reference_relu(") + '''
import time
def relu(x):
    while True:
        time.sleep(1)

while True:
    print("training started")
    time.sleep(100)
'''
    students = [Student("1", {"task1": SubmittedFile("task1", "task1_1.py", source.encode())})]
    results: dict = {}
    options = Options(jobs=1, protected=runner_options(PACK).protected, only=None, timeout=2.0)
    assert Runner(quick, options).grade(students, lambda r: results.__setitem__(r.student_id, r)) == []
    result = results["1"]
    scores = {n.key: n.score for n in result.names}
    assert scores["task1.relu"] == 0 and "timed out" in result.names[0].reason
    assert result.score == 20 - PACK.graded("task1.relu").points, scores
    # Printed by the first child only: the resumed one did not run the stopped statement.
    assert result.names[0].output.count("training started") == 1, result.names[0].output
    note = next(p for p in result.problems if "skipped" in p)
    assert note.count("was still running after 2 s") == 1
