"""Reading careless file names: what can be tied to a student and a task, and what cannot."""
import pytest

from grader.intake.naming import parse
from grader.packs import load_pack

PACK = load_pack("assignment2")


@pytest.mark.parametrize("name, task, student, copy, faults", [
    ("task1_2004.py", "task1", "2004", 0, []),
    ("Task1_2004.py", "task1", "2004", 0, ["case differs"]),
    ("task2-2004.py", "task2", "2004", 0, ["separated by something other"]),
    ("task3_2004 (1).py", "task3", "2004", 1, ["copy marker"]),
    ("task3_2004(2).py", "task3", "2004", 2, ["copy marker"]),
    ("task4_2004.py.py", "task4", "2004", 0, ["doubled"]),
    ("2004_task1.py", "task1", "2004", 0, ["id comes before"]),
    ("layers_2004.PY", "layers", "2004", 0, ["upper-case"]),
    ("task1_2008.ipynb", "task1", "2008", 0, ["notebook"]),
    ("TASK1 2004 - Copy.py", "task1", "2004", 1, ["case differs", "copy marker", "separated"]),
])
def test_names_tied_to_one_student_and_task(name, task, student, copy, faults):
    match = parse(name, PACK)
    assert match is not None, name
    assert (match.task, match.student, match.copy) == (task, student, copy)
    assert len(match.faults) == len(faults), match.faults
    for words in faults:
        assert any(words in fault for fault in match.faults), (words, match.faults)


@pytest.mark.parametrize("name, student, faulty", [
    ("2011_assignment2.zip", "2011", False),
    ("2011.zip", "2011", True),
    ("assignment2_2011.zip", "2011", True),
    ("2011_Assignment2 (1).zip", "2011", True),
])
def test_zip_names(name, student, faulty):
    match = parse(name, PACK)
    assert match is not None and match.kind == "zip" and match.student == student
    assert bool(match.faults) == faulty


@pytest.mark.parametrize("name", ["task1.py", "task1_template.py", "task1_2004_v2.py", "hw.py", "notes.txt",
                                  "task1_task2.py", "task12004.py", "task1_20-04.py", "homework.zip"])
def test_names_that_would_need_a_guess_are_not_tied(name):
    assert parse(name, PACK) is None


def test_inside_a_zip_a_bare_task_name_belongs_to_the_zips_owner():
    match = parse("task1.py", PACK, zip_owner="2011")
    assert match is not None and match.task == "task1" and match.student is None
    assert any("no student id" in f for f in match.faults)
    assert parse("2011_assignment2.zip", PACK, zip_owner="2011") is None   # no zips inside zips
