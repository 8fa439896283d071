"""Layer 3, the filesystem: a Landlock ruleset (through the ``landlockpy`` binding).

After it, the child may read only where its imports live (the standard library, the
site-packages folders and the folders of the shared libraries the warm process mapped),
its own ``/proc/<pid>``, and a few files libraries read (CPU information, the dynamic
linker's cache, the time zone). It may read and write its own scratch folder, but not
create links, FIFOs, sockets or device files there. Everything else, including the
submissions folder, the results, the solutions, the tests and every other child's
scratch folder, is out of reach, whether student code asks through Python or through
native code. Landlock also refuses TCP bind and connect (ABI 4 and later).

The read-only list is computed once in the warm forkserver (:func:`prepare`), where the
libraries are already mapped; each child narrows it with its job's protected folders.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path
from types import ModuleType

from grader.sandbox.native import IS_LINUX

landlockpy: ModuleType | None  # None where this layer is missing
try:  # Linux only; elsewhere this layer is simply missing
    import landlockpy
    from landlockpy import AccessFS, AccessNet, Ruleset
except Exception:  # noqa: BLE001 - ImportError, or an OSError from a missing libc
    landlockpy = None
if not IS_LINUX:  # also where another platform is simulated (native.PLATFORM)
    landlockpy = None

# Files libraries read at run time; harmless to show (no student data, no secrets).
SYSTEM_FILES = (
    "/proc/cpuinfo",
    "/proc/meminfo",
    "/sys/devices/system/cpu",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/usr/share/zoneinfo",
    "/dev/urandom",
    "/dev/zero",
)
READ_WRITE_FILES = ("/dev/null",)

_readable: list[str] | None = None


def abi_version() -> int:
    """The Landlock ABI this kernel offers, 0 when it has none (or this is not Linux)."""
    if landlockpy is None:
        return 0
    try:
        return int(landlockpy.abi_version())
    except Exception:  # noqa: BLE001 - UnsupportedError, OSError
        return 0


def prepare() -> list[str]:
    """Compute (once) the folders imports come from; called in the warm forkserver."""
    global _readable
    if _readable is None:
        _readable = _minimal(_import_roots() | _library_folders())
        abi_version()  # resolves the C library inside landlockpy now, not in a child
    return _readable


def rehearse() -> None:
    """Build (and throw away) the ruleset a child builds, once, in the warm forkserver.

    The binding combines access flags with Python's ``enum.Flag``, which computes each
    combination the first time it is made: about 1.5 ms of a child's set-up when every
    child starts from scratch, nothing once the server has made them all.
    """
    if abi_version() < 1:
        return
    with _ruleset(os.path.realpath(os.curdir), []):
        pass


def readable_for(protected: list[str]) -> list[str]:
    """The read-only folders, minus any that would expose a protected one.

    A folder that contains a protected folder (the repository root holding ``solutions/``,
    say, which is on ``sys.path`` when the grader runs from it) is dropped entirely.
    """
    shielded = [os.path.realpath(p) for p in protected]
    return [path for path in prepare() if not any(_inside(p, path) for p in shielded)]


def restrict(scratch: str, protected: list[str]) -> str:
    """Enforce the ruleset on this (single-threaded) process; return how, or raise OSError."""
    if landlockpy is None:
        raise OSError(0, "Landlock is not available (not Linux, or no landlockpy)")
    abi = abi_version()
    if abi < 1:
        raise OSError(0, "this kernel has no Landlock (needs Linux 5.13+ with Landlock enabled)")
    with _ruleset(scratch, protected) as ruleset:
        ruleset.restrict()
    network = ", TCP refused" if abi >= 4 else ""
    return f"Landlock ABI {abi}{network}"


def _ruleset(scratch: str, protected: list[str]) -> Ruleset:
    """The child's ruleset, built but not enforced: read-only imports, read-write scratch."""
    read_dir = AccessFS.READ_FILE | AccessFS.READ_DIR
    scratch_rights = (
        read_dir
        | AccessFS.WRITE_FILE
        | AccessFS.TRUNCATE
        | AccessFS.MAKE_REG
        | AccessFS.MAKE_DIR
        | AccessFS.REMOVE_FILE
        | AccessFS.REMOVE_DIR
    )
    handled_net = AccessNet.BIND_TCP | AccessNet.CONNECT_TCP  # dropped below ABI 4 (best effort)
    ruleset = Ruleset(handled_net=handled_net)
    try:
        for path in readable_for(protected):
            _allow(ruleset, path, read_dir)
        for path in SYSTEM_FILES + (f"/proc/{os.getpid()}",):
            _allow(ruleset, path, read_dir)
        for path in READ_WRITE_FILES:
            _allow(ruleset, path, AccessFS.READ_FILE | AccessFS.WRITE_FILE)
        ruleset.allow_path(scratch, scratch_rights)
    except BaseException:
        ruleset.close()
        raise
    return ruleset


def _allow(ruleset, path: str, rights) -> None:
    """Grant ``rights`` on ``path`` if it exists; files get only the rights files can have."""
    try:
        is_dir = os.path.isdir(path)
        if not is_dir and not os.path.exists(path):
            return
        if not is_dir:
            rights = rights & (AccessFS.READ_FILE | AccessFS.WRITE_FILE | AccessFS.TRUNCATE)
        ruleset.allow_path(path, rights)
    except OSError:
        pass  # vanished or unreadable: nothing granted, which is the safe side


def _import_roots() -> set[str]:
    """The standard library and the site-packages folders, and nothing else on ``sys.path``.

    Other ``sys.path`` entries are not granted: the first one is the folder the grader was
    started from (a TA's home folder, say), and a ``.pth`` file may add a whole checkout.
    """
    import site

    roots = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            roots.add(paths[key])
    roots.update(getattr(site, "getsitepackages", lambda: [])())
    user_site = getattr(site, "getusersitepackages", lambda: None)()
    if user_site and user_site in sys.path:
        roots.add(user_site)
    dynload = os.path.join(
        sys.base_exec_prefix, "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "lib-dynload"
    )
    roots.add(dynload)
    return {os.path.realpath(r) for r in roots if os.path.isdir(r)}


def _library_folders() -> set[str]:
    """Folders of every shared object mapped into this process."""
    folders = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                fields = line.split(None, 5)
                if len(fields) == 6 and fields[5].startswith("/"):
                    path = fields[5].strip()
                    if ".so" in os.path.basename(path):
                        folders.add(os.path.dirname(os.path.realpath(path)))
    except OSError:
        pass
    return folders


def _minimal(paths: set[str]) -> list[str]:
    """Drop folders already covered by another one; never grant the whole filesystem."""
    ordered = sorted(p for p in paths if p not in ("/", ""))
    kept: list[str] = []
    for path in ordered:
        if not any(_inside(path, parent) for parent in kept):
            kept.append(path)
    return kept


def _inside(path: str, folder: str) -> bool:
    """True when ``path`` is ``folder`` or lies beneath it."""
    path, folder = str(Path(path)), str(Path(folder))
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
