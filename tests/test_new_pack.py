"""``python -m grader new-pack NAME`` writes a working minimal pack: its solution earns full
marks and its template 0 when graded, and it refuses bad names and to overwrite anything.

The command runs in a copy of the repository's grader, solutions and templates, so this
checkout is left untouched.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.authoring.scaffold import main, validate
from grader.authoring.templates import make_template

REPO = Path(__file__).resolve().parent.parent


def run(copy: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(copy)}
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=600)


def test_new_pack_scaffolds_a_working_pack(tmp_path):
    copy = tmp_path / "repo"
    for folder in ("grader", "solutions", "templates", "data", "tests", "notebooks"):
        shutil.copytree(REPO / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__", "demo_*", "*.ipynb"))
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")

    made = run(copy, "new-pack", "course7", "--task", "intro")
    assert made.returncode == 0, made.stderr
    pack = copy / "grader" / "packs" / "course7"
    for path in (pack / "__init__.py", pack / "pack.py", pack / "checks.py", pack / "references.py",
                 pack / "probes.py", pack / "ASSIGNMENT.md", pack / "visible_references.bin",
                 copy / "solutions" / "intro.py", copy / "templates" / "intro_template.py",
                 copy / "tests" / "fixtures" / "course7.py", copy / "notebooks" / "build_course7.py"):
        assert path.is_file(), path
    assert '"course7")' in (copy / "grader" / "packs" / "__init__.py").read_text()
    template = (copy / "templates" / "intro_template.py").read_text()
    assert "NotImplementedError" in template and "reference solution" not in template
    assert template == make_template((copy / "solutions" / "intro.py").read_text())     # as `make templates` writes it

    folder = copy / "submissions"
    folder.mkdir()
    shutil.copy(copy / "solutions" / "intro.py", folder / "intro_1.py")
    shutil.copy(copy / "templates" / "intro_template.py", folder / "intro_2.py")
    graded = run(copy, "grade", str(folder), "--out", str(tmp_path / "out"), "--jobs", "2", "--quiet",
                 "--assignment", "course7")
    assert graded.returncode == 0, graded.stderr
    with open(tmp_path / "out" / "gradebook.csv", newline="") as fh:
        totals = {row["student_id"]: float(row["total"]) for row in csv.DictReader(fh)}
    assert totals == {"1": 2, "2": 0}

    # The pack gets the tests every pack gets, with the fixtures the scaffold wrote.
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_packs.py",
                            "-k", "course7"], cwd=copy, env={**os.environ, "PYTHONPATH": str(copy), "PYTEST_ADDOPTS": ""},
                           capture_output=True, text=True, timeout=600)
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "6 passed" in tests.stdout, tests.stdout[-500:]      # 4 per-pack tests and 2 fixtures
    # Its notebook builder writes a self-check notebook on the shared frame.
    built = subprocess.run([sys.executable, str(copy / "notebooks" / "build_course7.py")], cwd=copy,
                           capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built.stderr
    notebook = (copy / "notebooks" / "intro_run.ipynb").read_text()
    assert 'check(\\"intro.scale\\", STUDENT_FILE, assignment=\\"course7\\")' in notebook
    assert 'hand_in(\\"intro\\"' in notebook


def test_new_pack_refuses_bad_names_and_overwriting(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "warmup.py").write_text("")
    assert any("already registered" in p for p in validate("assignment4", "other", tmp_path))
    assert any("solutions/warmup.py already exists" in p for p in validate("course8", "warmup", tmp_path))
    assert any("must be lowercase" in p for p in validate("Bad-Name", "warmup", tmp_path))
    assert any("must be lowercase" in p for p in validate("course8", "class", tmp_path))     # a keyword
    assert validate("course8", "intro", tmp_path) == []
    assert main("Bad-Name", None) == 2
