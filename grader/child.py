"""What runs inside a child process, next to student code.

The child is forked from a warm forkserver that has already imported numpy, torch and
the assignment packs. It locks itself down (own session, resource limits, an
unprivileged uid when the grader runs as root, a scratch working directory, bounded
output capture, an audit hook against escapes), imports the student's file, calls each
check's ``probe`` on the cases it was given, and streams plain-data messages back.

Nothing here decides a score. The parent judges; the worst a student can do by
tampering with this process is to misreport their own outputs.
"""
from __future__ import annotations

import io
import os
import random
import resource
import signal
import sys
import time
import traceback
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import wire

# Messages are tuples whose first item names them:
#   ("imported", error | None, stdout, violations)
#   ("start", key)
#   ("case", key, case_id, output | None, error | None, stdout, seconds, violations)
#   ("end",)
# where error is a dict with "kind", "message" and "trace".


@dataclass
class Limits:
    """Resource limits for one child. Times are seconds, sizes bytes."""

    memory: int = 3 * 1024**3           # address space beyond what the warm process uses
    output_per_case: int = 4096         # captured print output kept per case
    file_size: int = 16 * 1024**2       # largest file the child may write
    processes: int = 256                # threads+processes of the isolated uid


@dataclass
class JobSpec:
    """Everything a child needs; built by the parent, pickled to the child."""

    assignment: str
    task: str
    module_path: str                  # the student's file, staged in the scratch dir
    display_name: str                 # the file's name as the student knows it
    names: list[str]                  # graded keys to run, in order
    cases: dict[str, list[tuple[str, Any]]]  # key -> [(case_id, inputs)]
    seed: int
    limits: Limits
    scratch: str
    cpu_seconds: int
    uid: int | None = None            # drop to this uid (only when started as root)
    protected: list[str] = field(default_factory=list)  # folders the child may not open


class _BoundedText(io.TextIOBase):
    """A stdout replacement that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._kept = 0
        self._dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:  # type: ignore[override]
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


class SandboxViolation(PermissionError):
    """Raised into student code when it does something the sandbox forbids."""


def child_main(conn: Any, job: JobSpec) -> None:
    """Entry point of the child process (a multiprocessing target)."""
    try:
        _run(conn, job)
    except BaseException:  # noqa: BLE001 - last resort: report and die
        try:
            conn.send_bytes(wire.dumps(("fatal", traceback.format_exc()[-2000:])))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(0)


def _run(conn: Any, job: JobSpec) -> None:
    from .packs import load_pack   # already imported in the forkserver

    pack = load_pack(job.assignment)
    task = pack.file(job.task)
    checks = {key: pack.graded(key).check for key in job.names}

    capture = _BoundedText(job.limits.output_per_case)
    violations: list[str] = []
    _lock_down(job)
    _redirect_output(job, capture)
    _seed(job.seed)
    send = _sender(conn)

    hook = _AuditPolicy(job, task.import_allowed, violations)
    sys.addaudithook(hook)
    _hide_grader_modules()
    hook.armed = True

    # A data file (e.g. a predictions CSV) is never run: its checks' probes get its bytes.
    module, error = _read_data(job) if task.kind == "data" else _import_student(job)
    send(("imported", error, capture.take(), _drain(violations)))
    if module is None:
        send(("end",))
        return

    for key in job.names:
        send(("start", key))
        check = checks[key]
        for case_id, inputs in job.cases[key]:
            _seed(job.seed + zlib.crc32(f"{key}/{case_id}".encode()))
            started = time.perf_counter()
            output, error = None, None
            try:
                raw = check.probe(module, inputs)
                output = wire.to_plain(raw)
            except BaseException as exc:  # noqa: BLE001 - student code may raise anything
                error = describe_exception(exc, job)
            seconds = time.perf_counter() - started
            send(("case", key, case_id, output, error, capture.take(), seconds, _drain(violations)))
    send(("end",))


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
                err = {"kind": "output", "message": f"the result could not be sent back ({type(exc).__name__})", "trace": ""}
                blob = wire.dumps(("case", message[1], message[2], None, err, "", message[6], []))
            else:
                blob = wire.dumps(tuple(head))
        conn.send_bytes(blob)
    return send


# --- isolation ----------------------------------------------------------------------------

def _lock_down(job: JobSpec) -> None:
    os.setsid()                                   # own process group: the parent kills it whole
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing us
    if job.uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setgid(job.uid)
        os.setuid(job.uid)
        _limit(resource.RLIMIT_NPROC, job.limits.processes)
    _die_with_parent()
    _limit(resource.RLIMIT_AS, _address_space_now() + job.limits.memory)
    _limit(resource.RLIMIT_FSIZE, job.limits.file_size)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_CPU, job.cpu_seconds)
    os.chdir(job.scratch)
    sys.dont_write_bytecode = True
    import torch
    torch.set_num_threads(1)


def _die_with_parent() -> None:
    """Ask the kernel to kill this child when the forkserver that forked it exits.

    The forkserver exits once every holder of its "alive" pipe is gone. Python hands
    that pipe to each forked child too, so the child closes its copy first: then the
    forkserver goes when the grader goes (even after a SIGKILL), and takes this child
    with it. Set after the uid change, which would clear it.
    """
    import ctypes
    from multiprocessing import forkserver

    alive_fd = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)  # private, stable since 3.4
    if alive_fd is not None:
        try:
            os.close(alive_fd)
        except OSError:
            pass
        forkserver._forkserver._forkserver_alive_fd = None

    PR_SET_PDEATHSIG = 1
    parent = os.getppid()
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:   # the parent died before the request took effect
        os._exit(1)


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard if hard != resource.RLIM_INFINITY else value))


def _address_space_now() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


_ORIGINAL_STREAMS: list[Any] = []


def _redirect_output(job: JobSpec, capture: _BoundedText) -> None:
    """Python-level prints go to ``capture``; C-level writes to fd 1/2 go to a capped file."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    log = os.open(os.path.join(job.scratch, "native-output.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    # Keep the original stream objects alive: if they were garbage-collected they would
    # close fds 0-2, and the next file the student opens could land on fd 1.
    _ORIGINAL_STREAMS.extend([sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__])
    sys.stdin = io.StringIO("")
    sys.stdout = sys.stderr = capture
    sys.__stdout__ = sys.__stderr__ = capture  # type: ignore[misc]


def _seed(seed: int) -> None:
    import torch

    seed %= 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _hide_grader_modules() -> None:
    """Drop the grader's modules from ``sys.modules`` so student code cannot import them.

    The functions already loaded keep working (they hold their own globals); an
    ``import grader`` from student code would have to load from disk, which the audit
    hook refuses.
    """
    for name in list(sys.modules):
        if name == "grader" or name.startswith("grader.") or name.startswith("solutions"):
            del sys.modules[name]


def _import_student(job: JobSpec) -> tuple[Any, dict | None]:
    import importlib.util

    try:
        spec = importlib.util.spec_from_file_location(job.task, job.module_path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[job.task] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        return module, None
    except BaseException as exc:  # noqa: BLE001
        return None, describe_exception(exc, job)


def _read_data(job: JobSpec) -> tuple[bytes | None, dict | None]:
    try:
        with open(job.module_path, "rb") as fh:
            return fh.read(), None
    except OSError as exc:
        return None, describe_exception(exc, job)


class _AuditPolicy:
    """An audit hook (PEP 578) that refuses escapes once student code may run.

    It cannot be removed from Python code. It stops: starting processes, signalling
    other processes, sockets, writing or deleting outside the scratch folder, reading the
    protected folders (solutions, submissions, results, tests), disallowed imports
    (including ``__import__``/importlib from student code), ctypes, and walking frames
    or the garbage collector from student code. Violations are recorded for the report
    even if the student catches the exception.
    """

    ALWAYS_DENIED = ("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.exec", "os.system",
                     "subprocess.Popen", "pty.spawn", "os.startfile", "os.setuid", "os.setgid")
    STUDENT_DENIED_PREFIXES = ("ctypes.", "gc.get_", "sys._getframe", "sys._current_frames",
                               "sys.setprofile", "sys.settrace", "object.__getattr__", "sys.addaudithook")
    PATH_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.chmod": 1, "os.chown": 1,
                   "os.truncate": 1, "os.utime": 1, "os.link": 2, "os.symlink": 2, "os.rename": 2,
                   "shutil.rmtree": 1, "shutil.move": 2, "shutil.copyfile": 2, "os.chdir": 0}

    def __init__(self, job: JobSpec, import_allowed: Any, violations: list[str]) -> None:
        self.armed = False
        self.busy = False
        self.pid = os.getpid()
        self.student_file = os.path.realpath(job.module_path)
        self.display = job.display_name
        self.scratch = os.path.realpath(job.scratch) + os.sep
        self.protected = tuple(os.path.realpath(p) + os.sep for p in job.protected)
        self.import_allowed = import_allowed
        self.violations = violations

    def __call__(self, event: str, args: tuple) -> None:
        if not self.armed or self.busy:
            return
        self.busy = True
        try:
            self._check(event, args)
        finally:
            self.busy = False

    def _deny(self, what: str) -> None:
        if len(self.violations) < 20:
            self.violations.append(what)
        raise SandboxViolation(f"not allowed while grading: {what}")

    def _check(self, event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (list(args) + [None, None, None])[:3]
            if path is None or isinstance(path, int):
                return
            real = self._real(path)
            writing = bool(flags and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND)) or \
                any(c in (mode or "") for c in "wax+")
            if real.startswith(self.protected) and not real.startswith(self.scratch):
                self._deny(f"opening {path}")
            if writing and not (real.startswith(self.scratch) or real == os.devnull):
                self._deny(f"writing to {path} (only the scratch folder is writable)")
        elif event.startswith(self.ALWAYS_DENIED):
            self._deny(f"starting or changing processes ({event})")
        elif event == "os.kill" and args[0] != self.pid or event == "os.killpg":
            self._deny(f"sending a signal to another process ({event} {args[0]})")
        elif event.startswith("socket."):
            self._deny("network access")
        elif event in self.PATH_EVENTS:
            count = self.PATH_EVENTS[event]
            for path in args[:count] if count else args[:1]:
                if isinstance(path, (str, bytes, os.PathLike)):
                    real = self._real(path)
                    if event == "os.chdir":
                        continue
                    if not real.startswith(self.scratch):
                        self._deny(f"{event.split('.')[-1]} on {path} (outside the scratch folder)")
        elif event == "import":
            module = args[0]
            if isinstance(module, str) and not self.import_allowed(module) and self._from_student():
                self.violations.append(f"import of {module}")
                raise ImportError(f"importing {module} is not allowed in this file")
        elif event.startswith(self.STUDENT_DENIED_PREFIXES):
            if self._from_student():
                self._deny(f"{event} from student code")

    def _real(self, path: Any) -> str:
        try:
            return os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return ""

    def _from_student(self) -> bool:
        """True when the nearest frame outside the grader and the import machinery is the student's."""
        frame = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename == self.student_file:
                return True
            if filename == __file__ or filename.startswith("<") or "importlib" in filename:
                frame = frame.f_back
                continue
            return False
        return False


# --- error descriptions -------------------------------------------------------------------

def describe_exception(exc: BaseException, job: JobSpec) -> dict:
    """A student-facing description: kind, one-line message, and the frames in their file."""
    kind = classify(exc)
    text = _exception_text(exc)
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if os.path.realpath(f.filename) == os.path.realpath(job.module_path)]
    trace = "\n".join(f"  {job.display_name}, line {f.lineno}, in {f.name}: {(f.line or '').strip()}"
                      for f in frames[-6:])
    return {"kind": kind, "message": text, "trace": trace}


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
    if isinstance(exc, SandboxViolation):
        return "forbidden"
    if isinstance(exc, wire.TooLarge):
        return "output"
    if type(exc).__name__ == "ProbeError" and type(exc).__module__ == "grader.assignment":
        return "probe"
    return "exception"


def _exception_text(exc: BaseException) -> str:
    try:
        message = str(exc)
    except BaseException:  # noqa: BLE001
        message = "<str() of the exception failed>"
    name = type(exc).__name__
    if classify(exc) == "probe":
        return message
    if isinstance(exc, SystemExit):
        return f"SystemExit({exc.code!r}): the code called sys.exit() or exit()"
    message = message.strip().splitlines()[0][:300] if message.strip() else ""
    return f"{name}: {message}" if message else name
