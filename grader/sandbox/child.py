"""What runs inside a child process, next to student code.

The child is forked from a warm forkserver that has already imported numpy, torch and
every pack's probes (the child side only: :mod:`grader.probing`). Before it touches a
byte of the student's file it puts up the sandbox (:mod:`.enter`: nothing inherited, its
own scratch copy, filesystem, network, private scratch space, signals, system calls,
limits); then it captures output, seeds the generators, arms the audit hook
(:mod:`.audit`), imports the student's file, and grades its names one at a time.

The child holds no answers. Its job names the graded names and nothing more; a name's
inputs, and the stand-ins its probe runs with (reference versions of names graded
earlier, for one bug, one loss), come from the parent only when that name's turn comes:
the child sends ``("start", key)`` and the parent answers with the name's turn on a
channel of its own. By then the parent accepts nothing more about the names before it,
so a stand-in that could answer one of them arrives too late to be of use to it.

Nothing here decides a score. The parent judges; the worst a student can do by
tampering with this process is to misreport their own outputs.
"""

from __future__ import annotations

import errno
import io
import os
import random
import signal
import sys
import time
import traceback
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grader import wire
from grader.notebook_source import position
from grader.sandbox.audit import AuditPolicy, SandboxViolation
from grader.sandbox.enter import enter
from grader.sandbox.imports import ImportRule
from grader.sandbox.limits import Limits

# Messages are tuples whose first item names them:
#   ("sandbox", layer report dict)               the kernel layers this child got
#   ("refused", missing layer names)             a required layer is missing: no student code ran
#   ("imported", error | None, stdout, violations, skipped)   skipped: [(line, description)] of the
#                                                top-level statements that raised or ran too long
#   ("start", key)                                the child is ready for this name's turn
#   ("case", key, case_id, output | None, error | None, stdout, seconds, violations)
#   ("end",)
# where error is a dict with "kind", "message" and "trace". The parent answers each "start"
# on the child's inbox with
#   ("turn", key, [(case_id, inputs, output_limit)], [(label, stand-in source, names)])
# Both directions carry plain data only (grader.wire): no class crosses either way.


@dataclass
class JobSpec:
    """Everything a child needs; built by the parent, pickled to the child."""

    probes: str  # the module of the pack's probes, e.g. grader.packs.assignment2.probes
    task: str
    kind: str  # "code" (imported) or "data" (its bytes go to the probes)
    imports: ImportRule  # what the student's code may import
    module_path: str  # the student's file, staged in the scratch dir
    display_name: str  # the file's name as the student knows it
    names: list[str]  # graded keys to run, in order (their inputs come turn by turn)
    seed: int
    limits: Limits
    scratch: str
    cpu_seconds: int
    uid: int | None = None  # drop to this uid (only when started as root)
    protected: list[str] = field(default_factory=list)  # folders the child may not open
    required: tuple[str, ...] = ()  # kernel layers without which no student code may run
    kernel_layers: bool = True  # False only with --sandbox off (benchmarks)
    skip_failing_statements: bool = True  # a top-level statement that raises is skipped (False: --interface strict)
    top_level_seconds: float = 10.0  # wall time for all top-level statements; one still running then is stopped
    skip_lines: tuple[int, ...] = ()  # top-level statements (by first line) not to run: those an earlier child
    # of this file skipped, so that a resumed child does not wait for them again


class _BoundedText(io.TextIOBase):
    """A stdout replacement that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        room = self.limit - self._kept
        if room > 0:
            piece = text[:room]
            self._parts.append(piece)
            self._kept += len(piece)
        self._dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def flush(self) -> None:
        pass

    def take(self) -> str:
        text = "".join(self._parts)
        if self._dropped:
            text += f"\n[... {self._dropped} more characters of output not kept]"
        self._parts, self._kept, self._dropped = [], 0, 0
        return text


def child_main(conn: Any, inbox: Any, job: JobSpec) -> None:
    """Entry point of the child process (a multiprocessing target): results go out on
    ``conn``, each name's turn comes in on ``inbox``."""
    try:
        _run(conn, inbox, job)
    except BaseException:  # noqa: BLE001 - last resort: report and die
        try:
            conn.send_bytes(wire.dumps(("fatal", traceback.format_exc()[-2000:])))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(0)


def _run(conn: Any, inbox: Any, job: JobSpec) -> None:
    import importlib

    from grader.probing import ProbeError, probes_of

    importlib.import_module(job.probes)  # already imported in the forkserver
    probes = probes_of(job.probes)

    report = enter(
        job.scratch,
        {conn.fileno(), inbox.fileno()},
        job.protected,
        job.uid,
        job.limits,
        job.cpu_seconds,
        kernel_layers=job.kernel_layers,
        module_path=job.module_path,
    )
    send = _sender(conn)
    send(("sandbox", report.to_dict()))
    refused = [name for name in job.required if name in report.missing]
    if refused:
        send(("refused", refused))
        return

    capture = _BoundedText(job.limits.output_per_case)
    violations: list[str] = []
    _capture_output(capture)
    _seed(job.seed)
    sys.dont_write_bytecode = True
    import torch

    if torch.get_num_threads() != 1:  # a forkserver child has it already; setting it costs 0.6 ms
        torch.set_num_threads(1)

    hook = AuditPolicy(job, job.imports.allows, violations)
    sys.addaudithook(hook)
    _hide_grader_modules()
    hook.armed = True

    # A data file (e.g. a predictions CSV) is never run: its checks' probes get its bytes.
    skipped: list[tuple[int, str]] = []
    module, error, exc = _read_data(job) if job.kind == "data" else _import_student(job, skipped)
    _note_kernel_refusal(exc, error, violations)
    send(("imported", error, capture.take(), _drain(violations), skipped))
    if module is None:
        send(("end",))
        return

    for key in job.names:
        send(("start", key))
        turn = _receive_turn(inbox, key)
        if turn is None:  # the parent has gone, or answered out of order
            break
        cases, stand_in_sources = turn
        stand_ins = _run_stand_ins(stand_in_sources)
        probe = probes[key]
        for case_id, inputs, limit in cases:
            _seed(job.seed + zlib.crc32(f"{key}/{case_id}".encode()))
            started = time.perf_counter()
            output, error = None, None
            try:
                raw = probe(module, inputs, stand_ins)
                output = wire.to_plain(raw, limit=limit)
            except BaseException as exc:  # noqa: BLE001 - student code may raise anything
                error = describe_exception(exc, job, probe_error=ProbeError)
                _note_kernel_refusal(exc, error, violations)
            seconds = time.perf_counter() - started
            send(("case", key, case_id, output, error, capture.take(), seconds, _drain(violations)))
    send(("end",))


def _receive_turn(inbox: Any, key: str) -> tuple[list, list] | None:
    """The parent's answer to ``("start", key)``: the name's cases and its stand-ins' sources."""
    try:
        message = wire.loads(inbox.recv_bytes())
    except (EOFError, OSError, ValueError, wire.pickle.UnpicklingError):
        return None
    if not (isinstance(message, tuple) and len(message) == 4 and message[0] == "turn" and message[1] == key):
        return None
    return message[2], message[3]


def _run_stand_ins(sources: list) -> dict[str, Any]:
    """Run each stand-in's source text in a namespace of its own; the names the probe gets.

    The code is compiled under a file name of its own, so the audit hook does not take
    its imports (numpy, torch: already loaded) for the student's.
    """
    stand_ins: dict[str, Any] = {}
    for label, text, names in sources:
        namespace: dict[str, Any] = {"__name__": f"stand_in_{label.split(':')[0]}"}
        exec(compile(text, f"grader-stand-in:{label}", "exec"), namespace)  # noqa: S102 - the grader's own text
        stand_ins.update({name: namespace[name] for name in names})
    return stand_ins


def _drain(items: list[str]) -> list[str]:
    out = list(items)
    items.clear()
    return out


def _sender(conn: Any):
    def send(message: tuple) -> None:
        try:
            blob = wire.dumps(message)
        except BaseException as exc:  # noqa: BLE001 - e.g. MemoryError while pickling a huge result
            head = list(message[:3]) + [None] * max(0, 3 - len(message[:3]))
            if message[0] == "case":
                err = {
                    "kind": "output",
                    "message": f"the result could not be sent back ({type(exc).__name__})",
                    "trace": "",
                }
                blob = wire.dumps(("case", message[1], message[2], None, err, "", message[6], []))
            else:
                blob = wire.dumps(tuple(head))
        conn.send_bytes(blob)

    return send


def _seed(seed: int) -> None:
    import torch

    seed %= 2**32
    random.seed(seed)
    np.random.seed(seed)
    # What torch.manual_seed does on a machine without accelerators. torch.manual_seed itself
    # also queues the seed for CUDA with a formatted stack trace: 5 ms in a fresh child.
    torch.default_generator.manual_seed(seed)


def _hide_grader_modules() -> None:
    """Drop the grader's modules from ``sys.modules`` so student code cannot import them.

    The functions already loaded keep working (they hold their own globals); an
    ``import grader`` from student code would have to load from disk, which the audit
    hook refuses. The names come from the warm server (:func:`note_grader_modules`) when
    nothing was imported since: walking all of ``sys.modules`` in a fresh child writes
    the reference count of every name in it, copying a thousand of the server's pages
    (6 ms).
    """
    names = _GRADER_MODULES[1] if len(sys.modules) == _GRADER_MODULES[0] else _grader_module_names()
    for name in names:
        sys.modules.pop(name, None)


_GRADER_MODULES: tuple[int, list[str]] = (-1, [])  # (size of sys.modules, grader names in it)


def note_grader_modules() -> None:
    """Record the grader's module names; called last by the forkserver's preload."""
    global _GRADER_MODULES
    _GRADER_MODULES = (len(sys.modules), _grader_module_names())


def _grader_module_names() -> list[str]:
    return [
        name for name in sys.modules if name == "grader" or name.startswith("grader.") or name.startswith("solutions")
    ]


def _import_student(job: JobSpec, skipped: list[tuple[int, str]]) -> tuple[Any, dict | None, BaseException | None]:
    """Load the student's file as module ``job.task``; on failure (None, error, exception).

    With ``job.skip_failing_statements`` the file's top-level statements run one by one, and
    one that raises is skipped (its line and description go to ``skipped``): code students leave
    below their functions (loading their own data, a training run, ``sys.exit()``) then
    costs only what depends on it. A file that does not parse still fails as a whole.
    """
    import importlib.util

    try:
        spec = importlib.util.spec_from_file_location(job.task, job.module_path)
        assert spec is not None and spec.loader is not None  # a .py file always has both
        module = importlib.util.module_from_spec(spec)
        sys.modules[job.task] = module
        if job.skip_failing_statements:
            _run_statements(module, job, skipped)
        else:
            spec.loader.exec_module(module)
        return module, None, None
    except BaseException as exc:  # noqa: BLE001
        return None, describe_exception(exc, job), exc


class _StatementTooLong(BaseException):
    """Raised into a top-level statement that ran past the file's time for them (a BaseException,
    so that the student's own ``except Exception`` does not swallow it)."""


_in_statement = False


def _stop_statement(signum, frame) -> None:
    if _in_statement:
        raise _StatementTooLong()


def _run_statements(module: Any, job: JobSpec, skipped: list[tuple[int, str]]) -> None:
    """Execute the file's top-level statements in order, in the module's namespace, as an
    import would, skipping (and describing) each one that raises. Together they get
    ``job.top_level_seconds``; a statement still running then (a training run left at the
    bottom of the file) is stopped and skipped too, and each later one gets a second.
    Statements starting on ``job.skip_lines`` are not run at all."""
    import __future__

    import ast

    global _in_statement
    with open(job.module_path, "rb") as fh:
        source = fh.read()
    tree = ast.parse(source, filename=job.module_path)
    lines = source.decode("utf-8", "replace").splitlines()
    module.__doc__ = ast.get_docstring(tree, clean=False)
    timed = hasattr(signal, "setitimer")  # not on Windows: there the parent's import limit alone
    previous = signal.signal(signal.SIGALRM, _stop_statement) if timed else None
    deadline = time.monotonic() + job.top_level_seconds
    flags = 0  # `from __future__ import ...` holds for the statements after it
    try:
        for statement in tree.body:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue  # a bare string does nothing, but compiled alone it would become __doc__
            if statement.lineno in job.skip_lines:
                continue
            code = compile(
                ast.Module([statement], type_ignores=[]), job.module_path, "exec", flags=flags, dont_inherit=True
            )
            if timed:  # repeats every half second, in case the student's code catches it
                signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1.0), 0.5)
            try:
                _in_statement = True
                exec(code, module.__dict__)  # noqa: S102 - the student's own file, inside the sandbox
                _in_statement = False
            except _StatementTooLong:
                skipped.append(
                    (
                        statement.lineno,
                        f"{_statement_at(job, statement.lineno, lines)} was still "
                        f"running after {job.top_level_seconds:g} s and was stopped",
                    )
                )
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - student code may raise anything
                skipped.append(
                    (statement.lineno, f"{_statement_at(job, statement.lineno, lines)} raised {_exception_text(exc)}")
                )
            finally:
                _in_statement = False
                if timed:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
                for alias in statement.names:
                    feature = getattr(__future__, alias.name, None)
                    flags |= feature.compiler_flag if feature is not None else 0
    finally:
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)


def _statement_at(job: JobSpec, lineno: int, lines: list[str]) -> str:
    """'line 12 (data = np.load(...))': where a top-level statement starts, and its first line."""
    text = lines[lineno - 1].strip()[:80] if lineno <= len(lines) else ""
    return f"{_where(job, lineno, lines)} ({text})"


def _read_data(job: JobSpec) -> tuple[bytes | None, dict | None, BaseException | None]:
    try:
        with open(job.module_path, "rb") as fh:
            return fh.read(), None, None
    except OSError as exc:
        return None, describe_exception(exc, job), exc


_ORIGINAL_STREAMS: list[Any] = []


def _capture_output(capture: _BoundedText) -> None:
    """Python-level prints go to ``capture`` (C-level writes already go to a capped file)."""
    # Keep the original stream objects alive: if they were garbage-collected they would
    # close fds 0-2, and the next file the student opens could land on fd 1.
    _ORIGINAL_STREAMS.extend([sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__])
    sys.stdin = io.StringIO("")
    sys.stdout = sys.stderr = capture
    sys.__stdout__ = sys.__stderr__ = capture  # type: ignore[misc, assignment]  # replacing Final stdlib streams


def _note_kernel_refusal(exc: BaseException | None, error: dict | None, violations: list[str]) -> None:
    """List a refusal by the kernel layers with the audit hook's, for the student's feedback."""
    if exc is not None and error and error["kind"] == "forbidden" and not isinstance(exc, SandboxViolation):
        if len(violations) < 20:
            violations.append(error["message"].removeprefix(REFUSED))


# --- error descriptions -------------------------------------------------------------------


def describe_exception(exc: BaseException, job: JobSpec, probe_error: type | None = None) -> dict:
    """A student-facing description: kind, one-line message, and the frames in their file.

    ``probe_error`` is the probes' own error class: its message is shown as it is."""
    kind = "probe" if probe_error is not None and isinstance(exc, probe_error) else classify(exc)
    text = str(exc) if kind == "probe" else _exception_text(exc)
    trace = "\n".join(
        f"  {job.display_name}, {_where(job, f.lineno)}, in {f.name}: {(f.line or '').strip()}"
        for f in _student_frames(exc.__traceback__, job.module_path)[-6:]
    )
    return {"kind": kind, "message": text, "trace": trace}


def _where(job: JobSpec, lineno: int | None, lines: list[str] | None = None) -> str:
    """ "line 12", or for a notebook "cell 3, line 2" (it was graded as one module of its cells)."""
    if lineno is None or not job.display_name.lower().endswith(".ipynb"):
        return f"line {lineno}"
    if lines is None:
        try:
            with open(job.module_path, encoding="utf-8", errors="replace") as fh:
                lines = fh.read().splitlines()
        except OSError:
            return f"line {lineno}"
    return position(lines, lineno)


def _student_frames(tb, module_path: str) -> list[traceback.FrameSummary]:
    """The frames of ``tb`` that run in the student's file, with their source lines.

    Frames are filtered before any source is read: ``traceback.extract_tb`` would read
    every file in the stack (torch's modules are thousands of lines) into this short-lived
    child's empty line cache, tens of milliseconds for each child whose code raises.
    """
    target = os.path.realpath(module_path)
    same: dict[str, bool] = {}
    picked = []
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if filename not in same:
            same[filename] = filename == module_path or os.path.realpath(filename) == target
        if same[filename]:
            picked.append(traceback.FrameSummary(filename, lineno, frame.f_code.co_name))
    return picked


def classify(exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return "not_implemented"
    if isinstance(exc, MemoryError):
        return "memory"
    if isinstance(exc, RuntimeError) and ("can't allocate memory" in str(exc) or "DefaultCPUAllocator" in str(exc)):
        return "memory"
    if isinstance(exc, RecursionError):
        return "recursion"
    if isinstance(exc, SystemExit):
        return "exit"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupt"
    if isinstance(exc, SandboxViolation) or _kernel_refusal(exc):
        return "forbidden"
    if isinstance(exc, wire.TooLarge):
        return "output"
    return "exception"


REFUSED = "not allowed while grading: "
_REFUSAL_WORDS = ("Operation not permitted", "Permission denied")


def _kernel_refusal(exc: BaseException) -> bool:
    """An error that can only mean a sandbox layer said no (EPERM/EACCES, from Python or C++)."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.EPERM, errno.EACCES)
    try:
        text = str(exc)
    except BaseException:  # noqa: BLE001
        return False
    return isinstance(exc, (RuntimeError, ValueError)) and any(word in text for word in _REFUSAL_WORDS)


def _exception_text(exc: BaseException) -> str:
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001
        message = "<str() of the exception failed>"
    name = type(exc).__name__
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}): the code called sys.exit() or exit()"
    message = message.strip().splitlines()[0][:300] if message.strip() else ""
    if isinstance(exc, SandboxViolation):
        return message
    text = f"{name}: {message}" if message else name
    return REFUSED + text if _kernel_refusal(exc) else text
