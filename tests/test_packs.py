"""What every assignment pack gets for free: the same tests, run on each pack found in
grader/packs/ (a pack made with ``new-pack`` included).

* The declaration adds up, and every rubric part has a visible and a hidden input.
* Templates and the shipped visible references are in sync with the solutions.
* The solutions earn full marks and the templates 0 when graded.
* Every fixture of ``tests/fixtures/<pack>.py`` (assignment2: ``students.py``) loses exactly
  what it should, with the words that explain why; correct alternatives keep full marks;
  every graded name has at least one wrong fixture.

Pack-specific tests (references against PyTorch, notebooks, demos) stay in the packs' own
test modules.
"""
from __future__ import annotations

import pytest
from fixtures.classes import explanation, fixtures_of, graded_class

from grader.authoring.templates import generate
from grader.grading import visible_references
from grader.packs import PACKS, load_pack

FIXTURES = [(pack, fixture) for pack in PACKS for fixture in sum(fixtures_of(pack), [])]


def code_names(pack):
    return [n for f in pack.files if f.kind == "code" for n in f.names]


@pytest.mark.fast
@pytest.mark.parametrize("pack_name", PACKS)
def test_points_add_up_and_every_part_has_a_visible_and_a_hidden_input(pack_name):
    pack = load_pack(pack_name)
    assert pack.points == sum(f.points for f in pack.files) == sum(n.points for n in pack.names)
    for graded in code_names(pack):      # a data file (the contest's predictions) has tests of its own
        cases = graded.check.cases()
        assert len({c.id for c in cases}) == len(cases), f"{graded.key}: two cases share an id"
        for part in graded.check.parts:
            if part not in graded.check.graded_only:
                assert any(part in c.parts for c in cases if c.visible), f"{graded.key}: no visible input for {part}"
            assert any(part in c.parts for c in cases if not c.visible), f"{graded.key}: no hidden input for {part}"


@pytest.mark.fast
@pytest.mark.parametrize("pack_name", PACKS)
def test_templates_and_visible_references_are_in_sync_with_the_solutions(pack_name):
    pack = load_pack(pack_name)
    assert generate(pack, check_only=True) == [], f"run `make templates ASSIGNMENT={pack_name}`"
    assert not visible_references.refresh(pack, check_only=True), f"run `make templates ASSIGNMENT={pack_name}`"


@pytest.mark.fast
@pytest.mark.parametrize("pack_name", PACKS)
def test_solutions_earn_full_marks_and_templates_zero(pack_name):
    pack = load_pack(pack_name)
    graded = graded_class(pack_name)
    full = sum(n.points for n in code_names(pack))
    solution = graded["solution"]
    assert solution.score == full, [(n.key, explanation(n)) for n in solution.names if n.score < n.points]
    assert graded["template"].score == 0
    # A template's functions raise NotImplementedError; its values (answers) are still None.
    kinds = {n.key: n.kind for n in code_names(pack)}
    assert {n.status for n in graded["template"].names if kinds[n.key] != "value"} == {"not_implemented"}


@pytest.mark.fast
@pytest.mark.parametrize("pack_name", PACKS)
def test_every_graded_name_has_a_wrong_fixture(pack_name):
    wrong, _ = fixtures_of(pack_name)
    missing = {n.key for n in code_names(load_pack(pack_name))} - {key for f in wrong for key in f.expect}
    assert not missing, f"add a wrong implementation to tests/fixtures for {sorted(missing)}"


@pytest.mark.fast
@pytest.mark.parametrize("pack_name, fixture", FIXTURES, ids=[f"{p}-{f.id}" for p, f in FIXTURES])
def test_fixture_loses_exactly_what_it_should(pack_name, fixture):
    pack = load_pack(pack_name)
    result = graded_class(pack_name)[fixture.id]
    for graded_name in pack.file(fixture.task).names:
        got = result.name(graded_name.key)
        expected = fixture.expect.get(graded_name.key, graded_name.points)
        assert got.score == expected, f"{graded_name.key}: {got.score} != {expected}: {explanation(got)}"
        if graded_name.key in fixture.reasons:
            assert fixture.reasons[graded_name.key] in explanation(got), explanation(got)
