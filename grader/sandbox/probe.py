"""The start-up self-test: one probe child tries every forbidden action, layer by layer.

Before a grading run, the parent sets bait outside the probe's reach (a secret file, a
file to overwrite, a TCP listener on localhost, its own pid to signal) and forks one
probe child through the same forkserver and the same :func:`~.enter.enter` as every
student's child. Right after each layer goes up, the probe tries what that layer must
stop, so each layer is tested on its own. A layer that reports itself on but lets an
attempt through stops the run with :class:`~.layers.SandboxError`: grading on a wall
that is not there would be worse than not grading. The probe also checks that ordinary
work (threads, BLAS, a torch convolution) still runs inside the box.

Every attempt is harmless if it succeeds: it reads a decoy, writes a decoy, connects to
the parent's own listener, sends signal 0 (a permission check that delivers nothing),
and a forked process exits at once.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import wire
from grader.sandbox.enter import enter
from grader.sandbox.layers import KERNEL_LAYERS, WORDS, LayerReport, SandboxError
from grader.sandbox.limits import Limits
from grader.sandbox.native import CLONE_NEWUSER, libc

PROBE_SECONDS = 60.0
ALLOWED, REFUSED = "allowed", "refused"


@dataclass
class ProbeSpec:
    scratch: str
    outside: str  # a folder the probe must not read or write
    secret: str  # a file in it holding ``token``
    victim: str  # a file in it the probe tries to overwrite
    port: int  # the parent's TCP listener on 127.0.0.1
    grader_pid: int
    protected: list[str] = field(default_factory=list)
    uid: int | None = None


# --- child side ---------------------------------------------------------------------------


def _attempt(action: Callable[[], Any]) -> str:
    """REFUSED when ``action`` raised (the layer said no), ALLOWED when it went through."""
    try:
        action()
    except OSError as exc:
        return f"{REFUSED} ({errno.errorcode.get(exc.errno, exc.errno) if exc.errno is not None else None})"
    except Exception as exc:  # noqa: BLE001
        return f"{REFUSED} ({type(exc).__name__})"
    return ALLOWED


def _seccomp_attempt(action: Callable[[], Any]) -> str:
    """Like :func:`_attempt`, but only EPERM (seccomp's answer) counts as refused here."""
    try:
        action()
    except OSError as exc:
        if exc.errno == errno.EPERM or exc.errno == errno.ENOSYS:
            return f"{REFUSED} ({errno.errorcode.get(exc.errno)})"
        return f"{ALLOWED} (failed for another reason: {errno.errorcode.get(exc.errno, exc.errno) if exc.errno is not None else None})"
    return ALLOWED


def _libc_call(name: str, *args: Any) -> None:
    """Call a libc function directly, as native code would; raise OSError on -1."""
    import ctypes

    if libc is None:
        raise OSError(errno.ENOSYS, "no libc")
    function = getattr(libc, name)
    function.restype = ctypes.c_long
    if function(*args) == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _syscall(number: int, *args: Any) -> None:
    _libc_call("syscall", number, *args)


def _fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _connect(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def _write(path: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, b"overwritten by the probe")
    finally:
        os.close(fd)


def _read(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.read(fd, 64)
    finally:
        os.close(fd)


MARKER = "written-inside-the-probe"


def _fill_bytes(scratch: str) -> None:
    """Reserve one MiB more than the quota (no bytes written: tmpfs refuses at once).

    First it leaves a small file behind: on the private scratch space it never reaches the
    folder the grader sees, which the parent checks afterwards."""
    from grader.sandbox.disk import QUOTA_BYTES

    with open(os.path.join(scratch, MARKER), "w") as fh:
        fh.write("the grader must not find this")
    path = os.path.join(scratch, "filler")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.posix_fallocate(fd, 0, QUOTA_BYTES + 1024**2)
    finally:
        os.close(fd)
        os.unlink(path)


def _fill_files(scratch: str) -> None:
    from grader.sandbox.disk import QUOTA_FILES

    folder = os.path.join(scratch, "many")
    os.mkdir(folder)
    try:
        for number in range(QUOTA_FILES + 1):
            os.close(os.open(os.path.join(folder, str(number)), os.O_WRONLY | os.O_CREAT, 0o600))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# x86_64 system call numbers for calls Python does not wrap.
SYS = {
    "ptrace": 101,
    "io_uring_setup": 425,
    "bpf": 321,
    "keyctl": 250,
    "shmget": 29,
    "process_vm_readv": 310,
    "prlimit64": 302,
}


def _attacks(stage: str, spec: ProbeSpec, seccomp_on: bool) -> dict[str, Callable[[], str]]:
    """What to try right after the layer ``stage`` went up."""
    grader = spec.grader_pid
    if stage == "network":
        return {"connect to a TCP server on the grading machine": lambda: _attempt(lambda: _connect(spec.port))}
    if stage == "files":

        def plant_link() -> None:
            os.symlink(spec.secret, os.path.join(spec.scratch, "link"))

        return {
            "read a file outside its scratch folder": lambda: _attempt(lambda: _read(spec.secret)),
            "overwrite a file outside its scratch folder": lambda: _attempt(lambda: _write(spec.victim)),
            "list a folder outside its scratch folder": lambda: _attempt(lambda: os.listdir(spec.outside)),
            "read the grader's command line in /proc": lambda: _attempt(lambda: _read(f"/proc/{grader}/cmdline")),
            "plant a symlink in its scratch folder": lambda: _attempt(plant_link),
            "create a FIFO in its scratch folder": lambda: _attempt(
                lambda: os.mkfifo(os.path.join(spec.scratch, "fifo"))
            ),
        }
    if stage == "disk":
        return {
            "write more than its scratch quota": lambda: _attempt(lambda: _fill_bytes(spec.scratch)),
            "create more files than its scratch quota": lambda: _attempt(lambda: _fill_files(spec.scratch)),
        }
    if stage == "signals":
        return {"signal the grader": lambda: _attempt(lambda: os.kill(grader, 0))}
    if stage == "syscalls":
        attacks = {
            "start a process": lambda: _seccomp_attempt(_fork),
            "open a socket": lambda: _seccomp_attempt(lambda: socket.socket().close()),
            "enter a new namespace": lambda: _seccomp_attempt(lambda: _libc_call("unshare", CLONE_NEWUSER)),
            "trace the grader": lambda: _seccomp_attempt(lambda: _syscall(SYS["ptrace"], 16, grader, 0, 0)),
            "read the grader's memory": lambda: _seccomp_attempt(
                lambda: _syscall(SYS["process_vm_readv"], grader, 0, 0, 0, 0, 0)
            ),
            "change the grader's limits": lambda: _seccomp_attempt(lambda: _syscall(SYS["prlimit64"], grader, 9, 0, 0)),
            "set up io_uring": lambda: _seccomp_attempt(lambda: _syscall(SYS["io_uring_setup"], 1, 0)),
            "load a BPF program": lambda: _seccomp_attempt(lambda: _syscall(SYS["bpf"], 0, 0, 0)),
            "use the kernel keyring": lambda: _seccomp_attempt(lambda: _syscall(SYS["keyctl"], 0, 0)),
            "create System V shared memory": lambda: _seccomp_attempt(lambda: _syscall(SYS["shmget"], 0, 4096, 0o1600)),
        }
        if seccomp_on:  # only when it should be refused: a successful exec would end the probe
            attacks["start a program"] = lambda: _seccomp_attempt(lambda: os.execv("/bin/true", ["true"]))
        return attacks
    return {}


def _ordinary_work() -> str | None:
    """None when threads, BLAS and torch still work inside the box, else the error."""
    try:
        import numpy as np
        import torch

        results: list[float] = []
        worker = threading.Thread(target=lambda: results.append(float(np.ones((64, 64)) @ np.ones(64) @ np.ones(64))))
        worker.start()
        worker.join()
        torch.set_num_threads(2)
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
        net(torch.randn(2, 1, 16, 16)).sum().backward()
        torch.set_num_threads(1)
        return None if results == [64.0 * 64] else "a thread's BLAS result was wrong"
    except BaseException as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"


def probe_main(conn: Any, spec: ProbeSpec) -> None:
    """Entry point of the probe child."""
    results: dict[str, dict[str, str]] = {}

    def checkpoint(stage: str) -> None:
        attacks = _attacks(stage, spec, seccomp_on=stage == "syscalls" and _seccomp_filter_loaded())
        if attacks:
            results[stage] = {what: run() for what, run in attacks.items()}

    message: tuple[Any, ...]  # ("probe", ...) or ("probe-failed", ...)
    try:
        report = enter(spec.scratch, {conn.fileno()}, spec.protected, spec.uid, Limits(), 60, checkpoint)
        message = ("probe", report.to_dict(), results, _ordinary_work())
    except BaseException as exc:  # noqa: BLE001
        message = ("probe-failed", f"{type(exc).__name__}: {exc}", results)
    try:
        conn.send_bytes(wire.dumps(message))
    finally:
        os._exit(0)


def _seccomp_filter_loaded() -> bool:
    """True when this process runs under a seccomp filter (``Seccomp: 2`` in its status)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Seccomp:"):
                    return line.split()[1] == "2"
    except OSError:
        pass
    return False


# --- parent side --------------------------------------------------------------------------


def self_test(
    start_child: Callable[[Callable, tuple], Any], scratch_root: Path, protected: list[str], uid: int | None, mode: str
) -> LayerReport:
    """Run the probe and return the layers that are really on; raise SandboxError when one lies.

    ``start_child(target, args)`` starts a process through the run's forkserver and returns
    (process, receiving connection).
    """
    outside = Path(tempfile.mkdtemp(prefix="grader-probe-bait-"))
    token = secrets.token_hex(16)
    (outside / "secret.txt").write_text(token)
    (outside / "victim.txt").write_text("intact")
    scratch = Path(tempfile.mkdtemp(prefix="probe-", dir=scratch_root))
    if uid is not None:
        os.chown(scratch, uid, uid)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    spec = ProbeSpec(
        str(scratch),
        str(outside),
        str(outside / "secret.txt"),
        str(outside / "victim.txt"),
        listener.getsockname()[1],
        os.getpid(),
        protected + [str(outside)],
        uid,
    )
    try:
        message = _run_probe(start_child, spec)
        connected = _accepted(listener)
        overwritten = (outside / "victim.txt").read_text() != "intact"
        visible = (scratch / MARKER).exists()
    finally:
        listener.close()
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return judge_probe(message, connected, overwritten, mode, visible)


def _run_probe(start_child: Callable[[Callable, tuple], Any], spec: ProbeSpec) -> tuple:
    process, conn = start_child(probe_main, (spec,))
    try:
        if not conn.poll(PROBE_SECONDS):
            raise SandboxError(f"the sandbox self-test did not answer within {PROBE_SECONDS:g} s")
        try:
            return wire.loads(conn.recv_bytes(1 << 20))
        except (EOFError, OSError) as exc:
            raise SandboxError(
                "the sandbox self-test ended without a report (did it manage to start a "
                f"program or get killed?): {exc or type(exc).__name__}"
            ) from None
    finally:
        process.kill()
        process.join(5)
        conn.close()


def _accepted(listener: socket.socket) -> bool:
    time.sleep(0.05)
    try:
        connection, _ = listener.accept()
        connection.close()
        return True
    except (BlockingIOError, OSError):
        return False


def judge_probe(message: tuple, connected: bool, overwritten: bool, mode: str, visible: bool = False) -> LayerReport:
    if message[0] == "probe-failed":
        raise SandboxError(f"the sandbox self-test failed inside the child: {message[1]}")
    _, report_data, results, ordinary = message
    report = LayerReport.from_dict(report_data)
    leaks = []
    for layer in KERNEL_LAYERS:
        how = report.on.get(layer)
        if how is None or how.startswith("seccomp:"):
            continue  # missing (said so), or covered by the seccomp layer's own checks
        for what, verdict in results.get(layer, {}).items():  # each layer's attacks run at its own stage
            if not verdict.startswith(REFUSED):
                leaks.append(f"the {WORDS[layer]} layer reports on ({how}) but the probe could {what}")
    if "network" in report.on and connected:
        leaks.append("the network layer reports on but a connection reached the grader's listener")
    if "files" in report.on and overwritten:
        leaks.append("the filesystem layer reports on but the probe overwrote a file outside its folder")
    if "disk" in report.on and visible:
        leaks.append("the disk layer reports on but a file the probe wrote reached the grader's scratch folder")
    if leaks:
        raise SandboxError("sandbox self-test failed, refusing to grade: " + "; ".join(leaks))
    if ordinary:
        raise SandboxError(f"student code could not run normally inside the sandbox ({ordinary}); refusing to grade")
    if mode == "require" and report.missing:
        raise SandboxError(
            "--sandbox require: this machine lacks "
            + "; ".join(f"{WORDS[k]} ({report.missing[k]})" for k in KERNEL_LAYERS if k in report.missing)
            + ". Grade on a machine that has "
            "every layer, or use --sandbox best to grade with the layers that exist."
        )
    return report
