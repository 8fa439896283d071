"""Layer 1, nothing inherited: file descriptors, standard streams and the environment.

A forked child starts with copies of everything its parents held open: the forkserver's
socket and pipes, the resource tracker's pipe, files torch opened while warming up. A
kernel filesystem rule does not revoke a descriptor that is already open, so every one of
them is closed before any other layer goes up. Only the result channel survives; fd 0 is
``/dev/null`` and fds 1 and 2 go to a bounded file in the child's own scratch folder. The
environment (which may hold a TA's tokens or paths) is replaced by the few variables the
child needs.
"""

from __future__ import annotations

import os
import tempfile

NATIVE_OUTPUT = "native-output.txt"  # what C code writes to fds 1 and 2, in the scratch folder


def redirect_stdio(scratch: str) -> None:
    """fd 0 reads nothing; fds 1 and 2 write to ``scratch/native-output.txt``."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    log = os.open(os.path.join(scratch, NATIVE_OUTPUT), os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)


def close_inherited(keep: set[int]) -> int:
    """Close every open descriptor except stdio and ``keep``; return how many were closed."""
    keep = keep | {0, 1, 2}
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc (not Linux): close a generous range instead
        fds = [fd for fd in range(3, 1024) if fd not in keep]
    closed = 0
    for fd in fds:
        if fd in keep:
            continue
        try:
            os.close(fd)
            closed += 1
        except OSError:
            pass  # the listing's own descriptor, already gone
    return closed


# One thread for each numeric library: children and the server they fork from (parent.py).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def minimal_environment(scratch: str) -> dict[str, str]:
    """Everything a child needs from its environment, and nothing else."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        **{name: "1" for name in THREAD_VARIABLES},
    }


def replace_environment(scratch: str) -> None:
    os.environ.clear()  # also clears the C-level environment (unsetenv)
    os.environ.update(minimal_environment(scratch))
    # tempfile chose its folder once, in the server (/tmp, out of a child's bounds); temporary
    # files of the student's code, and caches libraries put there, belong in the scratch folder.
    tempfile.tempdir = scratch
