"""Layer 7, limits: the child's lifetime and its resources.

Its own session (the parent kills the whole process group), death with the forkserver
(so a grader killed with SIGKILL takes every child with it), and resource limits on
address space, file size, core dumps and CPU time. Wall-clock deadlines are the parent's
job (:mod:`grader.sandbox.parent`).
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from types import ModuleType

from grader.sandbox.native import PLATFORM, PR_SET_PDEATHSIG, prctl

resource: ModuleType | None  # None where the platform has no resource limits
try:
    import resource
except ImportError:  # Windows
    resource = None
if PLATFORM == "win32":  # simulated (see native.PLATFORM)
    resource = None


@dataclass
class Limits:
    """Resource limits for one child. Times are seconds, sizes bytes."""

    memory: int = 3 * 1024**3  # address space beyond what the warm process uses
    output_per_case: int = 4096  # captured print output kept per case
    file_size: int = 16 * 1024**2  # largest file the child may write
    processes: int = 256  # threads+processes of the isolated uid


def own_session() -> None:
    """A new session and process group, so the parent can kill the child with all it started."""
    if hasattr(os, "setsid"):
        os.setsid()
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail instead of killing us


def die_with_parent() -> None:
    """Ask the kernel to kill this child when the forkserver that forked it exits.

    The forkserver exits once every holder of its "alive" pipe is gone. Python hands that
    pipe to each forked child too; the child's copy is closed with the other inherited
    descriptors (:mod:`.inherited`), so the forkserver goes when the grader goes (even
    after a SIGKILL), and takes this child with it.
    """
    parent = os.getppid()
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def apply(limits: Limits, cpu_seconds: int, isolated_uid: bool) -> str:
    if resource is None:
        return "none on this platform (a wall-clock deadline only)"
    if isolated_uid:
        _limit(resource.RLIMIT_NPROC, limits.processes)
    address_space = _address_space_now()
    if address_space:
        _limit(resource.RLIMIT_AS, address_space + limits.memory)
    _limit(resource.RLIMIT_FSIZE, limits.file_size)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_CPU, cpu_seconds)
    return "address space, file size, CPU time" if address_space else "file size, CPU time"


def _limit(which: int, value: int) -> None:
    """Set soft and hard limit to ``value`` (never above an existing hard limit)."""
    assert resource is not None  # apply() returns before calling this without it
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _address_space_now() -> int:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
