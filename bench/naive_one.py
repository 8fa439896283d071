"""A naive grading harness for one student file: ``python bench/naive_one.py FILE TASK``.

What a simple harness does: a fresh interpreter per file, which imports NumPy and torch,
imports the student's file directly, and for each graded name of the task runs the
grader's own check (cases, the student's outputs through the pack's probe with its
stand-ins, references computed here from ``solutions/``, verdicts from the same
``judge_name``). Answers and student code share one process here: fine for timing correct
and buggy students, which is all this harness is for.
No warm forkserver, no sandbox, and nothing cached between students: every reference is
computed again in every process.

The last line printed is ``NAIVE-RESULT <json>``: the score and timings of each name.
"""
from __future__ import annotations

import time

STARTED = time.perf_counter()

import contextlib  # noqa: E402
import importlib  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402
from types import SimpleNamespace  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

LIBRARIES_IMPORTED = time.perf_counter()

from grader import wire  # noqa: E402

from grader.grading import standins
from grader.grading.judge import CaseOutcome, NameOutcome, ReferenceCache, judge_name  # noqa: E402
from grader.packs import DEFAULT, load_pack, probes_module  # noqa: E402
from grader.probing import ProbeError, probes_of  # noqa: E402
from grader.sandbox.child import _run_stand_ins, describe_exception  # noqa: E402

MARKER = "NAIVE-RESULT "


def seed_everything(seed: int) -> None:
    """The same seeding as the grader's child before each case (grader/child.py)."""
    seed %= 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def import_student(path: Path, task: str):
    spec = importlib.util.spec_from_file_location(task, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[task] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def run_cases(probe, stand_ins: dict, key: str, cases, module, seed: int, where) -> NameOutcome:
    """The student's outputs for every case, as the grader's parent would receive them."""
    outcome = NameOutcome(key)
    for case in cases:
        seed_everything(seed + zlib.crc32(f"{key}/{case.id}".encode()))
        started = time.perf_counter()
        output, error = None, None
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                raw = probe(module, case.inputs, stand_ins)
            output = wire.loads(wire.dumps(wire.to_plain(raw)))
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            error = describe_exception(exc, where, probe_error=ProbeError)
        outcome.cases[case.id] = CaseOutcome(case.id, output, error, "", time.perf_counter() - started)
    return outcome


def grade_file(path: Path, task: str, assignment: str = DEFAULT) -> dict:
    torch.set_num_threads(1)          # as the grader's children do
    pack = load_pack(assignment)
    task_file = pack.file(task)
    where = SimpleNamespace(module_path=str(path), display_name=path.name)
    report: dict = {"file": path.name, "task": task, "names": {}}

    started = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            module = import_student(path, task)
        failure = None
    except BaseException as exc:  # noqa: BLE001
        module, failure = None, describe_exception(exc, where)
    report["student_import_s"] = time.perf_counter() - started

    refs = ReferenceCache()
    importlib.import_module(probes_module(assignment))
    probes = probes_of(probes_module(assignment))
    for graded in task_file.names:
        cases = graded.check.cases()
        t0 = time.perf_counter()
        if module is None:
            outcome = NameOutcome(graded.key, failure={"kind": "crash", "message": "import failed"})
        else:
            found = standins.for_name(pack, graded)
            stand_ins = _run_stand_ins([list(s) for s in found.sources]) if found else {}
            outcome = run_cases(probes[graded.key], stand_ins, graded.key, cases, module, pack.seed, where)
        t1 = time.perf_counter()
        for case in cases:
            refs.get(graded, case)
        t2 = time.perf_counter()
        blocked = f"importing the file failed: {failure['message']}" if failure else None
        result = judge_name(graded, cases, outcome, refs, blocked)
        t3 = time.perf_counter()
        report["names"][graded.key] = {"score": result.score, "probe_s": t1 - t0, "reference_s": t2 - t1,
                                       "judge_s": t3 - t2}
    return report


def main(argv: list[str]) -> int:
    path, task = Path(argv[0]).resolve(), argv[1]
    grader_imported = time.perf_counter()
    report = grade_file(path, task)
    report["libraries_import_s"] = LIBRARIES_IMPORTED - STARTED
    report["grader_import_s"] = grader_imported - LIBRARIES_IMPORTED
    report["in_process_s"] = time.perf_counter() - STARTED
    print(MARKER + json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
