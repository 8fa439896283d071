"""Every check fails the classic bugs it is meant to catch, and passes correct alternatives.

All fixtures (tests/fixtures/students.py) are graded in one batch, as a class of students,
each handing in a single file.
"""
import pytest

from grader.packs import load_pack

from fixtures.students import RIGHT, WRONG, graded_by_the_grader

PACK = load_pack("assignment2")
ALL = WRONG + RIGHT


@pytest.fixture(scope="module")
def graded():
    return graded_by_the_grader()


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
