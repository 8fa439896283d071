"""The second pack, "assignment3": a new declaration plus checks, graded by the same harness.

What every pack gets (fixtures lose what they should, solutions full marks, templates and
visible references in sync) is in tests/test_packs.py; here what is particular to this pack:

* The declaration; the true answers come from the update rule; the convmat solution
  agrees with PyTorch.
* The templates' answers are still None (failed, not "not implemented"); slips are named;
  ``python -m grader grade`` on a folder.
* The template's answer lines; the visible checks work without the solutions; self-check
  agrees with the grader on visible inputs.
* The notebooks run end to end against the solutions (full marks) and the templates (0).
* The two small general features the pack needed: module-level values as graded names
  (no signature) and ``# TEMPLATE:`` replacement lines in solution blocks.
"""
from __future__ import annotations

import csv
import dataclasses
import importlib.util
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fixtures.assignment3 import RIGHT, WRONG
from fixtures.classes import graded_class
from fixtures.cli import run_grader
from fixtures.notebooks import assert_committed_as_built, cell_text, load_builder, solutions_and_templates

from grader import selfcheck
from grader.authoring.templates import generate, make_template
from grader.grading import visible_references as kit
from grader.grading.runner import Options, Runner
from grader.intake.discovery import Student, SubmittedFile
from grader.intake.interface import inspect_file
from grader.packs import load_pack

REPO = Path(__file__).resolve().parent.parent
PACK = load_pack("assignment3")
TASKS = [f.task for f in PACK.files if f.kind == "code"]      # the contest's data file: tests/test_contest.py
KEYS = [n.key for t in TASKS for n in PACK.file(t).names]
FULL = {"answers": 10, "convmat": 15}
DEMO_LABELS = REPO / "data" / "demo_labels" / "assignment3.csv"


def file_of(folder: str, task: str) -> bytes:
    name = PACK.file(task).solution if folder == "solutions" else PACK.file(task).template
    return (REPO / folder / name).read_bytes()


def student(sid: str, files: dict[str, bytes]) -> Student:
    return Student(sid, {task: SubmittedFile(task, f"{task}_{sid}.py", data) for task, data in files.items()})


def grade(students: list[Student], options: Options) -> dict:
    results = {}
    errors = Runner(PACK, options).grade(students, lambda r: results.__setitem__(r.student_id, r))
    assert errors == []
    return results


# --- the declaration -----------------------------------------------------------------------------

def test_declaration():
    assert PACK.points == 35
    assert [n.key for n in PACK.names] == ["answers.Q1", "answers.Q2", "convmat.conv1d_matrix",
                                           "convmat.conv1d_backward_matrix", "predictions.accuracy"]
    assert [n.kind for n in PACK.names] == ["value", "value", "function", "function", "value"]
    assert [(f.kind, f.suffix) for f in PACK.files] == [("code", ".py"), ("code", ".py"), ("data", ".csv")]
    assert PACK.file("answers").import_allowed("numpy") and PACK.file("answers").import_allowed("math")
    assert PACK.file("convmat").import_allowed("numpy") and not PACK.file("convmat").import_allowed("math")


def test_true_answers_come_from_the_update_rule():
    """The pack's reference: w(167) from the questions' data, checked against a direct computation."""
    from grader.packs.assignment3.references import QUESTIONS, weights
    q1, q2 = QUESTIONS
    assert weights(lambda w: 0.0, 1.0, 0.5, 0.9, 0.1, 3) == pytest.approx([1.0, 1.45, 1.855])   # momentum alone
    assert abs(q1.path(167)[-1] - 2.0) < 1e-3        # the ReLU unit settles at d / x = 2
    assert q2.path(167)[-1] < q2.path(166)[-1] < 0   # the logistic unit keeps drifting down
    # The reference and the solution compute the same numbers by separate code.
    solution = _load(REPO / "solutions" / "answers.py")
    assert solution.Q1 == 2.0 and solution.Q2 == -7.554


@pytest.mark.parametrize("sizes", [(2, 2, 3, 1, 4), (1, 1, 1, 1, 5), (3, 2, 2, 2, 7), (4, 3, 5, 3, 23),
                                   (2, 5, 4, 4, 4), (1, 3, 2, 6, 30)])
def test_convmat_solution_against_pytorch_on_random_inputs(sizes):
    """The solution, checked with PyTorch on random X and dL/dY (not through the pack's references)."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    cout, cin, kernel, stride, width = sizes
    solution = _load(REPO / "solutions" / "convmat.py")
    r = np.random.default_rng(sum(sizes))
    W, X = r.standard_normal((cout, cin, kernel)), r.standard_normal((cin, width))
    X_torch = torch.from_numpy(X).requires_grad_()
    Y = F.conv1d(X_torch[None], torch.from_numpy(W), stride=stride)[0]
    dY = r.standard_normal(tuple(Y.shape))
    Y.backward(torch.from_numpy(dY))
    A = solution.conv1d_matrix(W, width, stride)
    B = solution.conv1d_backward_matrix(W, width, stride)
    assert np.allclose(A @ X.flatten(), Y.detach().numpy().flatten(), rtol=1e-12, atol=1e-12)
    assert np.allclose(B @ dY.flatten(), X_torch.grad.numpy().flatten(), rtol=1e-12, atol=1e-12)
    if stride == 1:                       # the default stride
        assert np.array_equal(solution.conv1d_matrix(W, width), A)


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"a3_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


# --- every check discriminates ------------------------------------------------------------------------

ALL = WRONG + RIGHT


@pytest.fixture(scope="module")
def graded():
    """Fixtures, solutions and templates graded in one batch, as a class of students."""
    return graded_class(PACK.name)


def test_the_templates_answers_fail_as_still_none_and_its_functions_as_not_implemented(graded):
    assert graded["solution"].score == 25, [(n.key, n.reason) for n in graded["solution"].names]
    assert graded["template"].score == 0
    statuses = {n.key: n.status for n in graded["template"].names}
    assert statuses == {"answers.Q1": "failed", "answers.Q2": "failed",
                        "convmat.conv1d_matrix": "not_implemented", "convmat.conv1d_backward_matrix": "not_implemented"}
    assert "still None" in graded["template"].name("answers.Q1").reason


def test_several_slips_with_the_same_digits_are_all_named(graded):
    """1.999 for Q1 is w(166) truncated, and also what the loss without its 1/2 gives."""
    reason = graded["nohalf"].name("answers.Q1").reason
    assert "one update short" in reason and "without the 1/2" in reason


def test_wrong_shapes_are_explained(graded):
    swapped = graded["channelswap"].name("convmat.conv1d_matrix")
    assert "sized as if W were (in_channels, out_channels, kernel)" in swapped.reason
    transposed = graded["transposedA"].name("convmat.conv1d_matrix")
    assert [p.passed for p in transposed.parts] == [False, False, False]


# --- the command line, as a TA runs it -------------------------------------------------------------------

def run_grade(folder: Path, out: Path) -> subprocess.CompletedProcess:
    """``python -m grader grade``'s code, run in this process (tests/fixtures/cli.py)."""
    return run_grader("grade", str(folder), "--out", str(out), "--jobs", "2", "--quiet",
                      "--assignment", "assignment3", "--labels", str(DEMO_LABELS), cwd=REPO)


def test_grade_command(tmp_path):
    folder = tmp_path / "submissions"
    folder.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for task in TASKS:
            z.writestr(f"{task}_1002.py", file_of("solutions", task))
    (folder / "1002_assignment3.zip").write_bytes(buffer.getvalue())
    for task in TASKS:
        (folder / f"{task}_1001.py").write_bytes(file_of("solutions", task))
        (folder / f"{task}_1003.py").write_bytes(file_of("templates", task))
    (folder / "answers_1004.py").write_bytes(file_of("solutions", "answers"))
    (folder / "convmat_template.py").write_bytes(file_of("templates", "convmat"))    # an unrenamed template

    run = run_grade(folder, tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert "graded 4 student(s)" in run.stdout and "mean" in run.stdout
    with open(tmp_path / "out" / "gradebook.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["student_id", *KEYS, "predictions.accuracy", "autograded", "late_penalty", "total", "overridden",
                       "note"]
    totals = {row[0]: float(row[rows[0].index("total")]) for row in rows[1:]}
    assert totals == {"1001": 25, "1002": 25, "1003": 0, "1004": 10}
    feedback = (tmp_path / "out" / "1004" / "feedback.md").read_text()
    assert "no file for convmat" in feedback
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "convmat_template.py" in summary


# --- sources and their generated files are in sync ------------------------------------------------------------

def test_templates_are_generated_from_the_solutions():
    assert generate(PACK, check_only=True) == [], "run `python -m grader templates --assignment assignment3`"
    answers = file_of("templates", "answers").decode()
    assert "Q1 = None  # your answer" in answers and "Q2 = None  # your answer" in answers
    assert "_momentum" not in answers and "import" not in answers
    compile(answers, "answers_template.py", "exec")


def test_visible_checks_run_without_the_solutions(tmp_path):
    without = dataclasses.replace(PACK, solutions_dir=str(tmp_path / "no-solutions"))
    assert not kit.solutions_available(without)
    students = [student("right", {t: file_of("solutions", t) for t in TASKS}),
                student("blank", {t: file_of("templates", t) for t in TASKS})]
    results = {}
    Runner(without, Options(jobs=2, visible_only=True)).grade(students, lambda r: results.__setitem__(r.student_id, r))
    # The answers' values are judged only when graded: without them, 15 of the 25 points.
    assert results["right"].score == 15
    assert results["blank"].score == 0
    answers = [p for key in ("answers.Q1", "answers.Q2") for p in results["right"].name(key).parts]
    assert all(p.only_when_graded and p.visible_passed is None and p.earned == 0 for p in answers)


def test_selfcheck_agrees_with_the_grader_on_visible_inputs(graded):
    """For every fixture, self-check passes a part exactly when the grader's visible inputs pass it."""
    students = [student(f.id, {f.task: f.source().encode()}) for f in ALL]
    mine = grade(students, selfcheck.runner_options(PACK, jobs=2))
    visible_failures = 0
    for fixture in ALL:
        for graded_name in PACK.file(fixture.task).names:
            full, own = graded[fixture.id].name(graded_name.key), mine[fixture.id].name(graded_name.key)
            if full.status in ("missing", "interface"):
                assert (own.status, own.score) == (full.status, 0.0)
                continue
            for theirs, ours in zip(full.parts, own.parts):
                assert theirs.visible_passed is not None, f"{graded_name.key} / {theirs.label}: no visible input"
                if ours.only_when_graded:       # the form alone is judged, and scored nothing here
                    assert ours.earned == 0 and (ours.visible_passed is not False) == theirs.visible_passed
                else:
                    assert ours.passed == theirs.visible_passed, (fixture.id, graded_name.key, theirs.label)
            if fixture.task == "convmat":
                visible_failures += own.status != "passed"
    # not vacuous: most wrong convmat fixtures fail on visible inputs already (an answer's visible
    # case checks only that it is a number: self-check cannot judge it without giving it away)
    assert visible_failures >= 8


def test_check_file_on_a_renamed_file(tmp_path):
    path = tmp_path / "convmat_42.py"
    path.write_bytes(file_of("solutions", "convmat"))
    report = selfcheck.check_all("convmat", path, assignment="assignment3")
    assert (report.score, report.max_score) == (15, 15)


# --- the two general features --------------------------------------------------------------------------------

def test_template_replacement_lines():
    source = (
        "# BEGIN SOLUTION\n"
        "# TEMPLATE: Q1 = None  # your answer\n"
        "Q1 = compute()\n"
        "# END SOLUTION\n"
        "def f(x):\n"
        "    # BEGIN SOLUTION\n"
        "    # HINT: look at x\n"
        "    # TEMPLATE: if x:\n"
        "    # TEMPLATE:     return 1\n"
        "    # TEMPLATE:\n"
        "    # TEMPLATE: return 0\n"
        "    return x\n"
        "    # END SOLUTION\n"
        "# BEGIN SOLUTION\n"
        "helper = 1\n"
        "# END SOLUTION\n"
    )
    assert make_template(source) == (
        "Q1 = None  # your answer\n"
        "def f(x):\n"
        "    # Hint: look at x\n"
        "    if x:\n"
        "        return 1\n"
        "\n"
        "    return 0\n"
    )


@pytest.mark.parametrize("source, problem", [
    ("Q1 = None\nQ2 = 1.5\n", None),
    ("Q1, Q2 = 2.0, -7.554\n", None),
    ("Q1: float = 2.0\n[Q2] = [1]\n", None),
    ("if True:\n    Q1 = 2.0\nQ2 = 3\n", None),
    ("def Q1():\n    return 2.0\nQ2 = 1\n", "Q1 must be a value assigned at the top level of the file"),
    ("class Q1:\n    pass\nQ2 = 1\n", "not a class"),
    ("Q2 = 1\n", "Q1 is not defined at the top level"),
    ("q1 = 1\nQ2 = 1\n", "names are case-sensitive"),
])
def test_values_as_graded_names(source, problem):
    report = inspect_file(source.encode(), PACK.file("answers"))
    assert report.name_problems.get("answers.Q2") is None
    found = report.name_problems.get("answers.Q1")
    assert (found is None) if problem is None else (problem in found), found


# --- the notebooks ----------------------------------------------------------------------------------------------

TOTAL_LINE = "Total of visible checks:"


BUILD = load_builder("build_assignment3.py")


def test_committed_notebooks_are_what_the_builder_writes():
    assert sorted(BUILD.NOTEBOOKS) == sorted([f"{task}_run.ipynb" for task in TASKS] + ["contest_run.ipynb"])
    assert BUILD.TOTAL_LINE == TOTAL_LINE
    assert_committed_as_built(BUILD, "run `make notebooks`")


def test_every_graded_name_has_an_explanation_with_its_points_and_a_check_cell():
    for task in TASKS:
        cells = BUILD.NOTEBOOKS[f"{task}_run.ipynb"].cells
        sources = [c.source for c in cells]
        for graded_name in PACK.file(task).names:
            index = sources.index(f'check("{graded_name.key}", STUDENT_FILE, assignment="assignment3")')
            assert cells[index - 1].cell_type == "markdown"
            assert f"({graded_name.points:g} points" in cells[index - 1].source, graded_name.key
        assert any(f'check_all("{task}", STUDENT_FILE, assignment="assignment3")' in s for s in sources)
        assert f"templates/{PACK.file(task).template}" in sources[1]


def notebook_plan(tmp: Path) -> dict:
    """Each notebook against the solution and against the template (fixtures/notebooks.py)."""
    return solutions_and_templates(PACK, TASKS, REPO)


@pytest.fixture(scope="module")
def notebook_runs(notebook_pool):
    """The executed notebooks of ``notebook_plan`` (two kernels shared with the other modules)."""
    return {key: nb for key, (nb, _) in notebook_pool.runs(sys.modules[__name__]).items()}


def _texts(nb) -> list[str]:
    return [cell_text(cell) for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("task", TASKS)
def test_notebook_gives_the_solution_full_marks(notebook_runs, task):
    texts = _texts(notebook_runs[task, "solutions"])
    assert not any("ERROR" in t or "Traceback" in t for t in texts), texts
    if task == "answers":      # nothing self-check can score: the values are checked when graded
        assert f"{TOTAL_LINE} nothing here is scored before grading" in texts[-1]
    else:
        assert f"{TOTAL_LINE} {FULL[task]}/{FULL[task]} points" in texts[-1]
    assert not any("first, then run this cell again" in t for t in texts)


@pytest.mark.parametrize("task", TASKS)
def test_notebook_gives_the_template_zero_without_tracebacks(notebook_runs, task):
    texts = _texts(notebook_runs[task, "templates"])
    assert not any("ERROR" in t or "Traceback" in t for t in texts), texts
    assert f"{TOTAL_LINE} {'nothing here is scored' if task == 'answers' else f'0/{FULL[task]} points'}" in texts[-1]
    expected = "still None" if task == "answers" else "not implemented yet"
    checks = [t for t in texts if t.startswith("Self-check of") or "<table" in t]
    assert checks and all(expected in t for t in checks)
    if task == "convmat":
        assert sum("Implement conv1d" in t for t in texts) == 3      # each experiment says what is missing


def test_self_check_holds_no_true_answer_and_checks_only_the_form(tmp_path):
    """The stored visible references hold nothing for the answers (the grader's process computes
    them when it grades), and a wrong number passes self-check's form check with a note."""
    stored = kit.load(PACK)
    assert all(value is None for key in ("answers.Q1", "answers.Q2") for value in stored[key].values())
    wrong = tmp_path / "answers_42.py"
    wrong.write_text("Q1 = 1.999\nQ2 = -7.554\n")
    report = selfcheck.check_all("answers", wrong, assignment="assignment3")
    assert (report.score, report.max_score) == (0, 0) and report.all_passed
    assert [n.key for n in report.graded_only] == ["answers.Q1", "answers.Q2"]
    assert any("checked only when graded" in p.message for p in report.names[0].parts)
    assert "checked only when graded" in report.text() and "passed" not in report.text()
    text_answer = tmp_path / "answers_43.py"
    text_answer.write_text("Q1 = '2.000'\nQ2 = -7.554\n")
    form = selfcheck.check_all("answers", text_answer, assignment="assignment3")
    assert not form.all_passed and "remove the quotes" in form.text()
    graded = grade([student("w", {"answers": wrong.read_bytes()})], Options(jobs=1, only=("answers.Q1", "answers.Q2")))
    assert (graded["w"].name("answers.Q1").score, graded["w"].name("answers.Q2").score) == (0, 5)


def test_a_question_can_refuse_rounded_answers():
    """With accept_rounded=False, the correctly rounded value is a miss, and it is named."""
    from grader.packs.assignment3.answers import Answer
    strict = Answer("Q2", asked=167, points=5, accept_rounded=False)
    lenient = Answer("Q2", asked=167, points=5)
    case = next(c for c in strict.cases() if not c.visible)
    reference = strict.reference(case)
    assert strict.judge(case, -7.554, reference) == {strict.part: None}
    assert lenient.judge(case, -7.555, reference) == {lenient.part: None}
    assert "rounded instead of truncated" in strict.judge(case, -7.555, reference)[strict.part]
