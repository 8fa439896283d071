"""Layer 6, signals: no signal leaves the child (Landlock scoping, ABI 6 and later).

A second, stacked Landlock domain that handles no file rights but scopes signals and
abstract Unix sockets: the kernel then refuses a ``kill`` aimed at any process outside
this child's own domain (the grader, the forkserver, other students' children, the TA's
shell), whichever way it is made, and a connection to an abstract socket outside. The
seccomp layer adds a second line of its own: ``kill`` and its relatives accept only the
child's own pid.
"""

from __future__ import annotations

from grader.sandbox.filesystem import abi_version

SCOPING_ABI = 6


def restrict() -> str:
    """Scope signals to this process's domain; return how, or raise OSError."""
    abi = abi_version()
    if abi < SCOPING_ABI:
        raise OSError(
            0,
            f"Landlock signal scoping needs ABI {SCOPING_ABI}, this kernel has "
            + (f"ABI {abi}" if abi else "no Landlock"),
        )
    with _ruleset() as ruleset:
        ruleset.restrict()
    return "Landlock scoping"


def rehearse() -> None:
    """Build (and throw away) the scoping ruleset once in the warm forkserver (see
    :func:`.filesystem.rehearse`: the flag combinations are then computed for every child)."""
    if abi_version() >= SCOPING_ABI:
        with _ruleset():
            pass


def _ruleset():
    from landlockpy import AccessFS, AccessNet, Ruleset, Scope

    return Ruleset(
        handled_fs=AccessFS.NONE, handled_net=AccessNet.NONE, scoped=Scope.SIGNAL | Scope.ABSTRACT_UNIX_SOCKET
    )
