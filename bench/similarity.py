"""Time the similarity report on a generated class: ``make bench-similarity``.

    python bench/similarity.py [--students 300] [--jobs 2] [--no-write] [--workdir DIR]

Generates the class (``bench/simclass.py``: every student hands in the five files of
assignment2, template-based and varied, with planted disguised copies), then runs the
whole command as a TA would, ``python -m grader similarity FOLDER --out OUT --jobs 2``,
in a fresh interpreter (start-up, discovery, tokenizing, pairs, both files written),
and once more in this process to see where the time goes. It checks where the planted
copies rank, and writes its section of BENCHMARKS.md (between the similarity markers;
``bench/run.py`` keeps that section when it rewrites the rest of the file).
"""
from __future__ import annotations

import argparse
import csv
import datetime
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):           # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import PYTHON, REPO, child_env  # noqa: E402

BEGIN = "<!-- similarity section: written by bench/similarity.py (make bench-similarity) -->"
END = "<!-- end of the similarity section -->"
TARGET_SECONDS = 60.0


def splice(text: str, section: str) -> str:
    """``text`` (BENCHMARKS.md) with its similarity section replaced by ``section`` (or appended)."""
    block = f"{BEGIN}\n{section.strip()}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n?", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip("\n") + "\n\n" + block


def carry_over(text: str, path: Path) -> str:
    """``text`` plus the similarity section of the file at ``path``, if it has one
    (``bench/run.py`` rewrites BENCHMARKS.md and must not lose this section)."""
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        return text
    found = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), old, re.S)
    return splice(text, found.group(1)) if found else text


@dataclass
class Measured:
    students: int
    files: int
    planted: int
    wall: float
    cpu: float
    free_cores: float
    load: tuple[float, float, float]
    ranks: list[int]               # rank (1 = highest) of each planted pair in similarity.csv
    planted_scores: list[float]    # their similarities, same order
    best_other: float              # highest score of a pair that is not a planted copy
    pairs: int
    csv_bytes: int
    html_bytes: int
    stages: dict[str, float]
    output: str


def ranks_of_planted(csv_path: Path, planted: set[tuple[str, frozenset[str]]]
                     ) -> tuple[list[int], list[float], float, int]:
    with open(csv_path, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ranks, values, best_other = [], [], 0.0
    for rank, row in enumerate(rows, start=1):
        key = (row["task"], frozenset((row["student_a"], row["student_b"])))
        if key in planted:
            ranks.append(rank)
            values.append(float(row["similarity"]))
        else:
            best_other = max(best_other, float(row["similarity"]))
    return ranks, values, best_other, len(rows)


def stages(folder: Path, jobs: int) -> dict[str, float]:
    """Seconds per stage, measured in this process (imports already paid)."""
    from grader.intake.discovery import discover
    from grader.packs import load_pack
    from grader.similarity import compare as cmp
    from grader.similarity.boilerplate import drop_boilerplate, template_code
    from grader.similarity.command import write
    from grader.similarity.pairs import rank, score_task

    assignment = load_pack("assignment2")
    out: dict[str, float] = {}
    started = time.perf_counter()
    found = discover(folder, assignment)
    out["discovery (reading every file)"] = time.perf_counter() - started
    started = time.perf_counter()
    prints = cmp._prints(found, assignment, past=False, jobs=jobs)
    out[f"cutting template lines, tokenizing ({jobs} workers), fingerprints"] = time.perf_counter() - started
    started = time.perf_counter()
    by_task = {f.task: [fp for fp in prints if fp.task == f.task] for f in assignment.files}
    for task, of_task in by_task.items():
        drop_boilerplate(of_task, template_code(assignment, task))
    out["dropping template and common fingerprints"] = time.perf_counter() - started
    started = time.perf_counter()
    pairs = rank([p for of_task in by_task.values() for p in score_task(of_task)])
    out["scoring pairs"] = time.perf_counter() - started
    comparison = cmp.Comparison(assignment, pairs, {}, len(found.students), 0, [], 0.0, 0.1, 5)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        write(comparison, Path(tmp))
        out["writing similarity.csv and similarity.html"] = time.perf_counter() - started
    return out


def measure(students: int, jobs: int, workdir: Path | None = None, log=print) -> Measured:
    from bench.simclass import make_class, write_class
    from bench.timing import free_cores, run

    work = workdir or Path(tempfile.mkdtemp(prefix="bench-sim-"))
    try:
        log(f"generating {students} students ...")
        subs = make_class(students)
        folder, out = write_class(subs, work / "class"), work / "out"
        planted = {(s.task, frozenset((s.student, s.copy_of))) for s in subs if s.kind == "copy"}
        cores_before = free_cores()
        load = os.getloadavg()
        log("running python -m grader similarity ...")
        done = run([PYTHON, "-m", "grader", "similarity", str(folder), "--out", str(out), "--jobs", str(jobs)],
                   env=child_env(), cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(f"grader similarity failed:\n{done.stderr[-3000:]}")
        cores = (cores_before + free_cores()) / 2
        ranks, values, best_other, pairs = ranks_of_planted(out / "similarity.csv", planted)
        log("where the time goes ...")
        split = stages(folder, jobs)
        return Measured(students, len(subs), len(planted), done.wall, done.cpu, cores, load, ranks, values,
                        best_other, pairs, (out / "similarity.csv").stat().st_size,
                        (out / "similarity.html").stat().st_size, split, done.stdout.strip())
    finally:
        if workdir is None:
            shutil.rmtree(work, ignore_errors=True)


def section(m: Measured, jobs: int) -> str:
    met = "yes" if m.wall < TARGET_SECONDS else "**no**"
    found = sum(1 for v in m.planted_scores if v >= 0.8)
    lines = [
        "## 4. Similarity report",
        "",
        f"Measured {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by `bench/similarity.py` "
        f"(`make bench-similarity`); `make bench` keeps this section. A generated class of {m.students} students "
        f"({m.files} files: the five task files of assignment2 each, built on the templates, varied per student, "
        f"a few untouched templates, {m.planted} planted disguised copies; `bench/simclass.py`). The command is the "
        f"whole run in a fresh interpreter: `python -m grader similarity FOLDER --out OUT --jobs {jobs}`. "
        f"Load average (1 min) when it started: {m.load[0]:.1f} on 2 cores; free cores around it: {m.free_cores:.2f}.",
        "",
        "| figure | measured | target | met |",
        "|---|---|---|---|",
        f"| `grader similarity`, {m.students} students, `--jobs {jobs}` | **{m.wall:.1f} s** wall "
        f"(CPU {m.cpu:.1f} s) | < {TARGET_SECONDS:g} s | {met} |",
        f"| planted copies scoring 0.8 or more | {found} of {m.planted} (ranks "
        f"{', '.join(map(str, sorted(m.ranks))) or 'none'}) |  |  |",
        f"| highest score of a pair not planted | {m.best_other:.2f} |  |  |",
        f"| pairs sharing own code (rows of similarity.csv) | {m.pairs} |  |  |",
        f"| similarity.html / similarity.csv | {m.html_bytes / 1e6:.2f} MB / {m.csv_bytes / 1e6:.2f} MB |  |  |",
        "",
        "Where the time goes (a second run, in the benchmark's own process; seconds):",
        "",
        "| stage | seconds |",
        "|---|---|",
    ]
    lines += [f"| {name} | {seconds:.2f} |" for name, seconds in m.stages.items()]
    lines += ["", "The rest of the wall time is the interpreter's start-up and imports (the assignment pack "
              "imports torch; copydetect imports matplotlib). Tokenizing is Pygments' lexer (about 12 ms of CPU "
              "per file), so the wall time follows the free cores.",
              "",
              "This class measures time and size, not judgement: its students take each function from a handful "
              "of styles (`tests/fixtures/similarity_class.py`) and tasks 2-4 from the reference bodies, so many "
              "pairs that were not planted are near-copies by construction. A planted copy of a file whose own "
              "code is little more than what most of the class wrote scores low by design (little own code is "
              "weak evidence). That copies rank above independent work is asserted in `tests/test_similarity.py` "
              "on students written independently."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/similarity.py", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--workdir", type=Path, help="keep the generated class and the report here")
    args = parser.parse_args(argv)
    log = lambda message: print(f"[bench-similarity] {message}", file=sys.stderr, flush=True)  # noqa: E731
    measured = measure(args.students, args.jobs, args.workdir, log)
    text = section(measured, args.jobs)
    print(measured.output)
    print(text)
    if not args.no_write:
        old = args.output.read_text(encoding="utf-8") if args.output.exists() else "# Benchmarks\n"
        args.output.write_text(splice(old, text), encoding="utf-8")
        log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
