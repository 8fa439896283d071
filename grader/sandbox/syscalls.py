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
"""
from __future__ import annotations

import errno

try:  # Linux with libseccomp only; elsewhere this layer is simply missing
    import pyseccomp
except Exception:  # noqa: BLE001 - ImportError, or RuntimeError("Unable to find libseccomp")
    pyseccomp = None

from .native import CLONE_NEW_FLAGS, CLONE_THREAD, IS_LINUX, PR_GET_SECCOMP, prctl

# Grouped by what the feedback calls them (see :func:`describe_refusal`).
DENIED = {
    "starting a program": ("execve", "execveat", "uselib"),
    "starting a process": ("fork", "vfork"),
    "network access": ("socket", "socketpair"),
    "reaching into another process": ("ptrace", "process_vm_readv", "process_vm_writev", "process_madvise",
                                      "kcmp", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
                                      "ioprio_set"),
    "changing namespaces or mounts": ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
                                      "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick",
                                      "mount_setattr"),
    "kernel facilities a grader does not offer": (
        "bpf", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
        "userfaultfd", "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module",
        "delete_module", "acct", "swapon", "swapoff", "reboot", "syslog", "quotactl", "name_to_handle_at",
        "open_by_handle_at", "lookup_dcookie", "fanotify_init", "iopl", "ioperm", "vhangup"),
    "shared memory or message queues between processes": (
        "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop",
        "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
        "mq_getsetattr"),
    "creating links or device files": ("link", "linkat", "symlink", "symlinkat", "mknod", "mknodat"),
    "changing user or group": ("setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid",
                               "setgroups", "setfsuid", "setfsgid", "capset"),
}
# Allowed only when the first argument is the child itself (its pid, or 0 for "myself").
SELF_ONLY = {"kill": "pid", "tgkill": "pid", "rt_sigqueueinfo": "pid", "rt_tgsigqueueinfo": "pid",
             "prlimit64": "zero", "move_pages": "zero", "migrate_pages": "zero"}


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
    rules.add_rule(s.ERRNO(errno.ENOSYS), "clone3")   # glibc then falls back to clone
    rules.add_rule(deny, "setpriority", s.Arg(1, s.NE, 0))
    for name, allowed in SELF_ONLY.items():
        _add(rules, deny, name, s.Arg(0, s.NE, pid if allowed == "pid" else 0))
    rules.load()
    return "seccomp deny-list" + (f" ({len(skipped)} calls unknown to libseccomp)" if skipped else "")


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
