"""Which imports a task file may make: the rule the static check and the child's audit hook share.

Child side: a child gets its file's :class:`ImportRule` in its job and applies it to every
import the student's code makes at run time.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

# Python's standard library, as far as the running interpreter knows it (3.10+).
STDLIB = frozenset(sys.stdlib_module_names)

# Standard-library modules that no task needs and whose only use in a task file would be
# to escape the sandbox (processes, signals, raw memory, sockets, the garbage collector's
# view of every object). Importing one costs the file its points like any other
# disallowed import; the rest of the standard library stays allowed, as the contract says.
FORBIDDEN_STDLIB = frozenset(
    {
        "ctypes",
        "subprocess",
        "multiprocessing",
        "socket",
        "ssl",
        "signal",
        "pty",
        "resource",
        "gc",
        "mmap",
        "fcntl",
        "posix",
        "_thread",
        "_posixsubprocess",
    }
)


@dataclass(frozen=True)
class ImportRule:
    """Third-party top-level packages a file may import, and whether the standard library is allowed."""

    packages: frozenset[str]
    stdlib: bool = True

    def allows(self, module: str) -> bool:
        top = module.split(".")[0]
        return top in self.packages or (self.stdlib and top in STDLIB and top not in FORBIDDEN_STDLIB)
