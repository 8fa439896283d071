"""Self-check for students: the grader's visible checks, on your own files, before you hand in.

In a notebook::

    from grader.selfcheck import check, check_all, hand_in, warm_up
    warm_up()                    # optional: start loading PyTorch now
    check("task1.relu")          # one graded name
    check_all("task1")           # every graded name of task1
    hand_in("task1")             # what to upload, and under which name

In a terminal::

    python -m grader check task1_3180100111.py        # one file, as you will hand it in
    python -m grader check 3180100111_assignment2.zip # every file of the zip
    python -m grader check --all my-folder/           # every task file of a folder

Your code runs in a separate process with the grader's time and memory limits, exactly
as when it is graded, so an infinite loop or a crash cannot take your notebook down. The
verdicts and messages are the grader's own; the grader also runs hidden inputs, so
passing here is necessary, not sufficient. From a terminal, ``check`` also says under
which name the grader will find the file (or that it will not), and exits with 1 when
a visible check fails, 0 when all pass.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.assignment import Assignment
from grader.grading.runner import Options, Runner
from grader.intake.discovery import MAX_FILE_BYTES, Student, SubmittedFile, discover
from grader.intake.naming import parse
from grader.judging.reference import TEMPLATES
from grader.judging.results import NameResult, PartResult, StudentResult, first_lines
from grader.notebook_source import notebook_to_source
from grader.packs import DEFAULT, PACKS, kit_settings, load_pack
from grader.sandbox import start_forkserver

INPUT_SUFFIX = re.compile(r"\s*\(input: .*\)$")  # "(input: x = [...]; 2 of 2 inputs fail)"
PRINTED_LINES = 8  # lines of the student's own prints shown under a graded name

# Plain words for a graded name's status (the grader's own are for the gradebook).
STATUS_WORDS = {
    "passed": "passed",
    "partial": "partly passed",
    "failed": "failed",
    "not_implemented": "not implemented yet (it raises NotImplementedError)",
    "missing": "not found in the file",
    "interface": "could not be run as written",
    "error": "could not be checked",
}


@dataclass
class SelfCheck:
    """The outcome of a self-check of one file: one :class:`NameResult` per graded name checked.

    With ``validate_only`` (a data file, e.g. contest predictions, scored against labels
    students never see) it says whether the file is valid, and scores nothing.
    """

    path: Path
    names: list[NameResult] = field(default_factory=list)
    validate_only: bool = False
    notes: list[str] = field(default_factory=list)  # what the grader accepted or refused about the file
    sandbox: str = ""  # set when this machine lacks sandbox layers
    task: str = ""

    @property
    def score(self) -> float:
        return 0.0 if self.validate_only else sum(n.score for n in self.names)

    @property
    def max_score(self) -> float:
        """The points self-check can judge: parts checked only when graded are left out."""
        return 0.0 if self.validate_only else sum(_checkable(n) for n in self.names)

    @property
    def graded_only(self) -> list[NameResult]:
        """The names with points that only grading judges (e.g. a numeric answer's value)."""
        return [n for n in self.names if any(p.only_when_graded for p in n.parts)]

    @property
    def valid(self) -> bool:
        """For a data file: every check found it valid."""
        return all(n.status == "passed" for n in self.names)

    @property
    def all_passed(self) -> bool:
        """Every visible check passed (for a data file: it is valid)."""
        if self.validate_only:
            return self.valid
        return all(
            p.passed or (p.only_when_graded and p.visible_passed is not False) for n in self.names for p in n.parts
        ) and bool(self.names)

    def text(self, details: bool = True, sandbox_line: bool = True) -> str:
        if self.validate_only:
            lines = [f"Self-check of {self.path} (the file's format only; it is scored against hidden labels)"]
            lines += [f"  {name.key}: {_validity(name)}" for name in self.names]
            lines.append("The file is valid." if self.valid else "The file is not valid yet.")
            return "\n".join(lines)
        what = f" as {self.task}" if self.task else ""
        lines = [f"Self-check of {self.path}{what} (visible inputs only; grading also tries hidden ones)"]
        if self.sandbox and sandbox_line:
            lines.append("  " + self.sandbox)
        lines += [f"  note: {note}" for note in _shown_notes(self)]
        whole_file = _file_level_reason(self.names)
        if whole_file:
            lines.append(f"  Every graded name of this file scores 0: {whole_file}")
        width = max((len(n.key) for n in self.names), default=10)
        for name in self.names:
            lines.append(f"  {name.key:<{width}}  {_points(name):>7} {'' if whole_file else _verdict(name)}".rstrip())
            if not details or whole_file:
                continue
            lines += ["      - " + cause for cause in _causes(name)]
            if name.detail and name.status != "not_implemented" and not _in_causes(name.detail, name):
                lines += ["      " + line.strip() for line in name.detail.strip().splitlines()]
            if name.output.strip():
                lines.append("      what your code printed:")
                lines += ["        " + line for line in first_lines(name.output.strip(), PRINTED_LINES).splitlines()]
        lines.append(self.total_line())
        return "\n".join(lines)

    def total_line(self, prefix: str = "Visible checks") -> str:
        later = self.graded_only
        points = sum(p.points for n in later for p in n.parts if p.only_when_graded)
        when = f"{', '.join(n.key for n in later)} ({points:g} points) are checked only when your file is graded"
        if later and not self.max_score:
            return f"{prefix}: nothing here is scored before grading; {when}"
        line = f"{prefix}: {self.score:g}/{self.max_score:g} points"
        return line + (f"; {when}" if later else "")

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__

    def _repr_html_(self) -> str:
        rows: str | list[str]  # the list items of a format check, or the table rows of a report
        if self.validate_only:
            rows = "".join(f"<li>{html.escape(_validity(name))}</li>" for name in self.names)
            verdict = "The file is valid." if self.valid else "The file is not valid yet."
            return (
                f"<p>Self-check of <code>{html.escape(str(self.path))}</code> (the file's format only; it is "
                f"scored against hidden labels)</p><ul>{rows}</ul><p><b>{verdict}</b></p>"
            )
        head = [f"<p>Self-check of <code>{html.escape(str(self.path))}</code> (visible inputs only)</p>"]
        head += [f"<p>{html.escape(note)}</p>" for note in [self.sandbox, *_shown_notes(self)] if note]
        whole_file = _file_level_reason(self.names)
        if whole_file:
            head.append(f"<p><b>Every graded name of this file scores 0:</b> {html.escape(whole_file)}</p>")
        rows = []
        for name in self.names:
            colour = {"passed": "#e6f4ea", "partial": "#fff4e5"}.get(name.status, "#fdecea")
            if all(p.passed or p.only_when_graded for p in name.parts) and name.status != "passed":
                colour = "#eef3fb"
            causes = [] if whole_file else _causes(name)
            items = "".join(f"<li>{html.escape(cause)}</li>" for cause in causes)
            printed = (
                f"<details><summary>what your code printed</summary><pre>"
                f"{html.escape(first_lines(name.output.strip(), PRINTED_LINES))}</pre></details>"
                if name.output.strip() and not whole_file
                else ""
            )
            detail = (
                f"<pre>{html.escape(name.detail)}</pre>"
                if name.detail and not whole_file and not _in_causes(name.detail, name)
                else ""
            )
            rows.append(
                f"<tr style='background:{colour}'><td><code>{html.escape(name.key)}</code></td>"
                f"<td>{html.escape(_points(name))}</td><td>{html.escape('' if whole_file else _verdict(name))}"
                f"<ul style='margin:0'>{items}</ul>{detail}{printed}</td></tr>"
            )
        return (
            "".join(head)
            + "<table><tr><th>graded name</th><th>points</th><th>result</th></tr>"
            + "".join(rows)
            + f"</table><p><b>{html.escape(self.total_line())}</b></p>"
        )


def _checkable(name: NameResult) -> float:
    return sum(p.points for p in name.parts if not p.only_when_graded)


def _points(name: NameResult) -> str:
    checkable = _checkable(name)
    if not checkable and name.parts:
        return f"-/{name.points:g}"
    return f"{name.score:g}/{checkable:g}"


def _verdict(name: NameResult) -> str:
    judged = [p for p in name.parts if not p.only_when_graded]
    later = [p for p in name.parts if p.only_when_graded and p.visible_passed is not False]
    if (
        later
        and all(p.passed for p in judged)
        and not any(p.only_when_graded and p.visible_passed is False for p in name.parts)
    ):
        return later[0].message
    return STATUS_WORDS.get(name.status, name.status)


def _causes(name: NameResult) -> list[str]:
    """One line per distinct reason among the parts that did not pass: "part; part: reason"."""
    if name.status == "not_implemented":
        return []
    groups: dict[str, tuple[str, list[str]]] = {}
    for part in name.parts:
        if _failed(part):
            # Parts that fail for the same reason on different first inputs share one line.
            reason = INPUT_SUFFIX.sub("", part.message)
            groups.setdefault(reason, (part.message, []))[1].append(part.label)
    return [f"{'; '.join(labels)}: {message}" for message, labels in groups.values()]


def _failed(part: PartResult) -> bool:
    if part.only_when_graded:
        return part.visible_passed is False
    return not part.passed


def _in_causes(detail: str, name: NameResult) -> bool:
    """The traceback's lines already stand in a reason (the grader quotes the failing line)."""
    text = " ".join(_causes(name))
    return all(line.strip() in text for line in detail.strip().splitlines() if line.strip())


def _file_level_reason(names: list[NameResult]) -> str | None:
    """The one reason every name of the file lost all its points for (a forbidden import, a
    syntax error), said once instead of once per part."""
    if len(names) < 2 or any(n.score or n.status not in ("interface", "failed", "error") for n in names):
        return None
    messages = {p.message for n in names for p in n.parts}
    return messages.pop() if len(messages) == 1 else None


def _shown_notes(report: SelfCheck) -> list[str]:
    """The file's notes, less those a reason below already says (a refused write is both)."""
    reasons = " ".join(p.message for n in report.names for p in n.parts)
    shown = []
    for note in report.notes:
        refused = note.split("refused while grading: ", 1)
        if len(refused) == 2 and all(item in reasons for item in refused[1].split("; ")):
            continue
        shown.append(note)
    return shown


def _validity(name: NameResult) -> str:
    message = name.parts[0].message if name.status == "passed" and name.parts else name.reason
    return f"{'valid' if name.status == 'passed' else 'not valid'}: {message}"


class SelfCheckError(ValueError):
    """A mistake in how self-check was called (no such file, unknown name); one line for the user."""


def task_of(path: Path, assignment: Assignment) -> str:
    """Which task a file is, from names like task1_template.py, Task1_3180100111.py, task1.py or a notebook."""
    match = parse(Path(path).name, assignment, zip_owner="self-check")
    if match is None or match.task is None:
        raise SelfCheckError(
            f"cannot tell which task {Path(path).name} is; pass --task (or task=...), one of "
            + ", ".join(f.task for f in assignment.files)
            + _other_pack_hint(path, assignment)
        )
    return match.task


def _other_pack_hint(path: Path, assignment: Assignment) -> str:
    """Where a file's name belongs to another assignment: which --assignment to pass."""
    for other in PACKS:
        if other == assignment.name:
            continue
        try:
            pack = load_pack(other)
        except (ImportError, KeyError):
            continue
        match = parse(Path(path).name, pack, zip_owner="self-check")
        if match is not None and (match.task or match.kind == "zip"):
            return f" (it looks like a file of {other}: add --assignment {other})"
    return ""


def _read(path: Path, kind: str) -> bytes:
    """A task file's bytes as the grader takes them: a notebook's code cells, a data file's
    first bytes up to the limit (a larger file is reported as too large)."""
    if kind == "data":
        with open(path, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1)
    data: bytes | None  # None: the notebook could not be read
    data = path.read_bytes()
    if path.suffix.lower() == ".ipynb":
        data, problem = notebook_to_source(data)
        if data is None:
            raise SelfCheckError(f"{path.name}: {problem}")
    return data


def check_file(
    path: str | Path, assignment: str = DEFAULT, name: str | None = None, task: str | None = None
) -> SelfCheck:
    """Run the visible checks on one task file (``.py``, a notebook, or a data file)."""
    pack = load_pack(assignment)
    path = Path(path)
    if not path.is_file():
        raise SelfCheckError(f"{path} " + ("is a folder, not a file" if path.is_dir() else "does not exist"))
    if path.suffix.lower() == ".zip":
        raise SelfCheckError(
            f"{path.name} is a zip: check it with `python -m grader check {path}` (or check_handin in a notebook)"
        )
    task = task or task_of(path, pack)
    data = _read(path, pack.file(task).kind) if task in [f.task for f in pack.files] else b""
    return _check_data(pack, task, SubmittedFile(task or "", path.name, data), path, name)


def _check_data(
    pack: Assignment, task: str, submitted: SubmittedFile, shown_as: Path, name: str | None = None
) -> SelfCheck:
    warm_up(pack.name)  # a no-op when the notebook's setup cell did it
    if task not in [f.task for f in pack.files]:
        raise SelfCheckError(f"{task!r} is not a task of {pack.name}; one of " + ", ".join(f.task for f in pack.files))
    keys = [n.key for n in pack.file(task).names]
    if name is not None:
        if name not in keys:
            raise SelfCheckError(f"{name!r} is not graded in {task}; choose from {', '.join(keys)}")
        keys = [name]
    student = Student("self-check", {task: submitted})
    results: list[StudentResult] = []
    runner = Runner(pack, runner_options(pack, keys))
    runner.grade([student], results.append)
    layers = runner.sandbox.layers if runner.sandbox is not None else None
    return SelfCheck(
        shown_as,
        results[0].names if results else [],
        validate_only=pack.file(task).kind == "data",
        notes=results[0].problems if results else [],
        sandbox=_not_the_grading_sandbox(layers),
        task=task,
    )


def _not_the_grading_sandbox(layers) -> str:
    """The sandbox line when this machine lacks layers the grading machine has ("" when none)."""
    if layers is None or layers.complete:
        return ""
    return layers.line()


def runner_options(assignment: Assignment, keys: tuple[str, ...] | list[str] | None = None, jobs: int = 1) -> Options:
    """How self-check runs the grader: visible cases only, solutions and tests off limits.

    ``keys`` restricts the graded names (None: all). Tests grade many files at once with
    these same options, so that what they prove holds for :func:`check_file`.
    """
    return Options(
        jobs=jobs,
        visible_only=True,
        only=tuple(keys) if keys is not None else None,
        protected=(Path(assignment.solutions_dir), TEMPLATES.parent / "tests"),
        self_test=False,
    )


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


# --- checking what you hand in -------------------------------------------------------------


def hand_in_text(pack: Assignment, task: str | None = None, where: str | None = None) -> str:
    """What to upload and how to name it, in a few lines (the kit's README, notebooks, check).

    ``where``: where students upload, in the course's words; by default what the student kit
    was built with, else the pack's ``hand_in`` setting."""
    where = where if where is not None else kit_settings().get("hand_in", pack.hand_in)
    where = where or "where your course says"
    if task is not None:
        one = pack.file(task)
        what = f"Hand in this file as {one.task}_<your student id>{one.suffix} (e.g. {one.task}_3180100111{one.suffix})"
    else:
        names = ", ".join(f"{f.task}_<id>{f.suffix}" for f in pack.files)
        what = (
            f"Hand in your files named {names}, with your student id for <id> (e.g. "
            f"{pack.files[0].task}_3180100111{pack.files[0].suffix})"
        )
    flag = "" if pack.name == DEFAULT else f" --assignment {pack.name}"
    together = "with your other files" if task is not None else "all of them"
    return (
        f"{what}, or {together} in one zip named <id>_{pack.name}.zip; upload to {where}.\n"
        f"Before you upload, check the very file or zip: python -m grader check <file or zip>{flag}"
    )


@dataclass
class HandInCheck:
    """Self-check of what a student will upload: where the grader finds each file, and its checks."""

    path: Path
    assignment: Assignment
    placement: list[str] = field(default_factory=list)  # how the grader reads the names, one line each
    files: list[SelfCheck] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # tasks the hand-in has no file for
    names_ok: bool = True  # the grader finds every file under its name
    pending: list[tuple[str, SubmittedFile, Path]] = field(default_factory=list, repr=False)  # still to check

    @property
    def score(self) -> float:
        return sum(f.score for f in self.files)

    @property
    def max_score(self) -> float:
        return sum(f.max_score for f in self.files)

    @property
    def all_passed(self) -> bool:
        return bool(self.files) and all(f.all_passed for f in self.files) and not self.missing

    @property
    def exit_code(self) -> int:
        """0 when every visible check passed, 1 otherwise (for scripts)."""
        return 0 if self.all_passed else 1

    def text(self) -> str:
        lines = [f"How the grader reads {self.path}:"]
        lines += ["  " + line for line in self.placement]
        sandbox = next((f.sandbox for f in self.files if f.sandbox), "")
        if sandbox:
            lines.append("Note: " + sandbox)
        for report in self.files:
            lines += ["", report.text(sandbox_line=False)]
        if len(self.files) > 1 or self.missing:
            total = f"Visible checks, every file: {self.score:g}/{self.max_score:g} points"
            if self.missing:
                points = sum(self.assignment.file(t).points for t in self.missing)
                total += f"; no file for {', '.join(self.missing)} ({points:g} points)"
            lines += ["", total]
        if not self.names_ok:
            single = self.files[0].task if len(self.files) == 1 and self.path.suffix.lower() != ".zip" else None
            lines += ["", hand_in_text(self.assignment, single)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    __repr__ = __str__


def check_path(
    path: str | Path,
    assignment: str = DEFAULT,
    task: str | None = None,
    name: str | None = None,
    all_tasks: bool = False,
) -> HandInCheck:
    """Self-check a file, a zip or (with ``all_tasks``) a folder, as the grader will read it.

    The grader's own discovery reads the name: which student and which task it is tied
    to, and what is wrong with the name. Every task file found is then checked.
    """
    result = read_hand_in(path, assignment, task, all_tasks)
    pack = result.assignment
    if name is not None and task is None:
        task = name.split(".")[0]
    for task_name, submitted, shown in result.pending:
        if task is None or task_name == task:
            result.files.append(_check_data(pack, task_name, submitted, shown, name))
    if task is None and (result.path.suffix.lower() == ".zip" or result.path.is_dir()):
        checked = {f.task for f in result.files}
        result.missing = [f.task for f in pack.files if f.task not in checked]
    if not result.files:
        raise SelfCheckError(" ".join(result.placement) or f"no file of {pack.name} found in {result.path}")
    return result


def read_hand_in(
    path: str | Path, assignment: str = DEFAULT, task: str | None = None, all_tasks: bool = False
) -> HandInCheck:
    """How the grader reads a file, a zip or a folder: which student and tasks; nothing run yet."""
    pack = load_pack(assignment)
    path = Path(path)
    if not path.exists():
        raise SelfCheckError(f"{path} does not exist")
    if path.is_dir() and not all_tasks:
        raise SelfCheckError(f"{path} is a folder: add --all to check every task file in it")
    result = HandInCheck(path, pack)
    if path.is_dir():
        _place_folder(result, discover(path, pack), path)
    else:
        with tempfile.TemporaryDirectory(prefix="selfcheck-") as folder:
            shutil.copyfile(path, Path(folder) / path.name)
            found = discover(Path(folder), pack)
        _place_file(result, found, path, task)
    return result


def _place_file(result: HandInCheck, found, path: Path, task: str | None) -> None:
    pack = result.assignment
    students = [s for s in found.students.values() if s.files or s.blocked]
    if path.suffix.lower() == ".zip":
        if not students:
            result.names_ok = False
            result.placement += found.problems or [f"{path.name}: the grader finds no file of {pack.name} in it"]
            return
        _place_student(result, students[0], path)
        return
    if students:
        student = students[0]
        submitted = next(iter(student.files.values()))
        faults = [p for p in student.problems if p.startswith(path.name)]
        if faults:
            result.names_ok = False
            result.placement += [p.split(": ", 1)[1] if ": " in p else p for p in faults]
        else:
            result.placement.append(
                f"{path.name} is {submitted.task} of student {student.id}: named as the grader wants"
            )
        result.pending.append((submitted.task, SubmittedFile(submitted.task, path.name, submitted.data), path))
        return
    result.names_ok = False
    result.placement += [
        p.replace(f"{path.name}: ", f"{path.name}: the grader will not find it: ", 1) for p in found.problems
    ] or [f"{path.name}: the grader will not find it"]
    try:
        task = task or task_of(path, pack)
    except SelfCheckError:
        if task is None:
            raise SelfCheckError(
                " ".join(result.placement)
                + "; to check its code anyway, pass --task "
                + "|".join(f.task for f in pack.files)
                + _other_pack_hint(path, pack)
            ) from None
    if task not in [f.task for f in pack.files]:
        raise SelfCheckError(f"{task!r} is not a task of {pack.name}; one of " + ", ".join(f.task for f in pack.files))
    data = _read(path, pack.file(task).kind)
    result.pending.append((task, SubmittedFile(task, path.name, data), path))


def _place_student(result: HandInCheck, student: Student, shown: Path) -> None:
    result.placement.append(f"the files of student {student.id}:")
    for task_file in result.assignment.files:
        submitted = student.files.get(task_file.task)
        if submitted is not None:
            result.placement.append(f"  {task_file.task}: {submitted.origin}")
            result.pending.append((task_file.task, submitted, Path(submitted.origin)))
        elif task_file.task in student.blocked:
            result.names_ok = False
            result.placement.append(f"  {task_file.task}: not graded: {student.blocked[task_file.task]}")
    for problem in student.problems:
        result.names_ok = False
        result.placement.append("  " + problem)


def _place_folder(result: HandInCheck, found, folder: Path) -> None:
    pack = result.assignment
    students = [s for s in found.students.values() if s.files or s.blocked]
    if len(students) > 1:
        raise SelfCheckError(
            f"{folder} holds files of several students ({', '.join(s.id for s in students)}); "
            "check one student's files at a time"
        )
    if students:
        _place_student(result, students[0], folder)
    result.placement += found.problems
    if found.problems:
        result.names_ok = False
    if students:
        return
    # Nothing tied to a student (e.g. templates/ with the templates' names): check each task
    # file anyway, and say that its name must change before it is handed in.
    for path in sorted(folder.iterdir()):
        match = parse(path.name, pack, zip_owner="self-check") if path.is_file() else None
        if match is not None and match.task is not None:
            data = _read(path, pack.file(match.task).kind)
            result.pending.append((match.task, SubmittedFile(match.task, path.name, data), path))


def hand_in(task: str | None = None, path: str | Path | None = None, assignment: str = DEFAULT) -> None:
    """Print what to upload and, given a file or zip, how the grader reads it (for notebooks)."""
    pack = load_pack(assignment)
    print(hand_in_text(pack, task))
    if path is not None and Path(path).exists():
        found_in = read_hand_in(path, assignment, task, all_tasks=Path(path).is_dir())
        print()
        print("\n".join([f"How the grader reads {Path(path).name}:"] + ["  " + p for p in found_in.placement]))
