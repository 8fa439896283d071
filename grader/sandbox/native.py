"""The C library and the kernel constants the sandbox layers call, resolved once.

Resolved in the warm parent (the forkserver's preload imports this module), never in a
child: ``ctypes.util.find_library`` runs ``/sbin/ldconfig`` as a subprocess, which a
sandboxed child may not do. ``CDLL(None)`` is the process's own C library and needs no
search.
"""

from __future__ import annotations

import ctypes
import os
import sys

# GRADER_SIMULATE_PLATFORM=darwin or win32 makes the grader run as it does there (no kernel
# layers; on win32 also no rlimits and no forkserver), so that the fallback a student's Mac
# or Windows laptop takes is tested on Linux (tests/test_student_kit.py).
PLATFORM = os.environ.get("GRADER_SIMULATE_PLATFORM") or sys.platform
IS_LINUX = PLATFORM.startswith("linux")

# <linux/sched.h>
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_NEWTIME = 0x00000080
CLONE_THREAD = 0x00010000
CLONE_NEW_FLAGS = (
    CLONE_NEWNS,
    CLONE_NEWCGROUP,
    CLONE_NEWUTS,
    CLONE_NEWIPC,
    CLONE_NEWUSER,
    CLONE_NEWPID,
    CLONE_NEWNET,
    CLONE_NEWTIME,
)

# <linux/prctl.h>
PR_SET_PDEATHSIG = 1
PR_GET_SECCOMP = 21
PR_SET_SECCOMP = 22
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

# <linux/seccomp.h>
SECCOMP_MODE_FILTER = 2

# <sys/mount.h>
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REC = 16384
MS_PRIVATE = 1 << 18


def _load_libc() -> ctypes.CDLL | None:
    if not IS_LINUX:
        return None
    try:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.prctl.restype = ctypes.c_int
        lib.unshare.restype = ctypes.c_int
        lib.unshare.argtypes = (ctypes.c_int,)
        lib.madvise.restype = ctypes.c_int
        lib.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        lib.mount.restype = ctypes.c_int
        lib.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
        return lib
    except (OSError, AttributeError):
        return None


libc = _load_libc()


def prctl(option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
    """``prctl(2)``; raises OSError on failure."""
    if libc is None:
        raise OSError(0, "prctl is not available on this platform")
    result = libc.prctl(option, ctypes.c_ulong(arg2), ctypes.c_ulong(arg3), ctypes.c_ulong(arg4), ctypes.c_ulong(arg5))
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def unshare(flags: int) -> None:
    """``unshare(2)``; raises OSError on failure."""
    if libc is None:
        raise OSError(0, "unshare is not available on this platform")
    if libc.unshare(flags) == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    """``mount(2)``; raises OSError on failure."""
    if libc is None:
        raise OSError(0, "mount is not available on this platform")

    def encoded(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    if libc.mount(encoded(source), encoded(target), encoded(fstype), flags, encoded(data)) == -1:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
