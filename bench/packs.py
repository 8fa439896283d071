"""Grading speed of the other packs: a class that hands in every reference solution.

The main throughput section uses assignment2, whose fixtures give a realistic mix of
right and wrong files. For assignment3 and assignment4 this section measures the worst
case instead: every student hands in the full reference solution of every file, so every
check runs to the end (a wrong file usually fails early and costs less). assignment3's
contest file is the demo's perfect predictions, graded against the demo labels.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .env import REPO
from .throughput import grade

DEMO_LABELS = {"assignment3": REPO / "data" / "demo_labels" / "assignment3.csv"}
PACKS = ("assignment3", "assignment4")


@dataclass
class PackRun:
    pack: str
    students: int
    files_per_student: int
    wall: float                 # the whole `python -m grader grade` command
    inside: float               # grade_folder's own figure, without start-up
    full_marks: int             # students who got every point

    @property
    def per_student(self) -> float:
        return self.wall / self.students


def write_class(pack: str, students: int, folder: Path) -> int:
    """``students`` students, each handing in every file of ``pack`` as its solution."""
    from grader.packs import load_pack

    assignment = load_pack(pack)
    for number in range(students):
        student = f"{7000 + number}"
        for graded_file in assignment.files:
            target = folder / f"{graded_file.task}_{student}{graded_file.suffix}"
            if graded_file.kind == "data":          # the labels themselves: every prediction right
                shutil.copyfile(DEMO_LABELS[pack], target)
            else:
                shutil.copyfile(REPO / assignment.solutions_dir / graded_file.solution, target)
    return len(assignment.files)


def measure(students: int = 40, packs: tuple[str, ...] = PACKS, jobs: int = 2, log=print) -> list[PackRun]:
    from grader.packs import load_pack

    runs = []
    for pack in packs:
        log(f"{pack}: {students} students, every file a reference solution, --jobs {jobs} ...")
        work = Path(tempfile.mkdtemp(prefix=f"bench-{pack}-"))
        try:
            folder = work / "submissions"
            folder.mkdir()
            files = write_class(pack, students, folder)
            extra = ("--assignment", pack) + (("--labels", str(DEMO_LABELS[pack])) if pack in DEMO_LABELS else ())
            run = grade(folder, work / "out", jobs, extra)
            top = load_pack(pack).points
            full = sum(1 for scores in run.scores.values() if abs(sum(scores.values()) - top) < 1e-6)
            runs.append(PackRun(pack, run.students, files, run.wall, run.inside, full))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return runs
