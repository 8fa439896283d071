"""Smoke tests of the benchmark code (bench/): it runs and writes a well-formed report.

Nothing here asserts on a timing. The fast tests run the benchmark's pieces in this
process (class generation, the naive harness's grading of one file, the kernels on tiny
shapes, the report). The end-to-end test runs ``bench/run.py``'s whole path on a tiny
class; it starts the grader twice and a self-check, each paying a torch import, so it
takes from 20 s to a minute on a busy two-core machine and runs only with BENCH_SMOKE=1.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import kernels  # noqa: E402
from bench.classgen import TASKS, make_class, spread, write_class  # noqa: E402
from bench.naive_one import grade_file  # noqa: E402
from bench.report import Run, render  # noqa: E402
from bench.run import Config, parse, run  # noqa: E402


def well_formed_tables(text: str) -> None:
    """Every Markdown table has a separator row and the same number of cells in each row."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|")):
            width = line.count("|")
            assert re.fullmatch(r"\|(---\|)+", lines[i + 1]), f"no separator under: {line}"
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                assert lines[j].count("|") == width, f"ragged table row: {lines[j]}"
                j += 1


def test_class_mixes_correct_and_fixture_students(tmp_path):
    members = make_class(12)
    kinds = {m.kind for m in members}
    assert kinds == {"correct", "wrong", "alternative"}
    assert len({m.id for m in members}) == 12
    assert all(re.fullmatch(r"[A-Za-z0-9]+", m.id) and set(m.files) == set(TASKS) for m in members)
    paths = write_class(members[:2], tmp_path)
    assert sorted(p.name for p in paths) == sorted(f"{t}_{m.id}.py" for m in members[:2] for t in TASKS)
    assert [m.id for m in spread(members, 3)] == [members[0].id, members[4].id, members[8].id]


def test_naive_harness_scores_a_correct_file_full_marks():
    report = grade_file(REPO / "solutions" / "layers.py", "layers")
    assert {k: v["score"] for k, v in report["names"].items()} == {
        "layers.Conv1D.forward": 5.0, "layers.Conv1D.backward": 10.0}


def test_kernels_and_report_on_tiny_shapes():
    comparisons = kernels.measure(tiny=True, repeats=1, log=lambda _: None)
    assert len(comparisons) == 2 * len(kernels.TINY_CONV_SHAPES) + 2
    result = Run("make bench", {"cpu": "test", "cores": "2"}, False, [(0.0, 0.0, 0.0)], kernels=comparisons)
    text = render(result)
    assert "## Summary" in text and "## 2. Kernels" in text
    well_formed_tables(text)


def test_command_line_round_trip():
    config = parse(["--students", "3", "--naive", "5", "--tiny", "--only", "kernels", "--no-write"])
    assert (config.students, config.naive, config.output, config.sections) == (3, 3, None, ("kernels",))
    assert parse([]).command() == "make bench"


@pytest.mark.skipif(os.environ.get("BENCH_SMOKE") != "1", reason="slow end-to-end run; set BENCH_SMOKE=1")
def test_end_to_end_tiny_run(tmp_path):
    output = tmp_path / "BENCHMARKS.md"
    config = Config(students=2, naive=1, repeats=1, startup_repeats=1, tiny=True, tasks=("layers",),
                    output=output)
    result, text = run(config, log=lambda _: None)
    assert output.read_text(encoding="utf-8") == text
    for heading in ("## Summary", "## 1. Grading throughput", "### Where the time goes", "### Per graded name",
                    "## 2. Kernels", "## 3. Self-check latency"):
        assert heading in text
    well_formed_tables(text)
    assert result.throughput.disagreements == []
    assert set(result.throughput.grader) == {1, 2}
    assert [s.score for s in result.selfcheck] == [15.0]
