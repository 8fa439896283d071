"""Where grading time goes, measured piece by piece next to the throughput runs.

* interpreter + torch start-up: ``python -c "import torch"`` (what every fresh process pays);
* the forkserver's preload: ``python -c "import grader.sandbox.preload"`` (once per grading run);
* static interface checks: ``grader.intake.interface.inspect_file`` over every file of the class;
* per graded name: seconds inside the children, as recorded in each ``results.json``;
* report writing: the per-student files, the gradebook, the summary and the HTML report,
  written again from the stored results into a scratch folder.
"""
from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import timing
from .classgen import ClassMember
from .env import PYTHON, child_env

TRAINING_NAMES = ("task1.train", "task2.train_torch", "task3.train_cnn")


@dataclass
class Startup:
    python_s: float          # python -c "pass"
    torch_s: float           # python -c "import torch"
    preload_s: float         # python -c "import grader.sandbox.preload"


def startup(repeats: int) -> Startup:
    env = child_env()
    return Startup(timing.median_wall([PYTHON, "-c", "pass"], repeats, env),
                   timing.median_wall([PYTHON, "-c", "import torch"], repeats, env),
                   timing.median_wall([PYTHON, "-c", "import grader.sandbox.preload"], repeats, env))


def interface_seconds(members: list[ClassMember]) -> float:
    """Seconds of ``inspect_file`` over every file of the class."""
    from grader.intake.interface import inspect_file
    from grader.packs import load_pack

    pack = load_pack()
    files = [(source.encode("utf-8"), pack.file(task)) for m in members for task, source in m.files.items()]
    started = time.perf_counter()
    for data, task in files:
        inspect_file(data, task)
    return time.perf_counter() - started


@dataclass
class ReportWriting:
    per_student_s: float     # feedback.md + results.json of one student
    batch_s: float           # gradebook.csv + summary.md + report.html, once per run
    html: bool               # whether the HTML report exists in this grader


def report_writing(results_folder: Path) -> ReportWriting:
    """Write the outputs of a finished run again, into a scratch folder, timed."""
    from grader.packs import load_pack
    from grader.outputs.report import gradebook_csv, read_student, summary_markdown, write_atomic, write_student

    pack = load_pack()
    results = [r for r, _ in (read_student(results_folder, p.name) for p in sorted(results_folder.iterdir())
                              if (p / "results.json").is_file()) if r is not None]
    with tempfile.TemporaryDirectory(prefix="bench-report-") as scratch:
        out = Path(scratch)
        started = time.perf_counter()
        for result in results:
            write_student(out, result, pack, "bench")
        students = time.perf_counter() - started
        started = time.perf_counter()
        write_atomic(out / "gradebook.csv", gradebook_csv(results, pack))
        write_atomic(out / "summary.md", summary_markdown(results, pack, [], {}))
        try:
            from grader.outputs.htmlreport import write_report
        except ImportError:
            html = False
        else:
            write_report(out, results, pack, [])
            html = True
        batch = time.perf_counter() - started
    return ReportWriting(students / max(1, len(results)), batch, html)


def mean_per_student(values: list[float]) -> float:
    return statistics.mean(values) if values else 0.0

