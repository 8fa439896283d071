"""``python -m grader new-pack NAME``: write a minimal working assignment pack.

The pack has one task file with one graded function, ``scale(x, factor=2.0)`` (an array
times a number), checked against PyTorch on visible and hidden inputs. It is a skeleton to
grow, laid out like the real packs (see ``grader/packs/AUTHORING.md``):

    grader/packs/NAME/__init__.py     empty (a child imports probes.py through it)
    grader/packs/NAME/pack.py         the declaration: files, graded names, points, signatures
    grader/packs/NAME/checks.py       the check: cases and judge (grader side)
    grader/packs/NAME/references.py   the expected values (grader side; never in a child or the kit)
    grader/packs/NAME/probes.py       the probe: calls the student's code (child side)
    grader/packs/NAME/ASSIGNMENT.md   the contract, in words, for students and staff
    solutions/TASK.py                 the reference solution, with solution markers
    templates/TASK_template.py        generated from it (markers stripped)
    grader/packs/NAME/visible_references.bin   generated: self-check's stored references
    tests/fixtures/NAME.py            wrong and right implementations the checks must tell
                                      apart (tests/test_packs.py runs them, with the other
                                      tests every pack gets)
    notebooks/build_NAME.py           the self-check notebook's source (make notebooks)

and NAME is added to ``ALL_PACKS`` in ``grader/packs/__init__.py``. Nothing is overwritten:
the command stops if any of these already exists.
"""

from __future__ import annotations

import importlib
import keyword
import re
import sys
from pathlib import Path

from grader.judging.reference import REPO

PACKS_FILE = Path("grader") / "packs" / "__init__.py"

INIT = '''\
"""The pack "{name}". Its declaration is ``pack.py``; this file stays empty, because a
child imports ``probes.py`` through it and must not pull in the grader side."""
'''

DECLARATION = '''\
"""The pack "{name}" (contract: ASSIGNMENT.md in this folder).

The single place where this pack's files, graded names, points, signatures, allowed
imports and time limits are declared. The checks (cases, judges) live in checks.py, the
expected values in references.py, and what runs next to the student's code in probes.py.
"""
from __future__ import annotations

from ...assignment import Assignment, GradedName, Signature, TaskFile
from ...judging.reference import SOLUTIONS, TEMPLATES
from . import checks

ASSIGNMENT = Assignment(
    name="{name}",
    title="{title}",
    solutions_dir=str(SOLUTIONS),
    templates_dir=str(TEMPLATES),
    files=(
        TaskFile("{task}", "{task}_template.py", "{task}.py", (
            GradedName("{task}", "scale", 2, Signature("(x, factor=2.0)"), checks.Scale(), timeout=10),
        ), allowed_packages=frozenset({{"numpy"}})),
    ),
)
'''

CHECKS = '''\
"""Checks of the pack "{name}": cases and judges (grader side; the probes are in probes.py)."""
from __future__ import annotations

from ...assignment import Case, Check
from ...judging.compare import compare_arrays
from ..toolkit import case_rng
from . import references      # attribute access only: the student kit has a placeholder in its place

VISIBLE_SEED = {seed}


class Scale(Check):
    """``scale(x, factor=2.0)``: every entry of ``x`` times ``factor``, a new array of x's dtype."""

    parts = {{"default factor": 1.0, "any factor": 1.0}}

    def cases(self):
        out = []
        for visible in (True, False):
            # Visible inputs come from the pack's seed, hidden ones from the grader's.
            r = case_rng(VISIBLE_SEED, "{task}.scale", visible)
            for index, (shape, factor) in enumerate([((3,), None), ((2, 4), -0.5)] if visible else
                                                    [((5, 1), None), ((2, 3, 2), 3.0), ((1,), 0.0)]):
                inputs = {{"x": r.standard_normal(shape), "factor": factor}}
                part = "default factor" if factor is None else "any factor"
                label = f"x of shape {{shape}}" + ("" if factor is None else f", factor={{factor}}")
                out.append(Case(f"{{'visible' if visible else 'hidden'}}-{{index}}", (part,), visible, inputs, label))
        return out

    def reference(self, case):
        # Runs in the grader's process: the expected value (references.py, from PyTorch).
        return references.scaled(case.inputs["x"], 2.0 if case.inputs["factor"] is None else case.inputs["factor"])

    def judge(self, case, output, reference):
        # Every part of the case: None when it passes, else one line saying why not.
        problem = compare_arrays(output, reference, "scale(x)", dtype=True)
        return {{part: problem for part in case.parts}}
'''

REFERENCES = '''\
"""The pack "{name}"'s references: expected values computed with PyTorch.

Grader side: called in the grader's own process only. Never loaded into a child that runs
student code (a stand-in, a reference version of a graded name that a probe runs the
student's code with, is sent as source text only when its turn comes: Check.stand_ins),
and left out of the student kit.
"""
from __future__ import annotations

import numpy as np
import torch


def scaled(x: np.ndarray, factor: float) -> np.ndarray:
    return (torch.from_numpy(x) * factor).numpy()
'''

PROBES = '''\
"""The pack "{name}"'s probes: what runs next to the student's code (child side).

Loaded into every child, where the student's code can read it: it calls the student's
code and returns plain data, and holds nothing that knows the right answer.
"""
from __future__ import annotations

from ...probing import probe


@probe("{task}.scale")
def scale(module, inputs):
    x = inputs["x"].copy()
    if inputs["factor"] is None:
        return module.scale(x)              # defaults are left to the student's signature
    return module.scale(x, factor=inputs["factor"])
'''

SOLUTION = '''\
"""{title}: the task "{task}" (2 points).

Graded names and points:
    scale  2

Rules: keep the function's name and parameters; import only NumPy and the standard library.
"""
import numpy as np


def scale(x, factor=2.0):
    """Every entry of ``x`` times ``factor``.

    Args:
        x: a NumPy array of any shape.
        factor: a number.

    Returns:
        A new array with the shape and dtype of ``x``.
    """
    # BEGIN SOLUTION
    return (x * factor).astype(x.dtype)
    # END SOLUTION
'''

CONTRACT = """\
# The pack "{name}"

{title}. Names, signatures and points are declared once, in `pack.py` next to this
file; this page says the same in words (see `grader/packs/AUTHORING.md`).

Points (total 2).

Submission: `{task}_<studentID>.py`, or `<studentID>_{name}.zip` holding it at its top level.
Imports: NumPy and the standard library.

## {task} (2)
- `scale(x, factor=2.0)` (2): every entry of the array `x` times `factor`, returned as a
  new array with the shape and dtype of `x`. Parts: the default factor 1, any factor 1.
"""


FIXTURES = '''\
"""Implementations of the pack "{name}" that its checks must tell apart (tests/test_packs.py).

A fixture is the reference solution with definitions appended (the last one wins), graded
as a student's file. WRONG ones are typical mistakes: ``expect`` gives the points each
graded name must earn (the others of the file keep full marks), ``reasons`` words its
explanation must contain. RIGHT ones are correct alternatives in other styles, which must
keep full marks. Add one WRONG fixture per mistake a check is meant to catch.
"""
from __future__ import annotations

from .students import Fixture

WRONG = [
    Fixture("ignoresfactor", "{task}", """
def scale(x, factor=2.0):
    return x * 2.0
""", {{"{task}.scale": 1.0}}, {{"{task}.scale": "scale(x)"}}),
]

RIGHT = [
    Fixture("entrywise", "{task}", """
def scale(x, factor=2.0):
    out = np.empty_like(x)
    for index, value in np.ndenumerate(x):
        out[index] = value * factor
    return out
"""),
]
'''

NOTEBOOK_BUILDER = '''\
"""Write the self-check notebook of the pack "{name}": ``notebooks/{task}_run.ipynb``.

This script is its source: edit the text or code here, then run ``make notebooks``. The
frame (setup cell, checks, the final cell that checks the whole file and says how to hand
it in) comes from ``nbframe.py``, shared by every pack's notebooks.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nbframe import notebook, write  # noqa: E402

NOTEBOOK = notebook("{task}", "{title}: self-check", """
    One function, `scale(x, factor=2.0)`: every entry of a NumPy array times a number.
""", [
    ("""
    ## `scale(x, factor=2.0)` (2 points: the default factor 1, any factor 1)

    Return a new array with the shape and dtype of `x`; leave `x` unchanged.
    """, "{task}.scale", """
    import numpy as np

    with needs("scale"):
        print(student().scale(np.arange(4.0), factor=-1.5))
    """),
], assignment="{name}")

if __name__ == "__main__":
    sys.exit(write({{"{task}_run.ipynb": NOTEBOOK}}, HERE))
'''


def validate(name: str, task: str, repo: Path) -> list[str]:
    problems = []
    for label, value in (("pack name", name), ("task name", task)):
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value) or keyword.iskeyword(value):
            problems.append(f"the {label} {value!r} must be lowercase letters, digits and _ (a Python identifier)")
    if problems:
        return problems
    from grader.packs import PACKS

    if name in PACKS:
        problems.append(f"a pack named {name!r} is already registered")
    for path in targets(name, task, repo):
        if path.exists():
            problems.append(f"{path.relative_to(repo)} already exists (choose another name or --task)")
    return problems


def targets(name: str, task: str, repo: Path) -> list[Path]:
    pack = repo / "grader" / "packs" / name
    return [
        pack,
        repo / "solutions" / f"{task}.py",
        repo / "templates" / f"{task}_template.py",
        repo / "tests" / "fixtures" / f"{name}.py",
        repo / "notebooks" / f"build_{name}.py",
    ]


def register(name: str, repo: Path) -> None:
    """Add ``name`` to the ALL_PACKS tuple of grader/packs/__init__.py."""
    path = repo / PACKS_FILE
    text = path.read_text(encoding="utf-8")
    match = re.search(r"^ALL_PACKS = \(([^)]*)\)", text, re.M)
    if match is None:
        raise RuntimeError(f"cannot find the ALL_PACKS tuple in {path}; add {name!r} to it by hand")
    names = [n.strip() for n in match.group(1).split(",") if n.strip()]
    names.append(repr(name).replace("'", '"'))
    path.write_text(text[: match.start()] + f"ALL_PACKS = ({', '.join(names)})" + text[match.end() :], encoding="utf-8")


def new_pack(name: str, task: str | None = None, repo: Path = REPO) -> list[Path]:
    """Write the pack and its solution, register it, generate its template and references."""
    task = task or "warmup"
    problems = validate(name, task, repo)
    if problems:
        raise ValueError("; ".join(problems))
    title = f"{name}: a new assignment pack"
    fields = {"name": name, "task": task, "title": title, "seed": 1000 + sum(map(ord, name)) % 9000}
    pack = repo / "grader" / "packs" / name
    pack.mkdir(parents=True)
    written = {
        pack / "__init__.py": INIT.format(**fields),
        pack / "pack.py": DECLARATION.format(**fields),
        pack / "checks.py": CHECKS.format(**fields),
        pack / "references.py": REFERENCES.format(**fields),
        pack / "probes.py": PROBES.format(**fields),
        pack / "ASSIGNMENT.md": CONTRACT.format(**fields),
        repo / "solutions" / f"{task}.py": SOLUTION.format(**fields),
    }
    # The test fixtures and the notebook's source, where the checkout has those folders.
    for folder, filename, source in (
        (repo / "tests" / "fixtures", f"{name}.py", FIXTURES),
        (repo / "notebooks", f"build_{name}.py", NOTEBOOK_BUILDER),
    ):
        if folder.is_dir():
            written[folder / filename] = source.format(**fields)
    for path, text in written.items():
        path.write_text(text, encoding="utf-8")
    register(name, repo)

    # The template and the stored visible references, as `make templates` writes them.
    from grader.assignment import check_points
    from grader.authoring.templates import generate
    from grader.grading import visible_references as kit

    assignment = importlib.import_module(f"grader.packs.{name}.pack").ASSIGNMENT
    check_points(assignment)
    generated = generate(assignment) + [kit.write(assignment)]
    return list(written) + [repo / PACKS_FILE] + generated


def main(name: str, task: str | None) -> int:
    try:
        paths = new_pack(name, task)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"wrote {path.relative_to(REPO)}")
    task = task or "warmup"
    print(
        f"\nNext: edit solutions/{task}.py and grader/packs/{name}/ (pack.py, checks.py, references.py, "
        f"probes.py), then\n"
        f"  python -m grader templates --assignment {name}      (templates and self-check references)\n"
        f"  python -m grader check solutions/{task}.py --assignment {name}\n"
        f"See grader/packs/AUTHORING.md."
    )
    return 0
