"""The student self-check notebooks, and self-check's agreement with the grader.

* The committed notebooks are exactly what ``notebooks/build.py`` writes.
* Every notebook runs end to end, in a kernel of this very interpreter, against the
  reference solutions (full marks), against the blank templates (0, "not implemented"
  per name, no tracebacks), and task1 against a template with only ``relu`` written (3).
  The runs share two kernels with the other packs' notebooks (fixtures/notebooks.py:
  NotebookPool); their durations are printed (``pytest -s``) and bounded.
* Self-check never passes a graded name whose visible inputs fail when graded: all
  fixtures of ``tests/fixtures/students.py`` are graded once as the grader does and once
  with the options of :func:`grader.selfcheck.check_file`.
"""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import nbformat
import pytest
from fixtures.notebooks import assert_committed_as_built, cell_text, kernel_manager, load_builder
from fixtures.students import RIGHT, WRONG, graded_by_the_grader

from grader import selfcheck
from grader.grading.runner import Options, Runner
from grader.intake.discovery import Student, SubmittedFile
from grader.packs import load_pack

REPO = Path(__file__).resolve().parent.parent
PACK = load_pack("assignment2")
TASKS = [f.task for f in PACK.files]
SECONDS_PER_RUN = 90       # generous for a loaded 2-core machine; alone each run takes a few seconds
NOT_YET = "first, then run this cell again"     # what an experiment prints when code is missing


BUILD = load_builder("build.py")


def points(task: str) -> int:
    return int(sum(n.points for n in PACK.file(task).names))


# --- the committed notebooks are build.py's output ------------------------------------------

def test_committed_notebooks_are_what_build_py_writes():
    # One notebook per task file of the pack (other packs' notebooks have their own build scripts).
    assert sorted(BUILD.NOTEBOOKS) == sorted(f"{task}_run.ipynb" for task in TASKS)
    assert_committed_as_built(BUILD, "run `make notebooks`")


def test_every_graded_name_has_an_explanation_and_a_check_cell():
    for task in TASKS:
        cells = BUILD.NOTEBOOKS[f"{task}_run.ipynb"].cells
        sources = [c.source for c in cells]
        for graded in PACK.file(task).names:
            index = sources.index(f'check("{graded.key}", STUDENT_FILE, assignment="assignment2")')
            explanation = cells[index - 1]
            assert explanation.cell_type == "markdown"
            assert f"({graded.points:g} points" in explanation.source, f"{graded.key}: points differ from the pack"
        assert any(f'check_all("{task}", STUDENT_FILE, assignment="assignment2")' in s for s in sources)
        assert f"templates/{PACK.file(task).template}" in sources[1]


# --- running the notebooks --------------------------------------------------------------------

def test_the_kernel_is_this_interpreter():
    assert kernel_manager().kernel_spec.argv[0] == sys.executable


def relu_only(tmp: Path) -> Path:
    """The task1 template with the solution's body of relu, and nothing else, filled in."""
    solution = (REPO / "solutions" / "task1.py").read_text(encoding="utf-8")
    body = re.search(r"def relu\(x\):.*?# BEGIN SOLUTION\n(.*?)\n\s*# END SOLUTION", solution, re.S).group(1)
    template = (REPO / "templates" / "task1_template.py").read_text(encoding="utf-8")
    stub = '    raise NotImplementedError("relu: not implemented yet (see the docstring)")'
    assert template.count(stub) == 1
    path = tmp / "task1_relu_only.py"
    path.write_text(template.replace(stub, body), encoding="utf-8")
    return path


@dataclasses.dataclass
class Run:
    notebook: str
    nb: nbformat.NotebookNode
    seconds: float

    @property
    def code_cells(self):
        return [c for c in self.nb.cells if c.cell_type == "code"]

    def check_cells(self):
        return [c for c in self.code_cells if c.source.startswith("check(")]

    def errors(self) -> list[str]:
        return [f"cell {c.id}: {o.ename}: {o.evalue}" for c in self.code_cells for o in c.outputs
                if o.output_type == "error"]

    def text(self, cell) -> str:
        """Everything a cell showed, as text (streams, plain text and HTML of results)."""
        return cell_text(cell, errors=False)

    def all_text(self) -> str:
        return "\n".join(self.text(c) for c in self.code_cells)

    def total(self) -> str:
        lines = [line for line in self.text(self.code_cells[-1]).splitlines() if line.startswith(BUILD.TOTAL_LINE)]
        assert len(lines) == 1, f"{self.notebook}: no total printed; errors: {self.errors()}"
        return lines[0]


def notebook_plan(tmp: Path) -> dict:
    """Every execution the tests below look at: each notebook against the solution and against
    the blank template, and task1's against a template with relu only (fixtures/notebooks.py)."""
    plan = {}
    for task in TASKS:
        plan[task, "solution"] = (f"{task}_run.ipynb", REPO / "solutions" / f"{task}.py")
        plan[task, "template"] = (f"{task}_run.ipynb", REPO / "templates" / PACK.file(task).template)
    plan["task1", "relu only"] = ("task1_run.ipynb", relu_only(tmp))
    return plan


@pytest.fixture(scope="module")
def runs(notebook_pool):
    """The executions of ``notebook_plan``, run with the other modules' in two shared kernels."""
    done = notebook_pool.runs(sys.modules[__name__])
    return {key: Run(f"{key[0]}_run.ipynb", nb, seconds) for key, (nb, seconds) in done.items()}


@pytest.mark.parametrize("task", TASKS)
def test_notebook_gives_the_solution_full_marks(runs, task):
    run = runs[task, "solution"]
    assert run.errors() == []
    assert run.total() == f"{BUILD.TOTAL_LINE} {points(task)}/{points(task)} points"
    for cell in run.check_cells():
        shown = run.text(cell)
        assert "<table" in shown, "the check should display as an HTML table"
        assert re.search(r"Visible checks: (\d+)/\1 points", shown), shown
    # Every experiment ran: none stopped at a missing function.
    assert NOT_YET not in run.all_text()


@pytest.mark.parametrize("task", TASKS)
def test_notebook_reports_blank_template_as_not_implemented(runs, task):
    run = runs[task, "template"]
    assert run.errors() == []
    assert "Traceback" not in run.all_text()
    assert run.total() == f"{BUILD.TOTAL_LINE} 0/{points(task)} points"
    checks = run.check_cells()
    assert len(checks) == len(PACK.file(task).names)
    for cell in checks:
        assert "not implemented yet" in run.text(cell), cell.source
    experiments = [c for c in run.code_cells if re.search(r"^\s*with needs\(", c.source, re.M)]
    assert experiments, "each notebook has at least one experiment"
    for cell in experiments:
        assert NOT_YET in run.text(cell), cell.source


def test_task1_notebook_with_only_relu_written_scores_3(runs):
    run = runs["task1", "relu only"]
    assert run.errors() == []
    assert run.total() == f"{BUILD.TOTAL_LINE} 3/20 points"
    relu_check = next(c for c in run.check_cells() if '"task1.relu"' in c.source)
    assert "passed" in run.text(relu_check)
    texts = [run.text(c) for c in run.code_cells]
    assert any("relu(x) = [0.  0.  0.  0.5 1. ]" in t for t in texts)       # the relu experiment ran
    assert sum(NOT_YET in t for t in texts) == 4                            # the other four did not


def test_notebooks_run_in_seconds(runs):
    slow = {f"{task} {variant}": round(run.seconds, 1) for (task, variant), run in runs.items()
            if run.seconds > SECONDS_PER_RUN}
    assert slow == {}


# --- self-check agrees with the grader ----------------------------------------------------------

FIXTURES = WRONG + RIGHT


def _students():
    return [Student(f.id, {f.task: SubmittedFile(f.task, f"{f.task}_{f.id}.py", f.source().encode())})
            for f in FIXTURES]


def _grade(options: Options) -> dict:
    results = {}
    errors = Runner(PACK, options).grade(_students(), lambda r: results.__setitem__(r.student_id, r))
    assert errors == []
    return results


@pytest.fixture(scope="module")
def graded():
    """Each fixture graded as the grader does (hidden inputs too) and as self-check does."""
    return graded_by_the_grader(), _grade(selfcheck.runner_options(PACK, jobs=2))


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.id for f in FIXTURES])
def test_selfcheck_never_passes_what_the_grader_fails_on_visible_inputs(graded, fixture):
    grader_results, selfcheck_results = graded
    for graded_name in PACK.file(fixture.task).names:
        full = grader_results[fixture.id].name(graded_name.key)
        mine = selfcheck_results[fixture.id].name(graded_name.key)
        if full.status in ("missing", "interface"):
            # Stopped before running (static problem): self-check must stop it the same way.
            assert (mine.status, mine.score) == (full.status, 0.0), graded_name.key
            continue
        assert [p.label for p in mine.parts] == [p.label for p in full.parts]
        for own, theirs in zip(mine.parts, full.parts):
            assert theirs.visible_passed is not None, f"{graded_name.key} / {theirs.label}: no visible input"
            # The same verdict on the same visible inputs, in both directions.
            assert own.passed == theirs.visible_passed, \
                f"{graded_name.key} / {own.label}: self-check {own.message!r}; grader {theirs.message!r}"
        if mine.status == "passed":
            assert all(p.visible_passed for p in full.parts)


def test_the_agreement_is_not_vacuous(graded):
    """Many fixtures fail on visible inputs, and self-check fails them too. (None loses a part on
    hidden inputs only after passing it on visible ones: tests/test_visible_predicts.py.)"""
    grader_results, selfcheck_results = graded
    visible_failures = 0
    for fixture in FIXTURES:
        for graded_name in PACK.file(fixture.task).names:
            full = grader_results[fixture.id].name(graded_name.key)
            mine = selfcheck_results[fixture.id].name(graded_name.key)
            if any(p.visible_passed is False for p in full.parts):
                visible_failures += 1
                assert mine.status != "passed"
    assert visible_failures >= 10


def test_check_file_gives_the_same_verdicts_as_the_batch(graded, tmp_path):
    """check_file itself, on one fixture per task, agrees with the batch run of the same options."""
    _, selfcheck_results = graded
    for task in TASKS:
        fixture = next(f for f in WRONG if f.task == task)
        path = tmp_path / f"{task}_{fixture.id}.py"
        path.write_text(fixture.source(), encoding="utf-8")
        mine = selfcheck.check_file(path)
        batch = selfcheck_results[fixture.id]
        assert [(n.key, n.score, n.status, [p.passed for p in n.parts]) for n in mine.names] == \
            [(n.key, n.score, n.status, [p.passed for p in n.parts])
             for n in batch.names if n.key.startswith(task + ".")]


# --- the setup cell's warm_up ---------------------------------------------------------------------

WARM_UP_SCRIPT = r'''
import sys
from grader.sandbox import parent
from grader.selfcheck import check_all, warm_up
warm_up(assignment="assignment2")
preload = parent._running_preload
for task in sys.argv[1:]:
    result = check_all(task, path=f"solutions/{task}.py")
    print(task, preload == parent.PRELOAD, parent._running_preload == preload, f"{result.score:g}/{result.max_score:g}")
'''


def test_warm_up_starts_the_server_and_the_checks_use_it():
    """The notebooks' setup cell starts the checking process early; the checks then find it
    running (one server for every task, those that train networks too) and keep it."""
    import subprocess

    tasks = ["task2", "layers"]
    done = subprocess.run([sys.executable, "-c", WARM_UP_SCRIPT, *tasks], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line.split() for line in done.stdout.splitlines()] == \
        [[task, "True", "True", f"{points(task)}/{points(task)}"] for task in tasks]


def test_check_file_reads_a_notebook(tmp_path):
    """A student who works in a notebook can self-check the notebook itself, shell lines and all."""
    solution = (REPO / "solutions" / "task1.py").read_text(encoding="utf-8")
    template = (REPO / "templates" / "task1_template.py").read_text(encoding="utf-8")
    for name, source, expected in (("Task1_3180101234.ipynb", solution, 20), ("task1.ipynb", template, 0)):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_markdown_cell("My MLP"), nbformat.v4.new_code_cell(source),
                          nbformat.v4.new_code_cell("!ls\nprint(relu(np.array([-1.0, 2.0])))")]
        path = tmp_path / name
        nbformat.write(notebook, path)
        result = selfcheck.check_file(path)
        assert (result.score, result.max_score) == (expected, 20), result.text()
