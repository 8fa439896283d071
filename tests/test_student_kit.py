"""The student kit: everything self-check needs and nothing for staff, none of the answers, an
install that works on any laptop, and self-check as a student runs it (on Linux, and with the
fallback a Mac or Windows laptop takes, simulated here)."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.tags import compatible_tags, cpython_tags, mac_platforms
from packaging.utils import parse_wheel_filename
from packaging.version import Version

from fixtures.cli import run_grader_series

from grader.authoring.student_kit import INTEL_MAC, NOT_INTEL_MAC, OLDEST, REQUIREMENTS, STAFF_ONLY, build
from grader.packs import PACKS, load_pack

REPO = Path(__file__).resolve().parents[1]
SOLUTION = (REPO / "solutions" / "task1.py").read_text()


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    root = tmp_path_factory.mktemp("kit")
    path = build("assignment2", root / "kit.zip", hand_in="the course page, Assignments > A2")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        archive.extractall(root)
    return path, names, root / "assignment2-kit"


def _inside(names: list[str]) -> list[str]:
    return [n.split("/", 1)[1] for n in names]


def test_the_kit_holds_templates_notebooks_and_the_self_check_but_no_answers(kit):
    _, names, _ = kit
    inside = _inside(names)
    assert "templates/task1_template.py" in inside and "notebooks/task1_run.ipynb" in inside
    assert "grader/packs/assignment2/visible_references.bin" in inside and "requirements.txt" in inside
    assert {"ASSIGNMENT.md", "README.md", "data/digits.npz", "data/tweets.tsv.gz"} <= set(inside)
    assert not [n for n in inside if n.startswith(("solutions/", "tests/", "bench/", "data/demo"))]
    assert "grader/hidden_seed.py" not in inside


def test_the_kit_holds_its_own_pack_only_and_nothing_for_staff(kit):
    _, names, folder = kit
    inside = _inside(names)
    assert not [n for n in inside if n.startswith(("grader/packs/assignment3", "grader/packs/assignment4"))]
    assert "notebooks/answers_run.ipynb" not in inside and "templates/convmat_template.py" not in inside
    staff = [n for n in inside if any(n == f"grader/{item}" or (item.endswith("/") and n.startswith(f"grader/{item}"))
                                      for item in STAFF_ONLY)]
    assert staff == [] and "grader/packs/assignment2/ASSIGNMENT.md" not in inside
    # no page of the kit speaks of TA flags, grader internals or the course's own tooling
    pages = {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*.md")}
    pages.update({p.relative_to(folder).as_posix(): p.read_text() for p in folder.glob("notebooks/*.ipynb")})
    staff_words = re.compile(r"--naming|--interface|grader/naming\.py|seed handout|make data|make test|"
                             r"demo class|repository root|--labels|gradebook")
    assert {name: staff_words.findall(text) for name, text in pages.items() if staff_words.search(text)} == {}


def test_the_students_contract_page_is_written_from_the_declaration(kit):
    _, _, folder = kit
    page = (folder / "ASSIGNMENT.md").read_text()
    pack = load_pack("assignment2")
    for graded in pack.names:
        assert f"| `{graded.path}` | `{graded.signature.text}` | {graded.points:g} |" in page
        for label, points in graded.check.parts.items():
            assert f"{label}: {points:g}" in page
    assert "upload to the course page, Assignments > A2" in page and "task1_<your student id>.py" in page
    assert "It may import only numpy and the Python standard library" in page


def _definitions(text: str) -> dict[str, str]:
    """Every function and class defined anywhere in a source text: name -> its code, normalised."""
    tree = ast.parse(text)
    return {node.name: ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}


def test_the_kit_holds_no_code_that_computes_an_answer(kit):
    """No definition of any pack's references.py (the oracles, the stand-ins, the reference
    networks) and none of the solutions is in the kit, under any name; references.py is the
    placeholder."""
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
    assert len(placeholders) == 1 and "STUDENT_KIT_PLACEHOLDER" in placeholders[0].read_text()
    text = "\n".join(p.read_text() for p in folder.rglob("*.py"))
    oracle = r"^\s*(def|class) (_?torch_forward|oracle_\w+|forward_matrix|backward_matrix|ReferenceCharLSTM|momentum_answer)\b"
    assert re.search(oracle, text, re.M) is None


def test_the_same_source_gives_the_same_bytes(kit, tmp_path):
    path, _, _ = kit
    assert build("assignment2", tmp_path / "again.zip", hand_in="the course page, Assignments > A2").read_bytes() \
        == path.read_bytes()


def _grader(folder: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m grader ARGS`` run in the kit's folder: the kit's own copy of the grader."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=folder, capture_output=True, text=True,
                          timeout=300, env=env)


def _series(folder: Path, *commands: list[str], env: dict | None = None) -> list[subprocess.CompletedProcess]:
    """The same commands, run in turn by one interpreter in the kit's folder (fixtures/cli.py)."""
    return run_grader_series([list(c) for c in commands], cwd=folder, env=env)


def test_the_kits_command_line_offers_the_student_commands_only(kit):
    _, _, folder = kit
    shown = _grader(folder, "--help")
    assert shown.returncode == 0 and "{check}" in shown.stdout and " grade " not in shown.stdout
    staff = ("grade", "templates", "new-pack", "similarity", "export")
    *refused, check_help = _series(folder, *([command] for command in staff), ["check", "--help"])
    for command, done in zip(staff, refused):
        assert done.returncode == 2 and "invalid choice" in done.stderr and "Traceback" not in done.stderr, command
    assert check_help.returncode == 0 and "--assignment" not in check_help.stdout   # one pack: nothing to choose


def test_self_check_works_from_the_kit_and_its_exit_code_says_whether_all_passed(kit):
    _, _, folder = kit
    (folder / "task1_3180100111.py").write_text(SOLUTION)
    done = _grader(folder, "check", "task1_3180100111.py")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Visible checks: 20/20 points" in done.stdout
    assert "task1_3180100111.py is task1 of student 3180100111: named as the grader wants" in done.stdout
    blank = _grader(folder, "check", "templates/task1_template.py")
    assert blank.returncode == 1 and "Visible checks: 0/20 points" in blank.stdout
    assert "the untouched template name; rename it task1_<studentID>.py" in blank.stdout
    assert "upload to the course page, Assignments > A2" in blank.stdout


def test_check_reads_the_zip_a_student_will_upload_as_the_grader_does(kit, tmp_path):
    _, _, folder = kit
    upload = tmp_path / "3180100111_assignment2.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("task1.py", SOLUTION)                       # no id: graded, and the name is flagged
        archive.writestr("task2_3180100111.py", (REPO / "templates" / "task2_template.py").read_text())
    misnamed = tmp_path / "Task1_3180100111 (1).py"
    misnamed.write_text(SOLUTION)
    anonymous = tmp_path / "task1.py"
    anonymous.write_text(SOLUTION)
    notebook = tmp_path / "task1_3180100111.ipynb"          # a notebook is graded from its code cells
    notebook.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": SOLUTION}]}))
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "task1_3180100111.py").write_text(SOLUTION)
    done, named, lost, cells, every = _series(folder, ["check", str(upload)], ["check", str(misnamed)],
                                              ["check", str(anonymous)], ["check", str(notebook)],
                                              ["check", "--all", str(mine)])
    assert done.returncode == 1, done.stderr[-2000:]                # task2 is not written yet
    out = done.stdout
    assert "the files of student 3180100111:" in out and "task1: 3180100111_assignment2.zip:task1.py" in out
    assert "the name should be task1_3180100111.py" in out
    assert "Visible checks: 20/20 points" in out and "Visible checks: 0/10 points" in out
    assert "no file for task3, task4, layers (45 points)" in out
    assert named.returncode == 0 and "graded as your task1 file, but the name should be task1_3180100111.py" in named.stdout
    assert "the grader will not find it: the name holds no student id" in lost.stdout and lost.returncode == 0
    assert cells.returncode == 0 and "Visible checks: 20/20 points" in cells.stdout, cells.stdout + cells.stderr
    assert "it is a notebook (its code cells were graded" in cells.stdout
    assert every.returncode == 1 and "no file for task2, task3, task4, layers" in every.stdout


STUDENT = '''import numpy as np


def relu(x):
    print("relu sees", x.shape)
    return np.maximum(x, 0)


def prelu(x, a):
    np.save("/tmp/prelu_debug.npy", x)
    return np.where(x > 0, x, a * x)
'''


def test_check_shows_prints_names_the_writable_folder_and_says_each_cause_once(kit, tmp_path):
    _, _, folder = kit
    path = tmp_path / "task1_3180100111.py"
    path.write_text(STUDENT)
    importing = tmp_path / "importing" / "task1_3180100111.py"
    importing.parent.mkdir()
    importing.write_text("import numpy as np\nimport torch\n" + STUDENT)
    shown, refused = _series(folder, ["check", str(path)], ["check", str(importing)])
    out = shown.stdout
    relu = out.split("task1.relu", 1)[1].split("task1.prelu", 1)[0]
    assert "what your code printed:" in relu and "relu sees (5,)" in relu
    prelu = out.split("task1.prelu", 1)[1].split("task1.DNNforward", 1)[0]
    assert "graded code may write only in its working folder, a temporary folder deleted afterwards" in prelu
    assert sum("/tmp/prelu_debug.npy" in line for line in prelu.splitlines()) == 1, prelu   # one line, not one per part
    assert "scalar slope; array slope (broadcast):" in prelu
    blocked = refused.stdout
    assert blocked.count("import torch") == 1 and "interface:" not in blocked
    assert "disallowed import (this file may import only numpy and the Python standard library)" in blocked


def test_self_check_in_the_kit_runs_a_name_with_the_students_own_versions_and_says_so(kit):
    """Grading runs train with the reference DNNforward (one bug, one loss); the kit has none, so
    self-check runs it with the student's own and says so where that costs points."""
    _, _, folder = kit
    broken = SOLUTION + "\n\ndef DNNforward(X, params):\n    return X @ params['W1'], {'X': X}\n"
    (folder / "task1_3180100112.py").write_text(broken)
    done = _grader(folder, "check", "task1_3180100112.py")
    assert done.returncode == 1, done.stderr[-2000:]
    train = next(line for line in done.stdout.splitlines() if "task1.train" in line)
    assert "/5" in train and "5/5" not in train, train                  # its own forward is wrong
    assert "self-check ran train with your own relu, DNNforward, DNNbackward" in done.stdout, done.stdout


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_the_fallback_of_a_mac_or_windows_laptop_self_checks_and_says_once_it_is_not_the_sandbox(kit, platform):
    """Simulated on Linux (GRADER_SIMULATE_PLATFORM): no kernel layers; on win32 also no rlimits
    (no `resource`) and no forkserver (children are spawned)."""
    _, _, folder = kit
    (folder / "task1_3180100113.py").write_text(SOLUTION)
    env = {**os.environ, "GRADER_SIMULATE_PLATFORM": platform}
    done, slow = _series(folder, ["check", "task1_3180100113.py"],
                         ["check", "templates/task1_template.py", "--name", "task1.relu"], env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Visible checks: 20/20 points" in done.stdout
    assert done.stdout.count("This is not the grading sandbox") == 1
    assert f"none of the kernel layers exist on this platform ({platform})" in done.stdout
    assert slow.returncode == 1 and "not implemented yet" in slow.stdout


def test_the_simulated_windows_fallback_has_no_rlimits_and_spawns():
    script = ("from grader.sandbox import limits, parent\n"
              "print(limits.resource is None, parent.start_method())\n")
    env = {**os.environ, "GRADER_SIMULATE_PLATFORM": "win32"}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["True", "spawn"], done.stderr


# --- installing the kit anywhere ----------------------------------------------------------------

SNAPSHOT = json.loads((REPO / "tests" / "fixtures" / "kit_wheels.json").read_text())["projects"]
PYTHONS = ((3, 10), (3, 11), (3, 12), (3, 13))


def _linux(arch: str, glibc: int = 31) -> list[str]:
    """Platform tags pip accepts on a Linux with glibc 2.<glibc> (Ubuntu 20.04: 31)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc, 4, -1)]
    return tags + [f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}", f"linux_{arch}"]


# name -> (marker environment, platform tags, the Pythons the kit's README allows there)
PLATFORMS = {
    "Linux x86_64": ({"sys_platform": "linux", "platform_machine": "x86_64", "platform_system": "Linux",
                      "os_name": "posix"}, _linux("x86_64"), PYTHONS),
    "Linux aarch64": ({"sys_platform": "linux", "platform_machine": "aarch64", "platform_system": "Linux",
                       "os_name": "posix"}, _linux("aarch64"), PYTHONS),
    "macOS 14 arm64": ({"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin",
                        "os_name": "posix"}, list(mac_platforms((14, 0), "arm64")), PYTHONS),
    "macOS 12 arm64": ({"sys_platform": "darwin", "platform_machine": "arm64", "platform_system": "Darwin",
                        "os_name": "posix"}, list(mac_platforms((12, 0), "arm64")), PYTHONS),
    "macOS 13 x86_64": ({"sys_platform": "darwin", "platform_machine": "x86_64", "platform_system": "Darwin",
                         "os_name": "posix"}, list(mac_platforms((13, 0), "x86_64")), PYTHONS[:3]),
    "Windows x86_64": ({"sys_platform": "win32", "platform_machine": "AMD64", "platform_system": "Windows",
                        "os_name": "nt"}, ["win_amd64"], PYTHONS),
}


def _resolve(platform: str, python: tuple[int, int]) -> dict[str, Version]:
    """For each requirement that applies there: the newest release with a wheel this platform and
    Python can install (what pip picks), or a failed assertion naming the requirement."""
    markers, platforms, _ = PLATFORMS[platform]
    environment = {**default_environment(), **markers, "python_version": f"{python[0]}.{python[1]}",
                   "python_full_version": f"{python[0]}.{python[1]}.0", "implementation_name": "cpython",
                   "platform_python_implementation": "CPython"}
    supported = set(cpython_tags(python, platforms=platforms)) | set(compatible_tags(python, platforms=platforms))
    chosen = {}
    for line in REQUIREMENTS.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate(environment):
            continue
        releases = SNAPSHOT[requirement.name]
        installable = [Version(v) for v, files in releases.items()
                       if Version(v) in requirement.specifier and any(
                           f.endswith(".whl") and set(parse_wheel_filename(f)[3]) & supported for f in files)]
        assert installable, f"{platform}, Python {python[0]}.{python[1]}: nothing installs {line!r}"
        chosen[requirement.name] = max(installable)
    return chosen


CASES = [(platform, python) for platform, (_, _, pythons) in PLATFORMS.items() for python in pythons]


@pytest.mark.parametrize("platform,python", CASES, ids=[f"{p}-py{v[0]}.{v[1]}" for p, v in CASES])
def test_the_kits_requirements_install_on_every_platform_and_python(platform, python):
    chosen = _resolve(platform, python)
    assert {"numpy", "torch", "jupyter", "matplotlib"} <= set(chosen)
    assert Version(OLDEST["torch"]) <= chosen["torch"] <= Version("2.14.1")
    if platform.startswith("macOS") and "x86_64" in platform:        # the last torch built for Intel Macs
        assert chosen["torch"] == Version("2.2.2") and chosen["numpy"] < Version("2")
    elif platform.startswith("Linux"):
        assert chosen["torch"] == Version("2.14.1") and {"landlockpy", "pyseccomp"} <= set(chosen)


def test_an_intel_mac_needs_python_3_12_or_older_as_the_readme_says(kit):
    _, _, folder = kit
    with pytest.raises(AssertionError, match="macOS 13 x86_64, Python 3.13: nothing installs"):
        _resolve("macOS 13 x86_64", (3, 13))
    assert "on an Intel Mac: 3.10 to 3.12" in (folder / "README.md").read_text()


def test_the_requirements_name_the_intel_mac_exception_once_per_package():
    lines = [line for line in REQUIREMENTS.splitlines() if INTEL_MAC in line or NOT_INTEL_MAC in line]
    assert [Requirement(line).name for line in lines] == ["numpy", "numpy", "torch", "torch"]
    assert len(PACKS) == 3          # the course repository holds every pack; a kit holds one
