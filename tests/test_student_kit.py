"""The student kit: everything self-check needs, none of the answers, and self-check works from it."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.student_kit import build

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("kit")
    path = build("assignment2", root / "kit.zip")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        archive.extractall(root)
    return path, names, root / "assignment2-kit"


def test_the_kit_holds_templates_notebooks_and_grader_but_no_answers(kit):
    _, names, _ = kit
    inside = [n.split("/", 1)[1] for n in names]
    assert "templates/task1_template.py" in inside and "notebooks/task1_run.ipynb" in inside
    assert "grader/packs/assignment2/visible_references.bin" in inside
    assert "grader/packs/assignment2/ASSIGNMENT.md" in inside and "requirements.txt" in inside
    assert not [n for n in inside if n.startswith(("solutions/", "tests/", "bench/", "data/demo"))]
    assert "grader/hidden_seed.py" not in inside
    assert "notebooks/answers_run.ipynb" not in inside          # another pack's notebook
    assert "templates/convmat_template.py" not in inside


def _definitions(text: str) -> dict[str, str]:
    """Every function and class defined anywhere in a source text: name -> its code, normalised."""
    tree = ast.parse(text)
    return {node.name: ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def test_the_kit_holds_no_code_that_computes_an_answer(kit):
    """No definition of any pack's references.py (the oracles, the stand-ins, the reference
    networks) and none of the solutions is in the kit, under any name; each references.py is
    the placeholder."""
    _, names, folder = kit
    given = {code for path in (REPO / "templates").glob("*.py") for code in _definitions(path.read_text()).values()}
    answers: dict[str, str] = {}
    for path in sorted((REPO / "grader" / "packs").glob("*/references.py")) + sorted((REPO / "solutions").glob("*.py")):
        answers.update({code: f"{path.relative_to(REPO)}:{name}" for name, code in _definitions(path.read_text()).items()
                        if code not in given})            # code the templates hand out (Conv1D.__call__) is no answer
    shipped: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        shipped.update({code: f"{path.relative_to(folder)}:{name}" for name, code in _definitions(path.read_text()).items()})
    found = sorted(f"{answers[code]} as {shipped[code]}" for code in set(answers) & set(shipped))
    assert found == []
    placeholders = sorted(folder.glob("grader/packs/*/references.py"))
    assert len(placeholders) == 3 and all("STUDENT_KIT_PLACEHOLDER" in p.read_text() for p in placeholders)
    # and by the names the grader has used for its oracles and reference classes, old and new
    text = "\n".join(p.read_text() for p in folder.rglob("*.py"))
    oracle = r"^\s*(def|class) (_?torch_forward|oracle_\w+|forward_matrix|backward_matrix|ReferenceCharLSTM|momentum_answer)\b"
    assert re.search(oracle, text, re.M) is None


def test_the_same_source_gives_the_same_bytes(kit, tmp_path):
    path, _, _ = kit
    assert build("assignment2", tmp_path / "again.zip").read_bytes() == path.read_bytes()


def _check(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "check", *args], cwd=folder, capture_output=True,
                          text=True, timeout=300)


def test_self_check_works_from_the_kit_without_solutions(kit):
    _, _, folder = kit
    (folder / "task1_3180100111.py").write_text((REPO / "solutions" / "task1.py").read_text())
    done = _check(folder, "task1_3180100111.py")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Visible checks: 20/20 points" in done.stdout
    blank = _check(folder, "templates/task1_template.py")
    assert "Visible checks: 0/20 points" in blank.stdout


def test_self_check_in_the_kit_runs_a_name_with_the_students_own_versions_and_says_so(kit):
    """Grading runs train with the reference DNNforward (one bug, one loss); the kit has none, so
    self-check runs it with the student's own and says so where that costs points."""
    _, _, folder = kit
    solution = (REPO / "solutions" / "task1.py").read_text()
    broken = solution + "\n\ndef DNNforward(X, params):\n    return X @ params['W1'], {'X': X}\n"
    (folder / "task1_3180100112.py").write_text(broken)
    done = _check(folder, "task1_3180100112.py")
    assert done.returncode == 0, done.stderr[-2000:]
    train = next(line for line in done.stdout.splitlines() if "task1.train" in line)
    assert "/5" in train and "5/5" not in train, train                  # its own forward is wrong
    assert "self-check ran train with your own relu, DNNforward, DNNbackward" in done.stdout, done.stdout


def test_the_kit_cannot_grade_hidden_inputs(kit, tmp_path):
    _, _, folder = kit
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "task1_7.py").write_text((REPO / "solutions" / "task1.py").read_text())
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out")], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "grading needs the reference solutions" in done.stderr
    assert "Traceback" not in done.stderr
