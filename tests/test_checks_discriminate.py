"""Every check fails the classic bugs it is meant to catch, and passes correct alternatives.

All fixtures (tests/fixtures/students.py) are graded in one batch, as a class of students,
each handing in a single file.
"""
import pytest

from grader.discovery import Student, SubmittedFile
from grader.packs import load_pack
from grader.runner import Options, Runner

from fixtures.students import RIGHT, WRONG

PACK = load_pack("assignment2")
ALL = WRONG + RIGHT


@pytest.fixture(scope="module")
def graded():
    students = [Student(f.id, {f.task: SubmittedFile(f.task, f"{f.task}_{f.id}.py", f.source().encode())})
                for f in ALL]
    results = {}
    errors = Runner(PACK, Options(jobs=2)).grade(students, lambda r: results.__setitem__(r.student_id, r))
    assert errors == []
    return results


@pytest.mark.parametrize("fixture", ALL, ids=[f.id for f in ALL])
def test_fixture_loses_exactly_what_it_should(graded, fixture):
    result = graded[fixture.id]
    for graded_name in PACK.file(fixture.task).names:
        got = result.name(graded_name.key)
        expected = fixture.expect.get(graded_name.key, graded_name.points)
        assert got.score == expected, f"{graded_name.key}: {got.score} != {expected}: {got.reason}"
        if graded_name.key in fixture.reasons:
            assert fixture.reasons[graded_name.key] in got.reason, got.reason


def test_every_graded_name_has_a_wrong_fixture():
    covered = {key for f in WRONG for key in f.expect}
    assert covered >= {n.key for n in PACK.names}
