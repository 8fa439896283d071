"""Run the benchmarks and write BENCHMARKS.md: ``make bench`` or ``python bench/run.py``.

    python bench/run.py [--students 40] [--naive 10] [--repeats 20] [--only throughput,kernels,selfcheck]

Prints each section as it finishes (the same Markdown that goes into the file).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):           # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bench.env as env  # noqa: E402
from bench.classgen import TASKS  # noqa: E402  (no NumPy behind it)

SINGLE_THREADED = env.pin_threads()     # before anything imports NumPy

import argparse  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
from dataclasses import dataclass  # noqa: E402

SECTIONS = ("throughput", "sandbox", "packs", "kernels", "selfcheck")


@dataclass
class Config:
    students: int = 40
    naive: int = 10
    repeats: int = 20               # timed runs per kernel
    startup_repeats: int = 3        # runs of each start-up command
    tiny: bool = False              # tiny kernel shapes (smoke test)
    tasks: tuple[str, ...] = TASKS
    sections: tuple[str, ...] = SECTIONS
    output: Path | None = env.REPO / "BENCHMARKS.md"
    workdir: Path | None = None
    against: str | None = None      # a git ref to grade the class with side by side

    def command(self) -> str:
        make = "make bench" + (f" STUDENTS={self.students}" if self.students != 40 else "") + \
            (f" NAIVE={self.naive}" if self.naive != 10 else "")
        extra = []
        if self.repeats != 20:
            extra.append(f"--repeats {self.repeats}")
        if self.tiny:
            extra.append("--tiny")
        if tuple(self.tasks) != Config.tasks:
            extra.append("--tasks " + ",".join(self.tasks))
        if tuple(self.sections) != SECTIONS:
            extra.append("--only " + ",".join(self.sections))
        if extra:
            if self.against:
                extra.append(f"--against {self.against}")
            return (f".venv/bin/python bench/run.py --students {self.students} --naive {self.naive} "
                    + " ".join(extra))
        return make + (f" AGAINST={self.against}" if self.against else "")


def parse(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40, help="class size for the grader (default 40)")
    parser.add_argument("--naive", type=int, default=10, help="students graded by the naive harness (default 10)")
    parser.add_argument("--repeats", type=int, default=20, help="timed runs per kernel (default 20)")
    parser.add_argument("--startup-repeats", type=int, default=3, help="runs of each start-up command (default 3)")
    parser.add_argument("--tiny", action="store_true", help="tiny kernel shapes (a smoke test, not a benchmark)")
    parser.add_argument("--tasks", default=",".join(Config.tasks),
                        help="task files the class hands in and self-check covers (default all)")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run (default {','.join(SECTIONS)})")
    parser.add_argument("--output", type=Path, default=env.REPO / "BENCHMARKS.md",
                        help="where the report goes (default BENCHMARKS.md at the repository root)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write the report file")
    parser.add_argument("--workdir", type=Path, help="keep the generated class and results here")
    parser.add_argument("--against", metavar="REF",
                        help="also grade the class with the grader at git REF, side by side (bench/against.py)")
    args = parser.parse_args(argv)
    sections = tuple(s for s in args.only.split(",") if s)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if args.students < 1 or args.naive < 1:
        parser.error("--students and --naive must be at least 1")
    return Config(args.students, min(args.naive, args.students), args.repeats, args.startup_repeats, args.tiny,
                  tuple(t for t in args.tasks.split(",") if t), sections,
                  None if args.no_write else args.output, args.workdir, args.against)


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run(config: Config, log=progress):
    """Run the configured sections; return the :class:`bench.report.Run` and its Markdown."""
    from bench import breakdown, kernels, machine, selfcheck_latency, throughput
    from bench.classgen import make_class  # noqa: F811
    from bench.report import Run, render

    result = Run(config.command(), machine.describe(), SINGLE_THREADED, [os.getloadavg()])
    if "throughput" in config.sections:
        members = make_class(config.students, config.tasks)
        workdir = config.workdir or Path(tempfile.mkdtemp(prefix="bench-"))
        outcome = throughput.measure(members, config.naive, workdir=workdir, log=log)
        try:
            result.loads += outcome.loads[1:]
            result.throughput = outcome
            log("start-up and interface timings ...")
            result.startup = breakdown.startup(config.startup_repeats)
            result.interface_s = breakdown.interface_seconds(members)
            log("report writing ...")
            result.writing = breakdown.report_writing(outcome.out)
        finally:
            if config.workdir is None:
                throughput.cleanup(outcome)
    if "sandbox" in config.sections:
        from bench import sandbox
        log("sandbox set-up cost per child ...")
        result.sandbox_setup = sandbox.setup_cost()
        members = make_class(config.students, config.tasks)
        folder = Path(tempfile.mkdtemp(prefix="bench-sandbox-class-")) / "submissions"
        from bench.classgen import write_class
        write_class(members, folder)
        result.sandbox_throughput = sandbox.throughput(folder, len(members), rounds=6, log=log)
        result.loads.append(os.getloadavg())
        if config.against:
            from bench import against
            result.against = against.measure(folder, len(members), config.against, log=log)
            result.loads.append(os.getloadavg())
    if "packs" in config.sections:
        from bench import packs
        result.packs = packs.measure(config.students, log=log)    # the same class size as the main section
        result.loads.append(os.getloadavg())
    if "kernels" in config.sections:
        result.kernels = kernels.measure(config.tiny, config.repeats, log=log)
        result.loads.append(os.getloadavg())
    if "selfcheck" in config.sections:
        tasks = tuple(t for t in selfcheck_latency.TASKS if t in config.tasks)
        result.selfcheck = selfcheck_latency.measure(tasks, log=log)
        result.loads.append(os.getloadavg())
    text = render(result)
    if config.output is not None:
        from bench.similarity import carry_over
        text = carry_over(text, config.output)      # the similarity section has its own target
        config.output.write_text(text, encoding="utf-8")
        log(f"wrote {config.output}")
    return result, text


def main(argv: list[str] | None = None) -> int:
    config = parse(argv)
    _, text = run(config)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
