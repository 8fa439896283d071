"""Account for the CPU time of processes a subprocess leaves behind.

``python -m grader grade`` starts a forkserver whose children do the grading. The
forkserver is not waited for by the grader, so its CPU time (and that of the children
it reaped) would be lost. Declared a child subreaper, this process inherits such
orphans and reaps them, which adds their CPU time to ``RUSAGE_CHILDREN``.
"""
from __future__ import annotations

import ctypes
import os
import time

PR_SET_CHILD_SUBREAPER = 36
_adopting = False


def adopt_orphans() -> bool:
    """Become a subreaper (once); False where the kernel does not support it."""
    global _adopting
    if not _adopting:
        try:
            _adopting = ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _adopting = False
    return _adopting


def own_children() -> set[int]:
    """Process ids whose parent is this process (from /proc)."""
    me = os.getpid()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == me:
                found.add(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


def reap_adopted(exclude: set[int], patience: float = 15.0) -> None:
    """Wait for the orphans adopted since ``exclude`` was taken (they exit on their own
    once the process that started them has gone); give up after ``patience`` seconds."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        pending = own_children() - exclude
        if not pending:
            return
        for pid in pending:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.02)
