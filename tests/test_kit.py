"""Self-check works from the shipped references when students do not have solutions/."""
import dataclasses

from grader.grading import visible_references as kit
from grader.grading.runner import Options, Runner
from grader.intake.discovery import Student, SubmittedFile
from grader.judging.reference import REPO
from grader.packs import load_pack

PACK = load_pack("assignment2")


def test_same_tolerates_float_noise_but_not_real_differences():
    import numpy as np
    a = {"x": np.array([1.0, 2.0]), "n": 3, "parts": [np.float64(0.5), "ok"]}
    assert kit.same(a, {"x": np.array([1.0, 2.0 + 1e-9]), "n": 3, "parts": [0.5, "ok"]})
    assert not kit.same(a, {"x": np.array([1.0, 2.1]), "n": 3, "parts": [0.5, "ok"]})
    assert not kit.same(a, {"x": np.array([1.0, 2.0]), "n": 4, "parts": [0.5, "ok"]})
    assert not kit.same(a, {"x": np.array([1.0, 2.0, 3.0]), "n": 3, "parts": [0.5, "ok"]})


def test_visible_checks_run_without_the_solutions(tmp_path):
    without = dataclasses.replace(PACK, solutions_dir=str(tmp_path / "no-solutions"))
    assert not kit.solutions_available(without)
    students = [
        Student("right", {"task1": SubmittedFile("task1", "task1_right.py", (REPO / "solutions/task1.py").read_bytes())}),
        Student("blank", {"task1": SubmittedFile("task1", "task1_blank.py",
                                                 (REPO / "templates/task1_template.py").read_bytes())}),
    ]
    results = {}
    Runner(without, Options(jobs=1, visible_only=True)).grade(students, lambda r: results.__setitem__(r.student_id, r))
    assert results["right"].score == 20
    assert results["blank"].score == 0
    assert all(n.status == "not_implemented" for n in results["blank"].names if n.key.startswith("task1."))
