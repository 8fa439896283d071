"""What the kernel sandbox costs: set-up time per child, and grading throughput with and
without it, measured side by side in one run.

* set-up: a process that has imported what the forkserver imports forks children one
  after another; each puts up every layer (:func:`grader.sandbox.enter.enter`) and
  reports how long that took. The same number of children that skip the kernel layers
  gives the baseline of the fork itself. Both again after the process moved its memory onto
  huge pages, as the batch forkserver does (:mod:`grader.sandbox.hugepages`).
* throughput: the benchmark class graded with ``--jobs 2`` six times per setting, in
  rounds of one run each (``--sandbox off`` and ``--sandbox best``, the order alternating
  between rounds); the overhead is the median of the rounds' ratios.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .env import PYTHON, REPO, child_env

SETUP_SCRIPT = r'''
import json, os, shutil, sys, tempfile, time
import grader.sandbox.preload                      # what every child inherits
from grader.sandbox.enter import enter
from grader.sandbox.limits import Limits

def one(kernel_layers):
    scratch = tempfile.mkdtemp()
    read, write = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        report = enter(scratch, {write}, [], None, Limits(), 60, kernel_layers=kernel_layers)
        os.write(write, json.dumps([report.seconds, sorted(report.missing)]).encode())
        os._exit(0)
    os.close(write)
    data = json.loads(os.read(read, 4096))
    os.waitpid(pid, 0)
    os.close(read)
    shutil.rmtree(scratch, ignore_errors=True)
    return data[0], time.perf_counter() - started, data[1]

count = int(sys.argv[1])
rows = {"on": [], "off": [], "on_huge": [], "off_huge": []}
for i in range(count):
    for mode in ("on", "off"):          # interleaved: machine noise hits both
        rows[mode].append(one(mode == "on"))
from grader.sandbox import hugepages     # then as the batch server: its memory on huge pages
hugepages.collapse()
for i in range(count):
    for mode in ("on", "off"):
        rows[mode + "_huge"].append(one(mode == "on"))
print(json.dumps(rows))
'''


@dataclass
class SetupCost:
    children: int
    enter_ms: list[float]               # putting every layer up, measured inside each child
    round_trip_ms: list[float]          # fork + layers + report + exit, from the parent
    baseline_round_trip_ms: list[float]  # the same without the kernel layers
    missing: list[str] = field(default_factory=list)
    huge_round_trip_ms: list[float] = field(default_factory=list)           # the same two, forked from a
    huge_baseline_round_trip_ms: list[float] = field(default_factory=list)  # server on huge pages

    @staticmethod
    def median(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    @staticmethod
    def p90(values: list[float]) -> float:
        return sorted(values)[int(0.9 * (len(values) - 1))] if values else float("nan")


def setup_cost(children: int = 40) -> SetupCost:
    done = subprocess.run([PYTHON, "-c", SETUP_SCRIPT, str(children)], cwd=REPO, env=child_env(),
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"sandbox set-up benchmark failed:\n{done.stderr[-3000:]}")
    rows = json.loads(done.stdout.strip().splitlines()[-1])
    return SetupCost(children, [1000 * r[0] for r in rows["on"]], [1000 * r[1] for r in rows["on"]],
                     [1000 * r[1] for r in rows["off"]], rows["on"][0][2] if rows["on"] else [],
                     [1000 * r[1] for r in rows["on_huge"]], [1000 * r[1] for r in rows["off_huge"]])


@dataclass
class Throughput:
    students: int
    per_student: dict[str, list[float]]     # "off" / "best" -> seconds per student, each run

    def median(self, mode: str) -> float:
        return statistics.median(self.per_student[mode])

    @property
    def pair_ratios(self) -> list[float]:
        """Each round's ``best`` run over its ``off`` run, made back to back."""
        return [b / o for b, o in zip(self.per_student["best"], self.per_student["off"])]

    @property
    def overhead(self) -> float:
        """Relative slowdown of grading with the sandbox (0.03 = 3 % slower): the median of
        the rounds' ratios. A run pairs with the one made right before or after it, so a
        drift in the machine's speed over the minutes of the benchmark cancels out; a single
        median over all runs of a setting would carry the drift between them."""
        return statistics.median(self.pair_ratios) - 1


def throughput(folder: Path, students: int, rounds: int = 6, log=print) -> Throughput:
    from .throughput import grade

    work = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    result = Throughput(students, {"off": [], "best": []})
    for round_ in range(rounds):
        for mode in (("off", "best") if round_ % 2 == 0 else ("best", "off")):
            log(f"grading {students} students with --jobs 2 --sandbox {mode} (round {round_ + 1}/{rounds}) ...")
            run = grade(folder, work / f"out-{mode}", 2, extra=("--sandbox", mode))
            result.per_student[mode].append(run.per_student)
    return result
