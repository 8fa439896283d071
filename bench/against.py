"""The grader against an earlier version of itself, on the same class, side by side.

``python bench/run.py --against REF`` checks REF (a commit, tag or branch) out into a
temporary git worktree and grades the benchmark class with it and with this checkout,
``--jobs 2``, in rounds of one run each, the order alternating between rounds. The
figure is the median of the rounds' ratios, so a drift in the machine's speed over the
minutes of the benchmark cancels out. Both use this checkout's virtual environment.
"""
from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .env import PYTHON, REPO


@dataclass
class Against:
    ref: str
    commit: str
    students: int
    per_student: dict[str, list[float]]     # "then" (REF) / "now" (this checkout) -> seconds per student

    def median(self, which: str) -> float:
        return statistics.median(self.per_student[which])

    @property
    def pair_ratios(self) -> list[float]:
        return [now / then for now, then in zip(self.per_student["now"], self.per_student["then"])]

    @property
    def change(self) -> float:
        """Relative change per student of this checkout against REF (0.05 = 5 % slower)."""
        return statistics.median(self.pair_ratios) - 1


def worktree(ref: str) -> tuple[Path, str]:
    """A detached worktree of ``ref`` with its grader byte-compiled (as ``make install`` does)."""
    commit = subprocess.run(["git", "rev-parse", "--short", ref], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.strip()
    folder = Path(tempfile.mkdtemp(prefix="bench-against-")) / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), commit], cwd=REPO, capture_output=True,
                   check=True)
    subprocess.run([PYTHON, "-m", "compileall", "-q", "grader"], cwd=folder, capture_output=True)
    return folder, commit


def remove(folder: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=REPO, capture_output=True)
    shutil.rmtree(folder.parent, ignore_errors=True)


def measure(folder: Path, students: int, ref: str, rounds: int = 4, log=print) -> Against:
    from .throughput import grade

    tree, commit = worktree(ref)
    work = Path(tempfile.mkdtemp(prefix="bench-against-out-"))
    result = Against(ref, commit, students, {"then": [], "now": []})
    try:
        for round_ in range(rounds):
            for which in (("then", "now") if round_ % 2 == 0 else ("now", "then")):
                log(f"grading {students} students with --jobs 2, {'this checkout' if which == 'now' else ref} "
                    f"(round {round_ + 1}/{rounds}) ...")
                run = grade(folder, work / f"out-{which}", 2, cwd=tree if which == "then" else REPO)
                result.per_student[which].append(run.per_student)
    finally:
        remove(tree)
        shutil.rmtree(work, ignore_errors=True)
    return result
