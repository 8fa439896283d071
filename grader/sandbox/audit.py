"""A courtesy, not the wall: an audit hook (PEP 578) that names what student code tried.

The kernel layers (:mod:`.filesystem`, :mod:`.network`, :mod:`.syscalls`, :mod:`.signals`)
are the boundary; this hook only sees Python-level events, which native code bypasses.
What it adds is words: when student code asks through Python for something the grader
forbids, the refusal names the action ("opening /path", "network access") and is listed
in the student's feedback, instead of a bare "Operation not permitted". It also refuses
imports the task does not allow, including ``__import__``/importlib from student code.
"""

from __future__ import annotations

import os
import sys
from types import FrameType
from typing import Any


class SandboxViolation(PermissionError):
    """Raised into student code when it does something the sandbox forbids."""


class AuditPolicy:
    """An audit hook (PEP 578) that refuses escapes once student code may run.

    It cannot be removed from Python code. It stops: starting processes, signalling
    other processes, sockets, writing or deleting outside the scratch folder, reading the
    protected folders (solutions, submissions, results, tests), disallowed imports
    (including ``__import__``/importlib from student code), ctypes, and walking frames
    or the garbage collector from student code. Violations are recorded for the report
    even if the student catches the exception.
    """

    ALWAYS_DENIED = (
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.exec",
        "os.system",
        "subprocess.Popen",
        "pty.spawn",
        "os.startfile",
        "os.setuid",
        "os.setgid",
    )
    STUDENT_DENIED_PREFIXES = (
        "ctypes.",
        "gc.get_",
        "sys._getframe",
        "sys._current_frames",
        "sys.setprofile",
        "sys.settrace",
        "object.__getattr__",
        "sys.addaudithook",
    )
    PATH_EVENTS = {
        "os.remove": 1,
        "os.rmdir": 1,
        "os.mkdir": 1,
        "os.chmod": 1,
        "os.chown": 1,
        "os.truncate": 1,
        "os.utime": 1,
        "os.link": 2,
        "os.symlink": 2,
        "os.rename": 2,
        "shutil.rmtree": 1,
        "shutil.move": 2,
        "shutil.copyfile": 2,
        "os.chdir": 0,
    }

    def __init__(self, job: Any, import_allowed: Any, violations: list[str]) -> None:
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
            writing = bool(flags and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND)) or any(
                c in (mode or "") for c in "wax+"
            )
            if real.startswith(self.protected) and not real.startswith(self.scratch):
                self._deny(f"opening {path}")
            if writing and not (real.startswith(self.scratch) or real == os.devnull):
                self._deny(
                    f"writing to {path}: graded code may write only in its working folder, a temporary "
                    "folder deleted afterwards (use a relative path such as 'out.npy')"
                )
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
                        # (!s: a bytes path is shown as b'...', as it always was.)
                        self._deny(f"{event.split('.')[-1]} on {path!s} (outside the scratch folder)")
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
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename == self.student_file:
                return True
            if filename == __file__ or filename.startswith("<") or "importlib" in filename:
                frame = frame.f_back
                continue
            return False
        return False
