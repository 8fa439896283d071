"""Self-check for students: the grader's visible checks, on your own file, before you submit.

In a notebook::

    from grader.selfcheck import check, check_all, warm_up
    warm_up()                    # optional: start loading PyTorch now
    check("task1.relu")          # one graded name
    check_all("task1")           # every graded name of task1

In a terminal::

    python -m grader check templates/task1_template.py

Your code runs in a separate process with the grader's time and memory limits, exactly
as when it is graded, so an infinite loop or a crash cannot take your notebook down. The
verdicts and messages are the grader's own; the grader also runs hidden inputs, so
passing here is necessary, not sufficient.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from .assignment import Assignment
from .discovery import MAX_FILE_BYTES, Student, SubmittedFile
from .naming import parse
from .notebook_source import notebook_to_source
from .packs import DEFAULT, load_pack
from .reference import TEMPLATES
from .results import NameResult, StudentResult
from .runner import Options, Runner
from .sandbox import start_forkserver


@dataclass
class SelfCheck:
    """The outcome of a self-check: one :class:`NameResult` per graded name checked.

    With ``validate_only`` (a data file, e.g. contest predictions, scored against labels
    students never see) it says whether the file is valid, and scores nothing.
    """

    path: Path
    names: list[NameResult] = field(default_factory=list)
    validate_only: bool = False
    notes: list[str] = field(default_factory=list)     # what the grader accepted or refused about the file
    sandbox: str = ""                                  # set when this machine lacks sandbox layers

    @property
    def score(self) -> float:
        return 0.0 if self.validate_only else sum(n.score for n in self.names)

    @property
    def max_score(self) -> float:
        return 0.0 if self.validate_only else sum(n.points for n in self.names)

    @property
    def valid(self) -> bool:
        """For a data file: every check found it valid."""
        return all(n.status == "passed" for n in self.names)

    def text(self, details: bool = True) -> str:
        if self.validate_only:
            lines = [f"Self-check of {self.path} (the file's format only; it is scored against hidden labels)"]
            lines += [f"  {name.key}: {_validity(name)}" for name in self.names]
            lines.append("The file is valid." if self.valid else "The file is not valid yet.")
            return "\n".join(lines)
        lines = [f"Self-check of {self.path} (visible checks; the grader also tries hidden inputs)"]
        if self.sandbox:
            lines.append("  " + self.sandbox)
        lines += [f"  note: {note}" for note in self.notes]
        width = max((len(n.key) for n in self.names), default=10)
        for name in self.names:
            lines.append(f"  {name.key:<{width}}  {name.score:>4g}/{name.points:<3g} {_verdict(name)}")
            if details and name.status not in ("passed", "not_implemented"):
                for part in name.parts:
                    if not part.passed:
                        lines.append(f"      - {part.label}: {part.message}")
                if name.detail:
                    lines.extend("      " + line.strip() for line in name.detail.strip().splitlines())
        lines.append(f"Visible checks: {self.score:g}/{self.max_score:g} points")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        if self.validate_only:
            rows = "".join(f"<li>{html.escape(_validity(name))}</li>" for name in self.names)
            verdict = "The file is valid." if self.valid else "The file is not valid yet."
            return (f"<p>Self-check of <code>{html.escape(str(self.path))}</code> (the file's format only; it is "
                    f"scored against hidden labels)</p><ul>{rows}</ul><p><b>{verdict}</b></p>")
        rows = []
        for name in self.names:
            colour = {"passed": "#e6f4ea", "partial": "#fff4e5"}.get(name.status, "#fdecea")
            parts = "".join(f"<li>{'&#10003;' if p.passed else '&#10007;'} {html.escape(p.label)}"
                            + ("" if p.passed else f": {html.escape(p.message)}") + "</li>" for p in name.parts)
            detail = f"<pre>{html.escape(name.detail)}</pre>" if name.detail else ""
            rows.append(f"<tr style='background:{colour}'><td><code>{html.escape(name.key)}</code></td>"
                        f"<td>{name.score:g}/{name.points:g}</td><td>{html.escape(_verdict(name))}"
                        f"<ul style='margin:0'>{parts}</ul>{detail}</td></tr>")
        return (f"<p>Self-check of <code>{html.escape(str(self.path))}</code> (visible checks)</p>"
                "<table><tr><th>graded name</th><th>points</th><th>result</th></tr>" + "".join(rows) +
                f"</table><p><b>Visible checks: {self.score:g}/{self.max_score:g} points</b></p>")


def _verdict(name: NameResult) -> str:
    if name.status == "passed":
        return "passed"
    if name.status == "not_implemented":
        return "not implemented yet (it raises NotImplementedError)"
    return f"{name.status}: {name.reason}" if name.reason else name.status


def _validity(name: NameResult) -> str:
    message = name.parts[0].message if name.status == "passed" and name.parts else name.reason
    return f"{'valid' if name.status == 'passed' else 'not valid'}: {message}"


class SelfCheckError(ValueError):
    """A mistake in how self-check was called (no such file, unknown name); one line for the user."""


def task_of(path: Path, assignment: Assignment) -> str:
    """Which task a file is, from names like task1_template.py, Task1_3180100111.py, task1.py or a notebook."""
    match = parse(Path(path).name, assignment, zip_owner="self-check")
    if match is None or match.task is None:
        raise SelfCheckError(f"cannot tell which task {Path(path).name} is; pass --task (or task=...), one of "
                             + ", ".join(f.task for f in assignment.files))
    return match.task


def check_file(path: str | Path, assignment: str = DEFAULT, name: str | None = None,
               task: str | None = None) -> SelfCheck:
    warm_up(assignment)     # a no-op when the notebook's setup cell did it
    pack = load_pack(assignment)
    path = Path(path)
    if not path.is_file():
        raise SelfCheckError(f"{path} " + ("is a folder, not a file" if path.is_dir() else "does not exist"))
    task = task or task_of(path, pack)
    if task not in [f.task for f in pack.files]:
        raise SelfCheckError(f"{task!r} is not a task of {pack.name}; one of " + ", ".join(f.task for f in pack.files))
    keys = [n.key for n in pack.file(task).names]
    if name is not None:
        if name not in keys:
            raise SelfCheckError(f"{name!r} is not graded in {task}; choose from {', '.join(keys)}")
        keys = [name]
    data_file = pack.file(task).kind == "data"
    if data_file:     # read no more than the limit: a larger file is reported as too large
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    else:
        data = path.read_bytes()
    if path.suffix.lower() == ".ipynb":
        data, problem = notebook_to_source(data)
        if data is None:
            raise SelfCheckError(f"{path.name}: {problem}")
    student = Student("self-check", {task: SubmittedFile(task, path.name, data)})
    results: list[StudentResult] = []
    runner = Runner(pack, runner_options(pack, keys))
    runner.grade([student], results.append)
    layers = runner.sandbox.layers if runner.sandbox is not None else None
    return SelfCheck(path, results[0].names if results else [], validate_only=data_file,
                     notes=results[0].problems if results else [],
                     sandbox=layers.line() if layers is not None and not layers.complete else "")


def runner_options(assignment: Assignment, keys: tuple[str, ...] | list[str] | None = None,
                   jobs: int = 1) -> Options:
    """How self-check runs the grader: visible cases only, solutions and tests off limits.

    ``keys`` restricts the graded names (None: all). Tests grade many files at once with
    these same options, so that what they prove holds for :func:`check_file`.
    """
    return Options(jobs=jobs, visible_only=True, only=tuple(keys) if keys is not None else None,
                   protected=(Path(assignment.solutions_dir), TEMPLATES.parent / "tests"), self_test=False)


def default_path(task: str, assignment: str = DEFAULT) -> Path:
    return TEMPLATES / load_pack(assignment).file(task).template


def check(name: str, path: str | Path | None = None, assignment: str = DEFAULT) -> SelfCheck:
    """Run the visible checks of one graded name, e.g. ``check("task1.relu")``."""
    task = name.split(".")[0]
    return check_file(path or default_path(task, assignment), assignment, name=name, task=task)


def warm_up(assignment: str = DEFAULT) -> None:
    """Get the checks ready now, so that the first check does not wait for them.

    Starts the process that runs the checks (it imports PyTorch and the checks in the
    background: one or two seconds) and loads the assignment's checks here, which imports
    PyTorch in this process too, at the same time. A notebook calls this in its setup
    cell; by the time the first check runs, both are ready. Checking works the same
    without it. The server starts first, so that its imports overlap with loading the
    pack here.
    """
    start_forkserver()
    load_pack(assignment)


def check_all(task: str, path: str | Path | None = None, assignment: str = DEFAULT) -> SelfCheck:
    """Run the visible checks of every graded name of a task file, e.g. ``check_all("task1")``."""
    return check_file(path or default_path(task, assignment), assignment, task=task)
