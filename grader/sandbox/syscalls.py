"""Layer 5, system calls: a seccomp deny-list (through the ``pyseccomp`` binding of libseccomp).

A deny-list, like IOI's isolate, rather than an allow-list: NumPy, torch and their
OpenMP/BLAS threads use a long and version-dependent list of ordinary calls, while what a
grading child must never do is short. Refused calls fail with EPERM (the student's code
sees "Operation not permitted"); nothing is killed, so the run goes on and the feedback
can say what was refused.

Refused: new processes (fork, vfork, clone without CLONE_THREAD or with any namespace
flag; clone3 fails with ENOSYS so that glibc falls back to clone for threads), exec,
sockets, debugging or reading other processes (ptrace, process_vm_*, pidfd_*, kcmp),
namespaces and mounts (after the namespace layer the child holds capabilities inside its
own user namespace, so these must go too), BPF, io_uring, the kernel keyring, System V
IPC and POSIX message queues, links (a link in scratch could make the parent read a file
it should not), device files, identity changes, kernel modules and similar
administration. Signals and resource changes are allowed only for the child itself.
Calls from another architecture's ABI (32-bit ``int 0x80``, x32) kill the process.

The warm forkserver compiles the filter once (:func:`prepare`); a child writes its own
pid into the compiled program and loads it (see "compiled once" below).
"""

from __future__ import annotations

import ctypes
import errno
import struct
import tempfile

try:  # Linux with libseccomp only; elsewhere this layer is simply missing
    import pyseccomp
except Exception:  # noqa: BLE001 - ImportError, or RuntimeError("Unable to find libseccomp")
    pyseccomp = None

from grader.sandbox.native import (
    CLONE_NEW_FLAGS,
    CLONE_THREAD,
    IS_LINUX,
    PR_GET_SECCOMP,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_SECCOMP,
    SECCOMP_MODE_FILTER,
    prctl,
)

# Grouped by what the feedback calls them (see :func:`describe_refusal`).
DENIED = {
    "starting a program": ("execve", "execveat", "uselib"),
    "starting a process": ("fork", "vfork"),
    "network access": ("socket", "socketpair"),
    "reaching into another process": (
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "process_madvise",
        "kcmp",
        "pidfd_open",
        "pidfd_getfd",
        "pidfd_send_signal",
        "tkill",
        "ioprio_set",
    ),
    "changing namespaces or mounts": (
        "unshare",
        "setns",
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "move_mount",
        "open_tree",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "mount_setattr",
    ),
    "kernel facilities a grader does not offer": (
        "bpf",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "keyctl",
        "add_key",
        "request_key",
        "userfaultfd",
        "perf_event_open",
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "acct",
        "swapon",
        "swapoff",
        "reboot",
        "syslog",
        "quotactl",
        "name_to_handle_at",
        "open_by_handle_at",
        "lookup_dcookie",
        "fanotify_init",
        "iopl",
        "ioperm",
        "vhangup",
    ),
    "shared memory or message queues between processes": (
        "shmget",
        "shmat",
        "shmctl",
        "msgget",
        "msgsnd",
        "msgrcv",
        "msgctl",
        "semget",
        "semop",
        "semtimedop",
        "semctl",
        "mq_open",
        "mq_unlink",
        "mq_timedsend",
        "mq_timedreceive",
        "mq_notify",
        "mq_getsetattr",
    ),
    "creating links or device files": ("link", "linkat", "symlink", "symlinkat", "mknod", "mknodat"),
    "changing user or group": (
        "setuid",
        "setgid",
        "setreuid",
        "setregid",
        "setresuid",
        "setresgid",
        "setgroups",
        "setfsuid",
        "setfsgid",
        "capset",
    ),
}
# Allowed only when the first argument is the child itself (its pid, or 0 for "myself").
SELF_ONLY = {
    "kill": "pid",
    "tgkill": "pid",
    "rt_sigqueueinfo": "pid",
    "rt_tgsigqueueinfo": "pid",
    "prlimit64": "zero",
    "move_pages": "zero",
    "migrate_pages": "zero",
}


def available() -> str | None:
    """None when this layer can be used here, else why not."""
    if not IS_LINUX:
        return "seccomp is Linux-only"
    if pyseccomp is None:
        return "libseccomp (or the pyseccomp binding) is not installed"
    try:
        prctl(PR_GET_SECCOMP)
    except OSError as exc:
        return f"this kernel has no seccomp ({exc.strerror})"
    return None


def restrict(pid: int) -> str:
    """Load the filter into this process (and every thread it starts later); return how."""
    problem = available()
    if problem:
        raise OSError(0, problem)
    if _compiled is not None:
        _compiled.load(pid)
        skipped = _compiled.skipped
    else:  # not prepared in a server, or the program could not be patched
        rules, skipped = _rules(pid)
        rules.load()
    return "seccomp deny-list" + (f" ({len(skipped)} calls unknown to libseccomp)" if skipped else "")


def _rules(pid: int):
    """The filter for a child whose pid is ``pid``, and the names libseccomp did not know."""
    s = pyseccomp
    deny = s.ERRNO(errno.EPERM)
    rules = s.SyscallFilter(s.ALLOW)
    rules.set_attr(s.Attr.ACT_BADARCH, s.KILL_PROCESS)
    skipped = []
    for names in DENIED.values():
        for name in names:
            if not _add(rules, deny, name):
                skipped.append(name)
    # Threads only: a clone without CLONE_THREAD, or with any CLONE_NEW* flag, is refused.
    rules.add_rule(deny, "clone", s.Arg(0, s.MASKED_EQ, CLONE_THREAD, 0))
    for flag in CLONE_NEW_FLAGS:
        rules.add_rule(deny, "clone", s.Arg(0, s.MASKED_EQ, flag, flag))
    rules.add_rule(s.ERRNO(errno.ENOSYS), "clone3")  # glibc then falls back to clone
    rules.add_rule(deny, "setpriority", s.Arg(1, s.NE, 0))
    for name, allowed in SELF_ONLY.items():
        _add(rules, deny, name, s.Arg(0, s.NE, pid if allowed == "pid" else 0))
    return rules, skipped


# --- compiled once -----------------------------------------------------------------------
#
# Building the filter through libseccomp takes a child about 2.5 ms (a hundred rules, then
# libseccomp's compiler). The program differs between children only in the child's own pid
# (the SELF_ONLY rules), so the warm server compiles it once with a placeholder pid, and
# each child writes its pid into those places and hands the program to the kernel itself.
# The places are found by compiling twice with two placeholders and comparing: anything
# else that differs means the program cannot be patched, and children compile their own.

PLACEHOLDERS = (0x2BAD_F00D, 0x3C0F_FEE5)  # above any pid (pid_max is at most 2**22)
BPF_JMP = 0x05
INSTRUCTION = struct.Struct("=HBBI")  # struct sock_filter: code, jt, jf, k


class CompiledFilter:
    """A BPF program with the places where the child's pid goes."""

    def __init__(self, program: bytes, pid_slots: list[int], skipped: list[str]):
        self.program = program
        self.pid_slots = pid_slots  # instruction indexes whose k is the pid
        self.skipped = skipped

    @classmethod
    def build(cls) -> CompiledFilter | None:
        """Compile with two placeholders; None when the two programs differ elsewhere."""
        first, skipped = _export(PLACEHOLDERS[0])
        second, _ = _export(PLACEHOLDERS[1])
        if len(first) != len(second) or len(first) % INSTRUCTION.size:
            return None
        slots = []
        for index in range(len(first) // INSTRUCTION.size):
            a = INSTRUCTION.unpack_from(first, index * INSTRUCTION.size)
            b = INSTRUCTION.unpack_from(second, index * INSTRUCTION.size)
            if a == b:
                continue
            if a[:3] != b[:3] or a[0] & 0x07 != BPF_JMP or (a[3], b[3]) != PLACEHOLDERS:
                return None
            slots.append(index)
        return cls(first, slots, skipped) if slots else None

    def for_pid(self, pid: int) -> bytes:
        program = bytearray(self.program)
        for index in self.pid_slots:
            code, jt, jf, _ = INSTRUCTION.unpack_from(program, index * INSTRUCTION.size)
            INSTRUCTION.pack_into(program, index * INSTRUCTION.size, code, jt, jf, pid)
        return bytes(program)

    def load(self, pid: int) -> None:
        """Install the program for ``pid`` in this (single-threaded) process, as libseccomp would."""
        program = self.for_pid(pid)
        buffer = ctypes.create_string_buffer(program, len(program))
        fprog = SockFprog(len(program) // INSTRUCTION.size, ctypes.cast(buffer, ctypes.c_void_p))
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog))


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _export(pid: int) -> tuple[bytes, list[str]]:
    rules, skipped = _rules(pid)
    with tempfile.TemporaryFile() as fh:
        rules.export_bpf(fh)
        fh.seek(0)
        return fh.read(), skipped


_compiled: CompiledFilter | None = None


def prepare() -> None:
    """Compile the filter once (in the warm forkserver); children then only patch and load it."""
    global _compiled
    if available() is None and _compiled is None:
        try:
            _compiled = CompiledFilter.build()
        except OSError:
            _compiled = None


def _add(rules, action, name: str, *args) -> bool:
    """Add one rule; False when this libseccomp does not know the call (an older version)."""
    try:
        rules.add_rule(action, name, *args)
        return True
    except OSError:
        return False


def describe_refusal(call: str) -> str:
    for what, names in DENIED.items():
        if call in names:
            return what
    return "a system call the grader forbids"
