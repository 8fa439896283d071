"""Layer 4, the network: a new user and network namespace with no route anywhere.

In a fresh network namespace even the loopback interface is down, so a TCP connection to
the grading machine itself, to a database on localhost or to the internet has nowhere to
go. The user namespace lets an unprivileged process create it; the child's own uid and
gid are mapped to themselves, so the files it writes in its scratch folder keep the
grader's ownership. The seccomp layer refuses ``socket()`` as well, so a path this layer
misses (a pathname Unix socket, which network namespaces do not cover) still leads nowhere.

Must run while the process has a single thread: the kernel refuses a new user namespace
to a multithreaded process.
"""

from __future__ import annotations

import os

from grader.sandbox.native import CLONE_NEWNET, CLONE_NEWUSER, IS_LINUX, unshare


def isolate() -> str:
    """Enter the namespaces; return how, or raise OSError."""
    if not IS_LINUX:
        raise OSError(0, "namespaces are Linux-only")
    uid, gid = os.geteuid(), os.getegid()
    try:
        unshare(CLONE_NEWUSER | CLONE_NEWNET)
    except OSError as exc:
        if os.geteuid() != 0:
            raise OSError(exc.errno, f"unshare(user + network) refused: {exc.strerror}") from None
        # Root inside a container whose policy forbids user namespaces may still own a
        # network namespace of its own.
        try:
            unshare(CLONE_NEWNET)
        except OSError as again:
            raise OSError(again.errno, f"unshare(network) refused: {again.strerror}") from None
        return "network namespace"
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")
    return "user + network namespace"


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)
