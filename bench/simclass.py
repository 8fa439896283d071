"""A large synthetic class for the similarity benchmark: template-based, varied, with planted copies.

Every student hands in the five files of assignment2, each built from the template:

* ``task1`` and ``layers``: each graded body picked from the independent styles of
  ``tests/fixtures/similarity_class.py`` (task1 per function, layers per class, so that its
  methods agree on their attributes);
* ``task2``, ``task3``, ``task4``: the reference bodies (``solutions/``), as a class where
  many students write the same obvious code would have them.

Then each file is varied the way students vary: a few statements of their own inserted
(checks, debugging lines, intermediate values, with numbers of their own), local names
renamed, docstrings deleted by some, functions reordered by some, a header comment. Some
students hand in a task's untouched template. Finally ``planted`` students hand in, for one
task, a disguised copy of another student's file (the disguises of the test fixtures).

Deterministic for a given seed. Only the standard library is used.
"""
from __future__ import annotations

import ast
import importlib.util
import random
import re
import sys
import textwrap
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from .env import REPO

TASKS = ("task1", "task2", "task3", "task4", "layers")
WORDS = ("shape", "batch", "grad", "check", "debug", "scale", "norm", "step", "tmp", "sanity", "width", "mean")


@lru_cache(maxsize=None)
def fixtures() -> ModuleType:
    """tests/fixtures/similarity_class.py, loaded by path (``tests`` is not a package)."""
    path = REPO / "tests" / "fixtures" / "similarity_class.py"
    spec = importlib.util.spec_from_file_location("bench_similarity_class", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@lru_cache(maxsize=None)
def solution_bodies(task: str) -> dict[str, str]:
    """Graded name -> reference body (dedented), pairing the solution's marked blocks with
    the template's ``raise NotImplementedError("<name>: ...")`` lines, in order."""
    solution = (REPO / "solutions" / f"{task}.py").read_text(encoding="utf-8").splitlines()
    blocks, current = [], None
    for line in solution:
        if line.strip() == "# BEGIN SOLUTION":
            current = []
        elif line.strip() == "# END SOLUTION":
            blocks.append(textwrap.dedent("\n".join(current)))
            current = None
        elif current is not None:
            current.append(line)
    names = re.findall(r'raise NotImplementedError\("([\w.]+): not implemented yet',
                       (REPO / "templates" / f"{task}_template.py").read_text(encoding="utf-8"))
    return dict(zip(names, blocks))


@dataclass
class Submission:
    student: str
    task: str
    source: str
    kind: str                   # "own", "template" or "copy"
    copy_of: str | None = None  # for a copy: the student copied
    disguise: str | None = None


def _own_line(rng: random.Random, names: list[str]) -> str:
    """A statement a student might add: a check, a debugging value, an intermediate result."""
    r1, r2, r3 = rng.randint(2, 999), rng.randint(2, 99), rng.randint(1, 9)
    word = rng.choice(WORDS)
    name = rng.choice(names) if names else "None"
    return rng.choice([
        f"assert {name} is not None, \"{word} {r1}\"",
        f"{word}_{r2} = {r1} * {r3}",
        f"if {r1} < {r2}:\n    print(\"{word}\", {r3})",
        f"{word}_limit = [{r1}, {r2}, {r3}]",
        f"_{word} = ({r1} + {r2}) / {r3}",
        f"history_{r3} = {{\"{word}\": {r1}, \"n\": {r2}}}",
        f"for _k in range({r3}):\n    {word}_{r2} = _k * {r1}",
    ])


def vary_body(body: str, rng: random.Random, extra_lines: float) -> str:
    """Insert statements of the student's own before some top-level lines of ``body``."""
    lines = textwrap.dedent(body).strip("\n").splitlines()
    names = sorted({n.id for n in ast.walk(_parse(body)) if isinstance(n, ast.Name)}) if _parse(body) else []
    out: list[str] = []
    depth = 0                  # open brackets: never insert inside a multi-line expression
    for line in lines:
        statement_start = depth == 0 and line and not line[0].isspace() and not line.startswith((")", "]", "}"))
        if statement_start and rng.random() < extra_lines:
            out.extend(_own_line(rng, names).splitlines())
        out.append(line)
        depth += sum(line.count(c) for c in "([{") - sum(line.count(c) for c in ")]}")
    varied = "\n".join(out)
    return varied if _parse(varied) is not None else body


def _parse(source: str):
    try:
        return ast.parse(textwrap.dedent(source))
    except SyntaxError:
        return None


def student_file(task: str, rng: random.Random) -> str:
    fx = fixtures()
    extra = ""
    if task == "task1":
        bodies = {}
        helpers: dict[str, str] = {}
        for name in ("relu", "prelu", "DNNforward", "DNNbackward", "train"):
            style = rng.choice(fx.TASK1)
            bodies[name] = style.bodies[name]
            if style.extra:
                helpers[style.id] = style.extra
        extra = "\n\n".join(textwrap.dedent(h).strip("\n") for h in helpers.values())
    elif task == "layers":
        style = rng.choice(fx.LAYERS)
        bodies, extra = dict(style.bodies), style.extra
    else:
        bodies = dict(solution_bodies(task))
    bodies = {name: vary_body(body, rng, extra_lines=rng.uniform(0.1, 0.5)) for name, body in bodies.items()}
    header = rng.choice(["", "", f"# {rng.choice(WORDS)} {rng.randint(1, 99)}\n", "# my solution\n"])
    source = fx.fill_template(task, bodies, extra, docstrings=rng.random() > 0.2, header=header)
    if rng.random() < 0.15:
        source = fx.reorder(source)
    if rng.random() < 0.5:
        source = fx.rename(source, fx.graded_names(task))
    return source


def make_class(students: int = 300, planted: int = 12, template_share: float = 0.04,
               seed: int = 14) -> list[Submission]:
    """``students`` students, each with every task file; ``planted`` of them copy one file."""
    rng = random.Random(seed)
    fx = fixtures()
    ids = [f"{2026000 + i:07d}" for i in range(students)]
    subs: dict[tuple[str, str], Submission] = {}
    for sid in ids:
        for task in TASKS:
            if rng.random() < template_share:
                subs[sid, task] = Submission(sid, task, fx.template_source(task), "template")
            else:
                subs[sid, task] = Submission(sid, task, student_file(task, rng), "own")
    disguises = list(fx.DISGUISES)
    copiers = rng.sample(ids, min(planted, students // 2))
    sources = [sid for sid in ids if sid not in copiers]
    for n, copier in enumerate(copiers):
        task = TASKS[n % len(TASKS)]
        source = rng.choice([sid for sid in sources if subs[sid, task].kind == "own"])
        disguise = disguises[n % len(disguises)]
        text = fx.DISGUISES[disguise](subs[source, task].source, task)
        subs[copier, task] = Submission(copier, task, text, "copy", source, disguise)
    return list(subs.values())


def write_class(submissions: list[Submission], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for s in submissions:
        (folder / f"{s.task}_{s.student}.py").write_text(s.source, encoding="utf-8")
    return folder
