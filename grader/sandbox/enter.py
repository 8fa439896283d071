"""The boundary, in the order a child puts it up, right after fork and before student bytes.

1. nothing inherited (:mod:`.inherited`): every descriptor but stdio and the result
   channel closed, stdio replaced, a minimal environment;
2. its own copy (:mod:`.parent` staged the submission in this child's scratch folder;
   the child works there and needs nothing else of the grading tree);
   an unprivileged uid when the grader runs as root (:mod:`.identity`);
3. network (:mod:`.network`): a new user + network namespace. It comes before the
   filesystem layer because it writes the child's ``/proc/self/uid_map``, which the
   filesystem layer then makes read-only; and it must happen while the child still has
   a single thread;
4. disk (:mod:`.disk`): a mount namespace and a private tmpfs with a quota as the scratch
   folder (it needs the user namespace, and must come before Landlock's rule for it);
5. filesystem (:mod:`.filesystem`): Landlock, read-only imports, read-write scratch;
6. signals (:mod:`.signals`): Landlock scoping;
7. system calls (:mod:`.syscalls`): seccomp, last of the kernel layers, because it
   forbids calls the layers above make (``unshare``, ``mount``);
8. limits (:mod:`.limits`): rlimits; the parent adds wall-clock deadlines.

A layer that fails is recorded, never silently skipped. Whether a missing layer stops
the child is the caller's decision (:mod:`.child`, from the run's ``--sandbox`` mode).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from grader.sandbox import disk, filesystem, identity, inherited, limits, network, signals, syscalls
from grader.sandbox.layers import OFF, LayerReport

Checkpoint = Callable[[str], None]


def enter(
    scratch: str,
    keep_fds: set[int],
    protected: list[str],
    uid: int | None,
    job_limits: limits.Limits,
    cpu_seconds: int,
    checkpoint: Checkpoint | None = None,
    kernel_layers: bool = True,
    module_path: str | None = None,
) -> LayerReport:
    """Put every layer up in order; return which kernel layers are on.

    ``keep_fds`` are the channels to the parent; ``module_path`` is the student's file the
    parent staged in ``scratch`` (copied into the private scratch space). ``checkpoint(name)``
    runs after each step (the start-up probe tries its attacks there, so each layer is
    tested on its own). ``kernel_layers=False`` (``--sandbox off``, for measuring what the
    layers cost) skips the kernel layers and says so.
    """
    started = time.perf_counter()
    report = LayerReport()
    mark = checkpoint or (lambda name: None)

    limits.own_session()
    inherited.close_inherited(set(keep_fds))
    inherited.redirect_stdio(scratch)
    inherited.replace_environment(scratch)
    mark("inherited")

    os.chdir(scratch)
    identity.drop_to(uid)
    limits.die_with_parent()  # after the uid change, which would clear it
    mark("scratch")

    staged = [module_path] if module_path else []
    for name, put_up in (
        ("network", network.isolate),
        ("disk", lambda: disk.private_scratch(scratch, staged)),
        ("files", lambda: filesystem.restrict(scratch, protected)),
        ("signals", signals.restrict),
        ("syscalls", lambda: syscalls.restrict(os.getpid())),
    ):
        if not kernel_layers:
            report.missing[name] = OFF
            continue
        try:
            report.on[name] = put_up()
        except Exception as exc:  # noqa: BLE001 - OSError, or a binding's own error type
            report.missing[name] = _reason(exc)
        mark(name)
    if "signals" in report.missing and "syscalls" in report.on:
        # Without Landlock scoping the seccomp filter still limits kill() to the child itself.
        report.on["signals"] = "seccomp: kill() of the child itself only"
        del report.missing["signals"]

    limits.apply(job_limits, cpu_seconds, isolated_uid=uid is not None)
    mark("limits")
    report.seconds = time.perf_counter() - started
    return report


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())[:160]
