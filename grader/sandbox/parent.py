"""Parent side of isolation: start children from a warm forkserver, watch them, kill them.

One :class:`Sandbox` per grading run owns the forkserver, a scratch folder per child
and, when the grader runs as root, a small range of unprivileged uids (one per
concurrent child). Each child puts up the kernel layers itself (:mod:`.enter`); the
parent runs the start-up self-test (:mod:`.probe`), tells every child which layers it
must have, and never follows a link or trusts a file it finds in a child's scratch
folder. A child that finishes, hangs past its deadline or crashes is killed with its
whole process group, and anything it left behind is found and killed too.

Where the platform has no forkserver (Windows), children are started with "spawn":
slower, and without the kernel layers, but self-check still works there.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader import wire
from grader.sandbox.child import JobSpec, child_main
from grader.sandbox.inherited import NATIVE_OUTPUT, THREAD_VARIABLES
from grader.sandbox.layers import MODES, LayerReport
from grader.sandbox.native import PR_SET_CHILD_SUBREAPER, prctl

PRELOAD = ["grader.sandbox.preload"]  # imports, warmed probes, sandbox set-up
BATCH_PRELOAD = ["grader.sandbox.preload_batch"]  # all that, on huge pages
MAX_MESSAGE = 80 * 1024**2  # a single message larger than this ends the child (a case's result is
# refused in the child well before: Check.output_limit)
MAX_NATIVE_OUTPUT = 4096  # bytes of a child's C-level output the parent reads back
ISOLATION_UID_BASE = 64_000  # uids used for children when the grader runs as root


def start_method() -> str:
    """ "forkserver" where the platform has it (Linux, macOS), else "spawn" (Windows).

    ``GRADER_START_METHOD=spawn`` forces the slow path, so it can be tested on Linux.
    """
    from grader.sandbox.native import PLATFORM

    wanted = os.environ.get("GRADER_START_METHOD", "spawn" if PLATFORM == "win32" else "forkserver")
    return wanted if wanted in multiprocessing.get_all_start_methods() else "spawn"


_running_preload: list[str] | None = None


def start_forkserver(many_children: bool = False) -> None:
    """Start the forkserver (if it is not running yet) and return without waiting for it.

    Its preload (numpy, torch, every check) takes seconds; it runs in the server's own
    process while this one goes on. Callers that are about to import torch themselves
    (loading a pack does) should call this first, so both imports run at the same time
    on two cores. ``many_children`` (a batch run) adds half a second of moving the server
    onto huge pages, which makes each fork cheaper (:mod:`.hugepages`). Idempotent: a
    server already running is kept, whichever preload it has (a restart for huge pages
    would cost more than they save).
    """
    global _running_preload
    from multiprocessing import forkserver

    if start_method() != "forkserver":
        return
    if _running_preload is None:
        _running_preload = BATCH_PRELOAD if many_children else PRELOAD
        multiprocessing.get_context("forkserver").set_forkserver_preload(_running_preload)
    with main_module_hidden(), server_environment():
        forkserver.ensure_running()


# glibc's malloc backs its heap with transparent huge pages (glibc 2.35+; others ignore it).
# A fork copies the page tables of the server's heap, and every child then faults its pages
# in: with 2 MiB pages there are 512 times fewer of both. Measured: 0.77 against 0.81 s per
# student, 3 alternating runs of a 30-student class.
MALLOC_TUNABLES = "glibc.malloc.hugetlb=1"


@contextlib.contextmanager
def server_environment():
    """The environment a forkserver or spawned child starts with; the caller's own after.

    One BLAS/OpenMP thread per library, and not only for speed: a numeric library with a
    thread pool restarts it in every forked child (OpenBLAS does, from a fork handler), and
    the kernel refuses a new user namespace to a process with more than one thread, so the
    network layer would be lost. And huge pages for malloc (above), unless the caller set
    its own glibc tunables. The variables are read when the process starts, so they are
    restored once it has.
    """
    wanted = {name: "1" for name in THREAD_VARIABLES}
    if "GLIBC_TUNABLES" not in os.environ:
        wanted["GLIBC_TUNABLES"] = MALLOC_TUNABLES
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass
class Exit:
    """How a child ended, for messages."""

    code: int | None
    timed_out: bool = False

    def describe(self) -> str:
        if self.timed_out:
            return "timed out"
        if self.code is None:
            return "was stopped"
        if self.code < 0:
            try:
                name = signal.Signals(-self.code).name
            except ValueError:
                name = f"signal {-self.code}"
            hint = {
                "SIGKILL": " (often: the memory limit, or a kill from outside)",
                "SIGSEGV": " (often: unbounded recursion or running out of memory)",
                "SIGABRT": " (often: running out of memory inside a library)",
                "SIGXCPU": " (the CPU-time limit)",
            }.get(name, "")
            return f"crashed with {name}{hint}"
        return f"exited with status {self.code}"


class _Outbox:
    """Messages to one child, written by a thread of their own.

    A name's turn can be megabytes (a training check's data) and a pipe holds 64 KiB; a
    child whose code never reads, or that was killed, must not stall the grader's loop.
    The thread ends when the child's end of the pipe closes.
    """

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread: threading.Thread | None = None

    def send(self, blob: bytes) -> None:
        self.queue.put(blob)
        if self.thread is None:
            self.thread = threading.Thread(target=self._write, daemon=True)
            self.thread.start()

    def _write(self) -> None:
        while True:
            blob = self.queue.get()
            if blob is None:
                return
            try:
                self.conn.send_bytes(blob)
            except (OSError, ValueError):  # the child has gone
                return

    def close(self) -> None:
        """Call once the child is dead (its end of the pipe closed): no write can block then."""
        self.queue.put(None)
        if self.thread is not None:
            self.thread.join(5)
        self.conn.close()


class ChildRun:
    """One child process working through one :class:`JobSpec`."""

    def __init__(self, sandbox: Sandbox, job: JobSpec, slot: int) -> None:
        self.job = job
        self.slot = slot
        self.sandbox = sandbox
        self.process, self.conn, inbox = sandbox._start_process(child_main, (job,), inbox=True)
        self.outbox = _Outbox(inbox)
        self.started = time.monotonic()
        self.deadline = float("inf")
        self.closed = False
        self.last_size = 0

    def send(self, blob: bytes) -> None:
        """Queue a message for the child's inbox (a name's turn)."""
        self.outbox.send(blob)

    def set_deadline(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def receive(self) -> Any | None:
        """The next message, or None when the child has gone (EOF or unreadable output).

        ``last_size`` is then the message's size in bytes."""
        try:
            blob = self.conn.recv_bytes(MAX_MESSAGE)
            self.last_size = len(blob)
            return wire.loads(blob)
        except (EOFError, OSError, ValueError, wire.pickle.UnpicklingError, MemoryError):
            return None

    def kill(self) -> None:
        if hasattr(os, "killpg"):
            self.sandbox.kill_group(self.process.pid)
        else:  # Windows: no process groups
            self.process.kill()

    def finish(self, timed_out: bool = False) -> Exit:
        """Kill what is left of the child and its group, collect its exit status."""
        if not self.closed:
            self.closed = True
            self.kill()
            self.process.join(5)
            self.conn.close()
            self.outbox.close()
            self.sandbox.reap_strays(self.job.uid)
        return Exit(self.process.exitcode if not timed_out else None, timed_out)


SCRATCH_PREFIX = "grader-scratch-"


def sweep_abandoned_scratch(folder: Path | None = None) -> list[Path]:
    """Remove scratch folders of earlier runs that were killed before they could clean up.

    A run's scratch folder is named after its process id; one whose process no longer
    exists (and that this user owns) holds nothing anyone will read again, only copies of
    submissions. Folders of live processes, and of other users, are left alone.
    """
    removed = []
    root = Path(folder or tempfile.gettempdir())
    for path in root.glob(SCRATCH_PREFIX + "*"):
        pid = path.name[len(SCRATCH_PREFIX) :].split("-", 1)[0]
        try:
            if not pid.isdigit() or path.is_symlink() or path.lstat().st_uid != os.getuid():
                continue
            os.kill(int(pid), 0)  # alive (or not ours to signal): keep it
            continue
        except ProcessLookupError:
            pass
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


class Sandbox:
    """Forkserver, scratch space and process hygiene for one grading run."""

    def __init__(self, protected: list[Path], isolate_uid: bool | None = None, mode: str = "best") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown sandbox mode {mode!r}; use one of {', '.join(MODES)}")
        self.mode = mode
        self.ctx = multiprocessing.get_context(start_method())
        self.layers: LayerReport | None = None  # what the self-test (or the first child) found
        sweep_abandoned_scratch()
        self.scratch_root = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
        self.protected = [str(Path(p).resolve()) for p in protected if p]
        wanted = (os.getuid() == 0) if isolate_uid is None else isolate_uid and os.getuid() == 0
        # An unprivileged uid is only usable if it can read the Python installation
        # (a pyenv under /root, for instance, is private to root).
        self.use_uids = wanted and python_world_readable()
        self.isolation = (
            "separate unprivileged uid per child"
            if self.use_uids
            else "same uid as the grader (run as root with a world-readable Python to isolate by uid)"
        )
        self._counter = 0
        self._strays_killed = 0
        self._slots_used: set[int] = set()
        if self.use_uids:
            os.chmod(self.scratch_root, 0o711)
        else:
            _become_subreaper()

    def warm_up(self, many_children: bool = False) -> None:
        """Start the forkserver now, so its imports overlap with the parent's own work."""
        start_forkserver(many_children)

    def self_test(self) -> LayerReport:
        """Fork the probe child and settle which layers this run has (see :mod:`.probe`).

        Raises :class:`~.layers.SandboxError` when a layer lies, or when ``require`` mode
        finds one missing. Every later child must then get every layer the probe got.
        """
        from grader.sandbox.layers import KERNEL_LAYERS, OFF
        from grader.sandbox.probe import self_test

        if self.mode == "off":
            self.layers = LayerReport(missing={name: OFF for name in KERNEL_LAYERS})
            return self.layers
        uid = self.uid_for(0)
        self.layers = self_test(self._start_process, self.scratch_root, self.protected, uid, self.mode)
        return self.layers

    @property
    def required(self) -> tuple[str, ...]:
        """Kernel layers a child must have before it may run student code."""
        if self.mode == "require":
            from grader.sandbox.layers import KERNEL_LAYERS

            return KERNEL_LAYERS
        return tuple(sorted(self.layers.on)) if self.layers is not None else ()

    def note_layers(self, report: LayerReport) -> None:
        """Without a self-test (self-check), the first child's report is the run's."""
        if self.layers is None:
            self.layers = report

    def _start_process(self, target, args: tuple, inbox: bool = False):
        """Start ``target(results_sender, [inbox_reader,] *args)``; return (process, results
        receiver) and, with ``inbox``, the sending end of the child's inbox as well."""
        # The server must have been started by start_forkserver (its preload, one thread per
        # library): a caller that skipped warm_up starts it here.
        if _running_preload is None:
            start_forkserver()
        receiver, sender = self.ctx.Pipe(duplex=False)
        ends = [sender]
        if inbox:
            inbox_reader, inbox_writer = self.ctx.Pipe(duplex=False)
            ends.append(inbox_reader)
        # Every concrete context has Process; typeshed's BaseContext (what get_context(str) returns) does not.
        process = self.ctx.Process(target=target, args=(*ends, *args), daemon=True)  # type: ignore[attr-defined]
        with main_module_hidden(), server_environment():  # a spawned child reads them too
            process.start()
        for end in ends:
            end.close()
        return (process, receiver, inbox_writer) if inbox else (process, receiver)

    def uid_for(self, slot: int) -> int | None:
        if not self.use_uids:
            return None
        self._slots_used.add(slot)
        return ISOLATION_UID_BASE + slot

    def prepare(self, source: bytes, task: str, slot: int) -> tuple[str, str]:
        """Stage a student's file in a fresh scratch folder; return (folder, module path)."""
        self._counter += 1
        folder = self.scratch_root / f"job{self._counter:05d}"
        folder.mkdir(mode=0o700)
        module = folder / f"{task}.py"
        module.write_bytes(source)
        uid = self.uid_for(slot)
        if uid is not None:
            os.chown(folder, uid, uid)
            os.chmod(module, 0o444)
        return str(folder.resolve()), str(module.resolve())

    def start(self, job: JobSpec, slot: int) -> ChildRun:
        return ChildRun(self, job, slot)

    def release(self, scratch: str) -> str:
        """Read what the child wrote to its native stdout/stderr (bounded), then delete its folder.

        The child may have replaced that file with a link to something it could not read
        itself; the parent opens it without following links and reads it only if it is
        still a regular file with a single name.
        """
        text = ""
        try:
            fd = os.open(os.path.join(scratch, NATIVE_OUTPUT), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                info = os.fstat(fd)
                if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                    text = os.read(fd, MAX_NATIVE_OUTPUT).decode("utf-8", "replace")
            finally:
                os.close(fd)
        except OSError:
            pass
        shutil.rmtree(scratch, ignore_errors=True)
        return text

    # --- process hygiene --------------------------------------------------------------------

    @staticmethod
    def kill_group(pid: int | None) -> None:
        if not pid:
            return
        for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass

    def reap_strays(self, uid: int | None) -> int:
        """Kill processes a child left behind; return how many were found."""
        killed = 0
        for _ in range(5):  # a fork loop may spawn while we kill; a few passes settle it
            strays = self._strays(uid)
            if not strays:
                break
            for pid in strays:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)
        self._reap_zombies()
        self._strays_killed += killed
        return killed

    def _strays(self, uid: int | None) -> list[int]:
        me = os.getpid()
        my_sid = os.getsid(0)
        found = []
        for entry in _proc_entries():
            if not entry.isdigit() or int(entry) == me:
                continue
            pid = int(entry)
            try:
                if uid is not None:
                    if os.stat(f"/proc/{pid}").st_uid == uid:
                        found.append(pid)
                    continue
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                ppid, sid = int(fields[1]), int(fields[3])
                # With the grader as subreaper, orphans of a child come back to us; the
                # forkserver and resource tracker share our session, escaped code does not.
                if ppid == me and sid != my_sid:
                    found.append(pid)
            except (OSError, IndexError, ValueError):
                continue
        return found

    def _reap_zombies(self) -> None:
        """Collect exit statuses of killed strays re-parented to us (not our own children)."""
        known = {p.pid for p in multiprocessing.active_children()}
        for entry in _proc_entries():
            if not entry.isdigit():
                continue
            pid = int(entry)
            if pid in known:
                continue
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                if fields[0] == "Z" and int(fields[1]) == os.getpid() and int(fields[3]) != os.getsid(0):
                    os.waitpid(pid, os.WNOHANG)
            except (OSError, IndexError, ValueError, ChildProcessError):
                continue

    @property
    def strays_killed(self) -> int:
        return self._strays_killed

    def close(self) -> None:
        if self.use_uids:
            for slot in sorted(self._slots_used):
                self.reap_strays(self.uid_for(slot))
        else:
            self.reap_strays(None)
        shutil.rmtree(self.scratch_root, ignore_errors=True)


def python_world_readable() -> bool:
    """True when any user can read this interpreter's standard library and packages."""
    import sysconfig

    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    for path in paths:
        current = Path(path).resolve()
        try:
            if not current.stat().st_mode & 0o004:
                return False
            for parent in [current, *current.parents]:
                if not parent.stat().st_mode & 0o001:
                    return False
        except OSError:
            return False
    return True


@contextlib.contextmanager
def main_module_hidden():
    """Stop multiprocessing from re-running the caller's main module in the forkserver/children.

    Forkserver children normally import ``__main__`` again (a TA's script, ``python -m
    grader`` itself, a notebook kernel's launcher). They need only the preloaded grader,
    so the main module's path and spec are hidden while a process starts.
    """
    main = sys.modules.get("__main__")
    saved = {
        name: main.__dict__[name] for name in ("__file__", "__spec__") if main is not None and name in main.__dict__
    }
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__dict__["__spec__"] = None
        yield
    finally:
        if main is not None:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


def _become_subreaper() -> None:
    """Make orphaned descendants re-parent to this process, so they can be found and killed."""
    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
    except OSError:
        pass


def _proc_entries() -> list[str]:
    """The process table's entries, or none where there is no /proc (not Linux)."""
    try:
        return os.listdir("/proc")
    except OSError:
        return []
