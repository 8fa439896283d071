"""The boundary around student code: the kernel's, not Python's.

Read in this order:

* :mod:`.enter` puts the layers up in a fixed order inside each freshly forked child:
  :mod:`.inherited` (nothing inherited), the scratch copy, :mod:`.identity`,
  :mod:`.network` (namespaces), :mod:`.filesystem` (Landlock), :mod:`.signals` (Landlock
  scoping), :mod:`.syscalls` (seccomp), :mod:`.limits` (rlimits);
* :mod:`.child` runs the student's code inside them; :mod:`.audit` is a courtesy that
  names Python-level refusals, not part of the wall;
* :mod:`.parent` forks children from a warm forkserver, enforces deadlines, reads
  results, cleans up; the server's preload is :mod:`.preload` (with
  :mod:`.dynamo_deferral`, which keeps torch's compiler unloaded) or :mod:`.preload_batch`
  (plus its memory on huge pages, :mod:`.hugepages`, for cheaper forks);
* :mod:`.probe` is the start-up self-test, :mod:`.layers` says which layers a run has.
"""

from __future__ import annotations

from grader.sandbox.child import JobSpec
from grader.sandbox.layers import KERNEL_LAYERS, MODES, LayerReport, SandboxError
from grader.sandbox.limits import Limits
from grader.sandbox.parent import ChildRun, Exit, Sandbox, main_module_hidden, python_world_readable, start_forkserver

__all__ = [
    "JobSpec",
    "KERNEL_LAYERS",
    "MODES",
    "LayerReport",
    "SandboxError",
    "Limits",
    "ChildRun",
    "Exit",
    "Sandbox",
    "main_module_hidden",
    "python_world_readable",
    "start_forkserver",
]
