"""The declarative description of an assignment pack.

An assignment is data plus checks (DESIGN.md, principle 2): which files students hand in,
which names in each file are graded, their points and signatures, which imports are
allowed, and for every graded name a :class:`Check` that knows how to exercise it.
Nothing else in the grader knows about a particular assignment.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grader.sandbox.imports import FORBIDDEN_STDLIB, STDLIB, ImportRule  # noqa: F401 - re-exported


def _hidden_seed() -> int | None:
    """The seed hidden inputs are drawn from, or None where the grader does not have it.

    A course can change it per term (environment variable ``GRADER_HIDDEN_SEED``) without
    touching code; otherwise it comes from ``grader/hidden_seed.py``, which the student kit
    leaves out, so that a student's copy of the grader cannot produce the hidden inputs.
    Visible inputs never depend on it.
    """
    if os.environ.get("GRADER_HIDDEN_SEED"):
        return int(os.environ["GRADER_HIDDEN_SEED"])
    try:
        from grader.hidden_seed import SEED
    except ImportError:
        return None
    return SEED


HIDDEN_SEED = _hidden_seed()


@dataclass(frozen=True)
class Case:
    """One input a check feeds to the student's code.

    ``inputs`` is plain data (numbers, numpy arrays, lists, dicts) that is sent to the
    child process. ``visible`` cases are the ones self-check runs; the grader runs all.
    ``parts`` names the rubric parts this case provides evidence for.
    """

    id: str
    parts: tuple[str, ...]
    visible: bool
    inputs: Any
    label: str


@dataclass(frozen=True)
class Credit:
    """A verdict worth a share of a rubric part's points, for checks that score on a scale.

    ``fraction`` (0 to 1) of the part's points are earned; ``message`` says why and is
    kept even at full credit; ``metrics`` are numbers the check measured (an accuracy, a
    count of rows), stored with the result for reports such as a leaderboard.
    """

    fraction: float
    message: str
    metrics: Mapping[str, float] = field(default_factory=dict)


class SettingError(ValueError):
    """A grading run lacks a setting a check needs (or has one no check uses)."""


MiB = 1024**2


class Check:
    """How one graded name is exercised and judged.

    A check is grader-side code: it lives in the grader's own process and is never loaded
    into a child that runs student code. Its three halves live in three places:

    * ``cases()`` and ``judge()`` here, in the pack's check module: the inputs (plain
      data, sent to the child when this name's turn comes; ``visible`` cases are the ones
      self-check runs) and the verdict per rubric part (``None`` for a pass, a one-line
      reason, or a :class:`Credit` for a share of the part's points);
    * the probe, in the pack's ``probes.py`` (child side, :mod:`grader.probing`): calls the
      student's code on one case's inputs and returns plain data;
    * ``reference()``: the expected result, computed from the pack's ``references.py`` or
      the reference solution. Computed once per batch; the student kit has neither, and
      looks the visible cases' references up in ``visible_references.bin`` instead.

    ``stand_ins`` names other definitions of the student's file that the probe replaces
    with reference versions, so that one bug costs one name (``train`` runs with the
    reference ``DNNforward``): name in the student's file -> where the reference version
    comes from, ``"references"`` (the pack's references.py) or ``"solution"`` (the task's
    reference solution). They reach the child only when this name's turn comes, after the
    grader has stopped listening about every name before it; so a stand-in may replace
    only names graded earlier in the file (:func:`check_points` enforces it).
    """

    parts: Mapping[str, float] = {}
    settings: frozenset[str] = frozenset()  # run settings this check reads in configure()
    stand_ins: Mapping[str, str] = {}
    # Parts that self-check cannot judge without giving the answer away (a numeric answer's
    # value): their visible cases check only the form, and self-check counts their points as
    # "checked only when graded" instead of passing them. Every other part has a visible
    # case that a typical wrong implementation fails (tests/test_visible_predicts.py).
    graded_only: frozenset[str] = frozenset()
    # The most one case's result may hold; a larger result is refused in the child, with
    # a one-line reason, so the grader never receives (or holds) more than its check can use.
    output_limit: int = 16 * MiB

    def configure(self, settings: Mapping[str, Any]) -> Check:
        """This check as one grading run needs it, e.g. with a hidden labels file the TA gives.

        Called in the grader's process only, never in a child. The default is the check
        itself; a check that needs a setting raises :class:`SettingError` without it.
        """
        return self

    def cases(self) -> list[Case]:
        raise NotImplementedError

    def reference(self, case: Case) -> Any:
        """Expected result for ``case``; computed once per batch and cached by the runner."""
        return None

    def judge(self, case: Case, output: Any, reference: Any) -> Mapping[str, Any]:
        """Map each part of ``case.parts`` to ``None`` (pass), a one-line reason, or a Credit."""
        raise NotImplementedError


@dataclass(frozen=True)
class Signature:
    """A parameter list as the contract states it, e.g. ``(X, y, params, lr=0.1, epochs=100)``."""

    text: str

    @property
    def params(self) -> tuple[tuple[str, str | None], ...]:
        """((name, default source or None), ...) parsed from :attr:`text`."""
        return parse_params(self.text)


def parse_params(text: str) -> tuple[tuple[str, str | None], ...]:
    tree = ast.parse(f"def _f{text}: pass")
    return params_of(tree.body[0])  # type: ignore[arg-type]


def params_of(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[tuple[str, str | None], ...]:
    """The parameters of a ``def`` as ((name, default or None), ...); *args/**kwargs marked."""
    args = node.args
    positional = list(args.posonlyargs) + list(args.args)
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    result = [(a.arg, _unparse(d)) for a, d in zip(positional, defaults)]
    if args.posonlyargs:
        result.insert(len(args.posonlyargs), ("/", None))
    if args.vararg:
        result.append(("*" + args.vararg.arg, None))
    elif args.kwonlyargs:
        result.append(("*", None))
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        result.append((a.arg, _unparse(d)))
    if args.kwarg:
        result.append(("**" + args.kwarg.arg, None))
    return tuple(result)


def _unparse(node: ast.expr | None) -> str | None:
    if node is None:
        return None
    try:
        # Normalise literals so that 0.1 and .1, 'cpu' and "cpu" compare equal.
        return repr(ast.literal_eval(node))
    except (ValueError, SyntaxError):
        return ast.unparse(node)


@dataclass(frozen=True)
class GradedName:
    """One graded function, class, method or module-level value.

    ``path`` is the dotted name inside the file: ``relu``, ``Residual``,
    ``Conv1D.forward``, ``Q1``. ``signature`` is the parameter list of the function, of
    the method, or of the class's ``__init__``; ``None`` means the name is a value bound
    at the top level of the file (a numeric answer, say), which has no parameters.
    ``requires`` lists further definitions the name depends on (e.g. the ``__init__`` of
    the class a graded method belongs to), each as (path, signature text); a mismatch
    there costs this name too.
    """

    task: str
    path: str
    points: float
    signature: Signature | None
    check: Check
    timeout: float = 20.0
    requires: tuple[tuple[str, str], ...] = ()
    # Graded names this one cannot run without (backward needs the student's own forward):
    # when both lose points, this name's feedback says the other failed first. Names that
    # can run with a reference version of another name use that instead (one bug, one loss).
    after: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.task}.{self.path}"

    @property
    def kind(self) -> str:
        if self.signature is None:
            return "value"
        if "." in self.path:
            return "method"
        return "class" if self.path[:1].isupper() else "function"


@dataclass(frozen=True)
class TaskFile:
    """One file students hand in, e.g. ``task1_<id>.py``.

    ``kind`` is "code" (a Python file: checked statically, imported in a child, its names
    probed) or "data" (e.g. ``predictions_<id>.csv``: never run; in the child each check's
    probe gets the file's bytes and parses them; no template is generated and no
    reference solution exists for it). ``suffix`` is the file's extension.
    """

    task: str
    template: str  # file name in templates/, e.g. task1_template.py
    solution: str  # file name in solutions/, e.g. task1.py ("" for data files)
    names: tuple[GradedName, ...]
    allowed_packages: frozenset[str]  # third-party top-level packages, e.g. {"numpy"}
    allow_stdlib: bool = True
    import_timeout: float = 20.0
    kind: str = "code"  # "code" or "data"
    suffix: str = ".py"

    @property
    def points(self) -> float:
        return sum(n.points for n in self.names)

    @property
    def imports(self) -> ImportRule:
        return ImportRule(frozenset(self.allowed_packages), self.allow_stdlib)

    def import_allowed(self, module: str) -> bool:
        return self.imports.allows(module)


@dataclass(frozen=True)
class Assignment:
    """A pack: its files and how submissions are named."""

    name: str
    title: str
    files: tuple[TaskFile, ...]
    solutions_dir: str
    templates_dir: str
    id_pattern: str = r"[A-Za-z0-9]+"
    seed: int = 2026
    notes: Mapping[str, str] = field(default_factory=dict)  # task -> a paragraph for students (the kit's page)
    naming: str = "lenient"  # "strict": only exact file names are graded (a run may override)
    interface: str = "compatible"  # "strict": any change to a parameter list costs the name (ditto)
    # Where students upload their files, in the course's words (e.g. "Canvas, Assignments >
    # Assignment 2"): the student kit's README, the notebooks and `check` repeat it.
    hand_in: str = ""

    @property
    def points(self) -> float:
        return sum(f.points for f in self.files)

    @property
    def names(self) -> tuple[GradedName, ...]:
        return tuple(n for f in self.files for n in f.names)

    @property
    def settings_read(self) -> frozenset[str]:
        """The run settings some check of this pack reads (e.g. ``labels``)."""
        return frozenset(s for n in self.names for s in n.check.settings)

    def file(self, task: str) -> TaskFile:
        for f in self.files:
            if f.task == task:
                return f
        raise KeyError(task)

    def graded(self, key: str) -> GradedName:
        for n in self.names:
            if n.key == key:
                return n
        raise KeyError(f"{key!r} is not a graded name of {self.name}; known: {', '.join(n.key for n in self.names)}")

    @property
    def zip_pattern(self) -> re.Pattern[str]:
        return re.compile(rf"^(?P<id>{self.id_pattern})_{re.escape(self.name)}\.zip$")

    def file_pattern(self, task: TaskFile) -> re.Pattern[str]:
        return re.compile(rf"^{re.escape(task.task)}_(?P<id>{self.id_pattern}){re.escape(task.suffix)}$")


def configured(
    assignment: Assignment, settings: Mapping[str, Any], keys: Sequence[str] | None = None, skip: Collection[str] = ()
) -> Assignment:
    """The assignment with each check configured for one grading run (see :meth:`Check.configure`).

    ``keys`` limits this to the graded names that will run (None: all); ``skip`` names graded
    names that will never be judged (no student handed in their file). A setting that no
    graded name reads is an error, so a mistyped or misplaced option is not ignored.
    """
    unused = sorted(set(settings) - assignment.settings_read)
    if unused:
        raise SettingError(f"{assignment.name} has no graded name that uses {', '.join(unused)}")

    def configure(name: GradedName) -> GradedName:
        if (keys is not None and name.key not in keys) or name.key in skip:
            return name
        return dataclasses.replace(name, check=name.check.configure(settings))

    files = tuple(dataclasses.replace(f, names=tuple(configure(n) for n in f.names)) for f in assignment.files)
    return dataclasses.replace(assignment, files=files)


def check_points(assignment: Assignment) -> None:
    """Raise on a declaration bug: parts that do not add up to a name's points, or a
    stand-in for a graded name that is not graded before the name that uses it."""
    for name in assignment.names:
        total = sum(name.check.parts.values())
        if abs(total - name.points) > 1e-9:
            raise ValueError(f"{name.key}: parts add up to {total}, declared {name.points}")
    for task in assignment.files:
        order = [n.path for n in task.names]
        for position, name in enumerate(task.names):
            for stand_in, source in name.check.stand_ins.items():
                if source not in ("references", "solution"):
                    raise ValueError(
                        f"{name.key}: the stand-in {stand_in} comes from {source!r}; use 'references' or 'solution'"
                    )
                answered = [p for p in order if p == stand_in or p.startswith(stand_in + ".")]
                if any(order.index(p) >= position for p in answered):
                    raise ValueError(
                        f"{name.key}: its stand-in {stand_in} answers {task.task}.{answered[0]}, "
                        "which must be graded before it (a stand-in reaches the child only after "
                        "every name it could answer is done)"
                    )


def names_by_task(names: Sequence[GradedName]) -> dict[str, list[GradedName]]:
    out: dict[str, list[GradedName]] = {}
    for n in names:
        out.setdefault(n.task, []).append(n)
    return out
