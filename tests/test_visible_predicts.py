"""Self-check's visible checks predict the grade: what passes them is not taken back by grading.

For every pack, every rubric part of every code file has a visible input (unless the part
is declared ``graded_only``: a numeric answer's value, which self-check cannot judge without
holding the answer), and no wrong fixture (the packs' typical wrong implementations, in
tests/fixtures) passes a part on its visible inputs and then loses that part in grading.
"""
import pytest
from fixtures.classes import fixtures_of, graded_class

from grader.packs import PACKS, load_pack

CODE_NAMES = [(pack, graded) for pack in PACKS for graded in load_pack(pack).names
              if load_pack(pack).file(graded.task).kind == "code"]


def test_only_numeric_answers_are_judged_only_when_graded():
    declared = {(graded.key, part) for _, graded in CODE_NAMES for part in graded.check.graded_only}
    assert declared == {("answers.Q1", "w(167) to 3 decimals"), ("answers.Q2", "w(167) to 3 decimals")}


@pytest.mark.fast
@pytest.mark.parametrize("pack", PACKS)
def test_no_wrong_fixture_passes_a_part_visibly_and_loses_it_when_graded(pack):
    results = graded_class(pack)
    assignment = load_pack(pack)
    wrong, _ = fixtures_of(pack)
    taken_back = []
    for fixture in wrong:
        for name in results[fixture.id].names:
            if not name.key.startswith(fixture.task + "."):
                continue
            graded_only = assignment.graded(name.key).check.graded_only
            for part in name.parts:
                if part.label in graded_only:
                    continue
                if part.visible_passed and not part.passed:
                    taken_back.append(f"{fixture.id} {name.key} [{part.label}]: {part.hidden_message}")
    assert not taken_back, "\n".join(taken_back)


@pytest.mark.fast
@pytest.mark.parametrize("pack", PACKS)
def test_every_wrong_fixture_fails_some_visible_input(pack):
    """The other half of "predicts": a fixture that loses points in grading does not pass
    everything self-check shows (parts judged only when graded aside)."""
    results = graded_class(pack)
    assignment = load_pack(pack)
    wrong, _ = fixtures_of(pack)
    silent = []
    for fixture in wrong:
        lost = [(n, p) for n in results[fixture.id].names if n.key.startswith(fixture.task + ".") for p in n.parts
                if not p.passed and p.label not in assignment.graded(n.key).check.graded_only]
        if lost and not any(p.visible_passed is False for _, p in lost):
            silent.append(f"{fixture.id}: " + "; ".join(f"{n.key} [{p.label}]" for n, p in lost))
    assert not silent, "\n".join(silent)


def _visible_inputs(graded) -> list:
    from grader import wire
    return [(case.id, case.label, wire.dumps(case.inputs)) for case in graded.check.cases() if case.visible]


@pytest.mark.parametrize("pack", PACKS)
def test_visible_inputs_do_not_depend_on_the_hidden_seed(pack, monkeypatch):
    """A student's kit has no hidden seed: its visible inputs (and so the stored visible
    references they are judged against) must be the grader's, whatever the hidden seed is."""
    from grader.packs import toolkit
    names = [graded for graded in load_pack(pack).names]
    with_seed = {g.key: _visible_inputs(g) for g in names}
    for seed in (None, 987654321):
        monkeypatch.setattr(toolkit, "HIDDEN_SEED", seed)
        changed = [g.key for g in names if _visible_inputs(g) != with_seed[g.key]]
        assert not changed, f"visible inputs change with the hidden seed {seed}: {changed}"
