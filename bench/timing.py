"""Timing helpers: side-by-side repeated runs, and subprocesses timed with their CPU use."""
from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from . import procs


@dataclass
class Sample:
    """Repeated timings of one thing, in seconds."""

    times: list[float]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def interleaved(candidates: dict[str, Callable[[], object]], repeats: int) -> dict[str, Sample]:
    """Time each candidate ``repeats`` times, taking turns, so that load on the machine
    falls on all of them alike. Every candidate runs once untimed first (warm-up); the
    order alternates between rounds."""
    for run in candidates.values():
        run()
    names = list(candidates)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(max(1, repeats)):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            started = time.perf_counter()
            candidates[name]()
            times[name].append(time.perf_counter() - started)
    return {name: Sample(values) for name, values in times.items()}


@dataclass
class Finished:
    """A subprocess that ran to the end: its output, wall seconds and CPU seconds."""

    stdout: str
    stderr: str
    returncode: int
    wall: float
    cpu: float          # user + system of the process and every descendant reaped
    own_cpu: float      # the process itself (and the children it waited for)


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None,
        timeout: float | None = None) -> Finished:
    """Run ``command`` to completion. CPU time includes processes it left behind (the
    grader's forkserver and its children), which this process adopts and reaps."""
    procs.adopt_orphans()
    before_children = procs.own_children()
    cpu_before = cpu_of_children()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    wall = time.perf_counter() - started
    own = cpu_of_children() - cpu_before        # only the direct child has been reaped so far
    procs.reap_adopted(exclude=before_children)
    return Finished(done.stdout, done.stderr, done.returncode, wall, cpu_of_children() - cpu_before, own)


BURN = ("import time\n"
        "start = time.process_time()\n"
        "while time.process_time() - start < {seconds}:\n"
        "    pass\n")


def free_cores(processes: int = 2, seconds: float = 0.5) -> float:
    """How many cores the machine gives ``processes`` CPU-bound processes right now:
    their CPU seconds over the wall time they take together (``processes`` at most)."""
    code = BURN.format(seconds=seconds)
    started = time.perf_counter()
    running = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(processes)]
    for process in running:
        process.wait()
    elapsed = time.perf_counter() - started
    return min(float(processes), processes * seconds / elapsed)


def median_wall(command: list[str], repeats: int, env: dict[str, str] | None = None) -> float:
    """Median wall seconds of ``command`` over ``repeats`` runs."""
    return statistics.median(run(command, env=env).wall for _ in range(max(1, repeats)))
