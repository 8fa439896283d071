"""Grading throughput: the real grader (``--jobs 1`` and ``--jobs 2``) and a naive harness,
on the same synthetic class, in one run."""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import timing
from .classgen import ClassMember, spread, write_class
from .env import PYTHON, REPO, child_env
from .naive_one import MARKER

NAIVE_SCRIPT = REPO / "bench" / "naive_one.py"


@dataclass
class GraderRun:
    jobs: int
    students: int
    wall: float               # the whole `python -m grader grade` process
    cpu: float                # its CPU time and that of its forkserver and children
    parent_cpu: float         # the grader's own process (scheduling, judging, references, reports)
    inside: float             # grade_folder's own measure ("in X s"), without interpreter start-up
    scores: dict[str, dict[str, float]]      # student -> graded key -> score
    child_seconds: dict[str, list[float]]    # graded key -> per-student seconds in the child
    free_cores: float = 0.0   # cores the machine gave two busy processes around this run

    @property
    def per_student(self) -> float:
        return self.wall / self.students


@dataclass
class NaiveRun:
    students: int
    files: int
    wall: float
    cpu: float
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    names: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # key -> probe_s/reference_s/judge_s
    in_process: list[float] = field(default_factory=list)                    # seconds inside each process
    library_imports: list[float] = field(default_factory=list)

    @property
    def per_student(self) -> float:
        return self.wall / self.students


class GraderFailed(RuntimeError):
    pass


def grade(folder: Path, out: Path, jobs: int, extra: tuple[str, ...] = (), cwd: Path = REPO) -> GraderRun:
    """Grade ``folder`` with the real command line, timed from outside. ``cwd`` is the checkout
    whose grader runs (another one's, for :mod:`bench.against`)."""
    shutil.rmtree(out, ignore_errors=True)
    command = [PYTHON, "-m", "grader", "grade", str(folder), "--out", str(out), "--jobs", str(jobs),
               "--no-resume", "--quiet", *extra]
    done = timing.run(command, env={**child_env(), "PYTHONPATH": str(cwd)}, cwd=cwd)
    if done.returncode != 0:
        raise GraderFailed(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr[-3000:]}")
    match = re.search(r"graded (\d+) student\(s\).*? in ([\d.]+) s", done.stdout)
    if not match:
        raise GraderFailed(f"unexpected grader output: {done.stdout!r}")
    scores, child_seconds = read_results(out)
    return GraderRun(jobs, int(match.group(1)), done.wall, done.cpu, done.own_cpu, float(match.group(2)), scores,
                     child_seconds)


def read_results(out: Path) -> tuple[dict[str, dict[str, float]], dict[str, list[float]]]:
    """Scores and per-name child seconds from every ``OUT/<id>/results.json``."""
    from grader.outputs.report import read_student

    scores: dict[str, dict[str, float]] = {}
    seconds: dict[str, list[float]] = {}
    for folder in sorted(p for p in out.iterdir() if (p / "results.json").is_file()):
        result, _ = read_student(out, folder.name)
        if result is None:
            continue
        scores[result.student_id] = {n.key: n.score for n in result.names}
        for name in result.names:
            seconds.setdefault(name.key, []).append(name.seconds)
    return scores, seconds


def naive(members: list[ClassMember], folder: Path) -> NaiveRun:
    """One fresh interpreter per student file, one after another."""
    run = NaiveRun(len(members), 0, 0.0, 0.0)
    for member in members:
        run.scores[member.id] = {}
        for task in member.files:
            path = folder / f"{task}_{member.id}.py"
            done = timing.run([PYTHON, str(NAIVE_SCRIPT), str(path), task], env=child_env(), cwd=REPO)
            lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
            if done.returncode != 0 or not lines:
                raise RuntimeError(f"naive harness failed on {path.name}:\n{done.stderr[-3000:]}")
            report = json.loads(lines[-1][len(MARKER):])
            run.files += 1
            run.wall += done.wall
            run.cpu += done.cpu
            run.in_process.append(report["in_process_s"])
            run.library_imports.append(report["libraries_import_s"])
            for key, figures in report["names"].items():
                run.scores[member.id][key] = figures["score"]
                slot = run.names.setdefault(key, {"probe_s": [], "reference_s": [], "judge_s": []})
                for what in slot:
                    slot[what].append(figures[what])
    return run


@dataclass
class Throughput:
    members: list[ClassMember]
    naive_members: list[ClassMember]
    grader: dict[int, GraderRun]       # jobs -> run
    naive: NaiveRun
    disagreements: list[str]           # graded names where the naive harness scored differently
    folder: Path                       # the class (kept until cleanup)
    out: Path                          # results of the --jobs 2 run (for the report-writing figure)
    loads: list[tuple[float, float, float]] = field(default_factory=list)

    def ratio(self, slow: str, fast: str) -> float:
        return self.per_student(slow) / self.per_student(fast)

    def per_student(self, mode: str) -> float:
        return self.naive.per_student if mode == "naive" else self.grader[int(mode.split()[-1])].per_student


def compare_scores(grader: dict[str, dict[str, float]], naive: dict[str, dict[str, float]]) -> list[str]:
    """Where the naive harness disagrees with the grader (it should not: same checks)."""
    problems = []
    for sid, names in naive.items():
        for key, score in names.items():
            theirs = grader.get(sid, {}).get(key)
            if theirs is None or abs(theirs - score) > 1e-9:
                problems.append(f"{sid} {key}: grader {theirs}, naive {score}")
    return problems


def measure(members: list[ClassMember], naive_count: int, jobs: tuple[int, ...] = (2, 1),
            workdir: Path | None = None, log=print) -> Throughput:
    """Write the class, grade it with each ``jobs`` and with the naive harness (on an even
    spread of ``naive_count`` students), one after another in this order."""
    root = Path(workdir or tempfile.mkdtemp(prefix="bench-class-"))
    folder = root / "submissions"
    write_class(members, folder)
    runs: dict[int, GraderRun] = {}
    loads = [os.getloadavg()]
    for j in jobs:
        log(f"grading {len(members)} students with --jobs {j} ...")
        before = timing.free_cores()
        runs[j] = grade(folder, root / f"out-jobs{j}", j)
        runs[j].free_cores = (before + timing.free_cores()) / 2
        loads.append(os.getloadavg())
    subset = spread(members, naive_count)
    log(f"naive harness on {len(subset)} students ({sum(len(m.files) for m in subset)} processes) ...")
    naive_run = naive(subset, folder)
    loads.append(os.getloadavg())
    reference = runs[max(runs)]
    problems = compare_scores(reference.scores, naive_run.scores)
    for j, other in runs.items():
        problems += [f"--jobs {j} vs --jobs {max(runs)}: {p}" for p in
                     compare_scores(reference.scores, {s: other.scores[s] for s in other.scores})]
    return Throughput(members, subset, runs, naive_run, problems, folder, root / f"out-jobs{max(runs)}", loads)


def cleanup(result: Throughput) -> None:
    shutil.rmtree(result.folder.parent, ignore_errors=True)


if __name__ == "__main__":  # a quick look: python -m bench.throughput N
    from .classgen import make_class

    outcome = measure(make_class(int(sys.argv[1]) if len(sys.argv) > 1 else 4), 2, log=lambda s: print(s, file=sys.stderr))
    for j, r in outcome.grader.items():
        print(f"jobs {j}: {r.per_student:.2f} s/student wall, {r.cpu / r.students:.2f} s/student CPU")
    print(f"naive: {outcome.naive.per_student:.2f} s/student, disagreements: {outcome.disagreements}")
    cleanup(outcome)
