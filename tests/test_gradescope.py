"""The Gradescope bundle: build it, unpack it like /autograder, run run_autograder on uploads.

run_autograder runs with this venv's Python (AUTOGRADER_PYTHON) instead of the one
setup.sh would install, and AUTOGRADER_ROOT points at a temporary folder laid out like
/autograder (source/, submission/, results/).
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader.gradescope import run as gradescope_run
from grader.gradescope.bundle import build, requirements
from grader.gradescope.stage import FALLBACK_ID, restore_names, stage
from grader.packs import load_pack

REPO = Path(__file__).resolve().parent.parent
PACK = load_pack("assignment2")
TASKS = [f.task for f in PACK.files]
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def solution(task: str) -> str:
    return (REPO / "solutions" / f"{task}.py").read_text(encoding="utf-8")


def check_format(data: dict) -> None:
    """What Gradescope requires of results.json (and what this grader promises in it)."""
    number = (int, float)
    assert isinstance(data["score"], number) and not isinstance(data["score"], bool)
    assert isinstance(data["execution_time"], number) and data["execution_time"] >= 0
    assert isinstance(data["output"], str) and data["output"]
    assert data.get("visibility", "visible") in VISIBILITIES
    assert data.get("stdout_visibility", "hidden") in VISIBILITIES
    assert isinstance(data["tests"], list)
    for test in data["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= test.keys(), test
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], number) and isinstance(test["max_score"], number)
        assert 0 <= test["score"] <= test["max_score"] or test["max_score"] == 0 == test["score"]
        assert test["visibility"] in VISIBILITIES


def scored(data: dict) -> list[dict]:
    return [t for t in data["tests"] if t["max_score"] > 0]


def by_name(data: dict, key: str) -> list[dict]:
    return [t for t in scored(data) if t["name"].startswith(key + ":")]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("dist") / "autograder.zip")


def lay_out(root: Path, bundle: Path, files: dict[str, bytes | str]) -> Path:
    """A folder like /autograder: the bundle unzipped in source/ (keeping modes), the upload in submission/."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
        for info in archive.infolist():
            os.chmod(source / info.filename, (info.external_attr >> 16) & 0o777)
    for name, data in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    (root / "submission").mkdir(exist_ok=True)
    return root


def run_autograder(root: Path, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    full_env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable, "GRADER_JOBS": "2",
                **env}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=full_env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    check_format(data)
    return proc, data


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# --- the bundle -------------------------------------------------------------------------

def test_bundle_holds_scripts_source_and_pinned_requirements(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        reqs = archive.read("requirements.txt").decode().splitlines()
        setup = archive.read("setup.sh").decode()
    needed = {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml", "data/digits.npz",
              "grader/outputs/batch.py", "grader/gradescope/run.py", "grader/packs/assignment2/__init__.py",
              *(f"solutions/{f.solution}" for f in PACK.files)}
    assert needed <= infos.keys()
    assert not [n for n in infos if "__pycache__" in n or n.startswith(("tests/", "templates/", ".venv/", "results/"))]
    for script in ("setup.sh", "run_autograder"):
        assert infos[script].external_attr >> 16 & 0o111, f"{script} is not executable"
        subprocess.run(["bash", "-n", "-"], input=(REPO / "grader" / "gradescope" / script).read_text(), check=True,
                       text=True)
    assert "torch==2.14.1" in reqs and "torchvision==0.29.1" in reqs
    assert [r for r in reqs if not r.startswith("#")] == requirements(REPO / "pyproject.toml")
    assert not [r for r in reqs if r.startswith(("pytest", "jupyter"))]
    assert "https://download.pytorch.org/whl/cpu" in setup and "-r requirements.txt" in setup
    # Deterministic: building again gives the same bytes.
    assert build(tmp_path / "again.zip").read_bytes() == bundle.read_bytes()


# --- run_autograder on uploads ----------------------------------------------------------

def test_reference_solutions_earn_full_marks(bundle, tmp_path):
    root = lay_out(tmp_path, bundle, {f"{task}.py": solution(task) for task in TASKS})
    proc, data = run_autograder(root)
    assert data["score"] == PACK.points == 75
    assert all(t["score"] == t["max_score"] for t in scored(data))
    assert sum(t["max_score"] for t in scored(data)) == 75
    assert {t["visibility"] for t in scored(data)} == {"visible"}
    hidden = [t for t in data["tests"] if t["name"].endswith("(hidden inputs)")]
    assert hidden and {t["visibility"] for t in hidden} == {"after_published"}
    # It graded with the unpacked bundle, not with this checkout.
    assert f"grader source: {root / 'source'}" in proc.stdout


def test_templates_in_any_zip_earn_zero_and_visibility_is_settable(bundle, tmp_path):
    templates = {f"hw2/{f.template}": (REPO / "templates" / f.template).read_text(encoding="utf-8") for f in PACK.files}
    root = lay_out(tmp_path, bundle, {"my upload.zip": zip_bytes(templates)})
    _, data = run_autograder(root, GRADESCOPE_VISIBILITY="after_due_date", GRADESCOPE_HIDDEN_VISIBILITY="hidden")
    assert data["score"] == 0
    assert {t["name"].split(":")[0] for t in scored(data)} == {n.key for n in PACK.names}
    assert all("not implemented" in t["output"] for t in scored(data))
    assert {t["visibility"] for t in data["tests"]} <= {"after_due_date", "hidden"}
    # Messages name the student's own files, not the staged copies.
    assert "my upload.zip" in data["output"] and FALLBACK_ID + "_" not in json.dumps(data["tests"])


def test_hostile_upload_is_graded_and_cannot_fake_its_result(bundle, tmp_path):
    results_file = tmp_path / "results" / "results.json"
    exits = (f"import sys\ntry:\n    open({str(results_file)!r}, 'w').write('{{\"score\": 999}}')\n"
             "except Exception:\n    pass\nsys.exit(0)\n")
    loops = solution("layers") + "\n\ndef _forever(self, delta):\n    while True:\n        pass\n\nConv1D.backward = _forever\n"
    root = lay_out(tmp_path, bundle, {"task1_42.py": exits + solution("task1"), "task2_42.py": solution("task2"),
                                      "layers_42.py": loops})
    proc, data = run_autograder(root, GRADER_TIMEOUT="5")
    assert "The grader failed" not in proc.stdout
    # The exit at the top of task1 is skipped (and reported); the functions after it are graded.
    assert "SystemExit(0)" in data["output"]
    assert all(t["score"] == t["max_score"] for key in ("task1.relu", "task1.train", "task2.get_DNN",
                                                        "task2.train_torch") for t in by_name(data, key))
    assert all(t["score"] == 0 and "timed out" in t["output"] for t in by_name(data, "layers.Conv1D.backward"))
    assert all(t["score"] == t["max_score"] for t in by_name(data, "layers.Conv1D.forward"))    # graded before it
    assert data["score"] == sum(t["score"] for t in scored(data))
    assert data["score"] == 35 and '{"score": 999}' not in results_file.read_text()   # task1, task2, forward; nothing planted


def test_a_file_that_implements_nothing_earns_nothing_on_gradescope(bundle, tmp_path):
    """The thieves of tests/fixtures/answer_thieves.py look for answers in their own process
    and on the disk they can read; in the bundle, as in `make grade`, they find none."""
    from fixtures.answer_thieves import THIEVES

    root = lay_out(tmp_path, bundle, {f"{task}.py": source for task, source in THIEVES["assignment2"].items()})
    _, data = run_autograder(root)
    assert data["score"] == 0, [(t["name"], t["score"]) for t in scored(data) if t["score"]]
    assert {t["name"].split(":")[0] for t in scored(data)} == {n.key for n in PACK.names}


def test_broken_grader_source_still_writes_a_zero_result(bundle, tmp_path):
    root = lay_out(tmp_path, bundle, {"task1.py": solution("task1")})
    broken = tmp_path / "broken" / "grader"      # a grader package that cannot even be imported
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('broken on purpose')\n")
    proc, data = run_autograder(root, AUTOGRADER_SOURCE=str(broken.parent))
    assert "broken on purpose" in proc.stderr
    assert data["score"] == 0 and data["tests"] == []
    assert "For staff" in data["output"]


def test_a_grader_error_still_writes_a_zero_result(bundle, tmp_path):
    root = lay_out(tmp_path, bundle, {"task1.py": solution("task1")})
    _, data = run_autograder(root, GRADESCOPE_VISIBILITY="sometimes")
    assert data["score"] == 0 and data["tests"] == []
    assert "For staff: ValueError: visibility 'sometimes'" in data["output"]


def test_a_crash_inside_grading_is_reported_to_staff(tmp_path, monkeypatch):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "task1.py").write_text(solution("task1"))

    def crash(*args, **kwargs):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr("grader.outputs.batch.grade_folder", crash)
    status = gradescope_run.run({"AUTOGRADER_ROOT": str(tmp_path)})
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    check_format(data)
    assert status == 1 and data["score"] == 0
    assert "For staff: RuntimeError: the disk caught fire" in data["output"]
    assert "crash" in data["extra_data"]["grader_failure"]      # the traceback, for staff


# --- staging one upload ------------------------------------------------------------------

def test_stage_picks_one_file_per_task_and_explains_the_rest(tmp_path):
    upload = tmp_path / "up"
    (upload / "old").mkdir(parents=True)
    (upload / "task1_template.py").write_text("a = 1\n")
    (upload / "task1_3180100111.py").write_text("b = 2\n")
    (upload / "old" / "task1.py").write_text("c = 3\n")
    (upload / "layers.py").write_text("d = 4\n")
    (upload / "README.txt").write_text("hi")
    (upload / "__MACOSX").mkdir()
    (upload / "__MACOSX" / "._layers.py").write_text("junk")
    staged = stage(upload, tmp_path / "staged", PACK)
    assert staged.student_id == "3180100111"
    files = sorted(p.name for p in staged.folder.iterdir())
    assert files == ["3180100111_assignment2.zip", "layers_3180100111.py", "task1_3180100111.py"]
    assert (staged.folder / "task1_3180100111.py").read_text() == "b = 2\n"
    assert staged.renamed["layers_3180100111.py"] == "layers.py"
    notes = "\n".join(staged.notes)
    assert "several files for task1: graded task1_3180100111.py, ignored task1_template.py, old/task1.py" in notes
    assert "README.txt" in notes and "MACOSX" not in notes


def test_stage_of_an_empty_upload_reports_every_name_missing(tmp_path):
    (tmp_path / "up").mkdir()
    staged = stage(tmp_path / "up", tmp_path / "staged", PACK)
    assert staged.student_id == FALLBACK_ID
    assert [p.name for p in staged.folder.iterdir()] == [f"{FALLBACK_ID}_assignment2.zip"]
    assert any("no file of this assignment" in n for n in staged.notes)
    text = f"expected task2_{FALLBACK_ID}.py, on its own or inside {FALLBACK_ID}_assignment2.zip"
    assert restore_names(text, staged.renamed) == "expected task2.py, on its own or inside a zip"


def test_stage_takes_the_id_from_inside_a_zip(tmp_path):
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "hw.zip").write_bytes(zip_bytes({"x/task1_77.py": "a = 1\n", "x/task2_77.py": "b = 2\n"}))
    staged = stage(tmp_path / "up", tmp_path / "staged", PACK)
    assert staged.student_id == "77" and staged.renamed == {"77_assignment2.zip": "hw.zip"}


# --- a contest pack (assignment3) ----------------------------------------------------------

DEMO_LABELS = REPO / "data" / "demo_labels" / "assignment3.csv"


def test_contest_bundle_needs_usable_labels_and_never_takes_them_for_another_pack(tmp_path):
    with pytest.raises(ValueError, match="LABELS="):
        build(tmp_path / "a.zip", assignment="assignment3")
    bad = tmp_path / "labels.csv"
    bad.write_text("id;label\n1;2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not usable"):
        build(tmp_path / "a.zip", assignment="assignment3", labels=bad)
    with pytest.raises(ValueError, match="no graded name that uses labels"):
        build(tmp_path / "a.zip", assignment="assignment2", labels=DEMO_LABELS)
    assert not (tmp_path / "a.zip").exists()


def test_contest_bundle_grades_predictions_on_its_hidden_labels(tmp_path):
    bundle_path = build(tmp_path / "autograder.zip", assignment="assignment3", labels=DEMO_LABELS, cutoffs=(0.5, 0.8))
    with zipfile.ZipFile(bundle_path) as archive:
        assert archive.read("hidden/labels.csv") == DEMO_LABELS.read_bytes()
        assert json.loads(archive.read("hidden/settings.json")) == {"cutoffs": [0.5, 0.8], "labels": "hidden/labels.csv"}
    assert "chmod -R go-rwx hidden" in (REPO / "grader" / "gradescope" / "setup.sh").read_text(encoding="utf-8")
    # 70 % right: (0.7 - 0.5) / (0.8 - 0.5) of the 10 points, under the student's own file name.
    rows = DEMO_LABELS.read_text(encoding="utf-8").splitlines()[1:]
    wrong = set(range(0, len(rows), 10)) | set(range(1, len(rows), 10)) | set(range(2, len(rows), 10))
    lines = ["id,label"] + [f"{r.split(',')[0]},{(int(r.split(',')[1]) + 1) % 10 if i in wrong else r.split(',')[1]}"
                            for i, r in enumerate(rows)]
    root = lay_out(tmp_path / "autograder", bundle_path, {"predictions.csv": "\n".join(lines) + "\n"})
    _, data = run_autograder(root)
    contest = by_name(data, "predictions.accuracy")
    accuracy = 1 - len(wrong) / len(rows)
    assert sum(t["score"] for t in contest) == pytest.approx(round(10 * (accuracy - 0.5) / 0.3, 2), abs=0.01)
    assert any("accura" in t["output"].lower() for t in contest)          # the student is told why
    assert data["leaderboard"][0]["name"] == "Accuracy (public ids)"
    assert 0.5 < data["leaderboard"][0]["value"] < 0.9
