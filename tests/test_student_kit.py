"""The student kit: everything self-check needs, none of the answers, and self-check works from it."""
from __future__ import annotations

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


def test_the_kit_cannot_grade_hidden_inputs(kit, tmp_path):
    _, _, folder = kit
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "task1_7.py").write_text((REPO / "solutions" / "task1.py").read_text())
    done = subprocess.run([sys.executable, "-m", "grader", "grade", str(tmp_path / "class"), "--out",
                           str(tmp_path / "out")], cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "grading needs the reference solutions" in done.stderr
    assert "Traceback" not in done.stderr
