"""Defaults and command-line options of the similarity report (no heavy imports: ``cli`` loads it
before the grader's forkserver starts)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

TOP = 25  # pairs shown side by side in similarity.html
TOP_IN_GRADE = 10  # pairs listed in summary.md and report.html by ``grade --similarity``
MAX_SHARE = 0.10  # a fingerprint in more than this share of a task's files is dropped ...
MIN_COUNT = 5  # ... when it is also in more than this many of them


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", type=Path, help="submissions folder, named as for `grade`")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="where similarity.csv and similarity.html go (default: results/)",
    )
    parser.add_argument(
        "--past",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help="an earlier term's submissions folder, as references (repeatable); "
        "flagged in the report, never paired with each other",
    )
    parser.add_argument(
        "--top", type=int, default=TOP, help="pairs shown side by side in the HTML (default %(default)s)"
    )
    parser.add_argument(
        "--max-share",
        type=float,
        default=MAX_SHARE,
        help="drop fingerprints found in more than this share of a task's files (default %(default)s)",
    )
    parser.add_argument(
        "--min-count", type=int, default=MIN_COUNT, help="... and in more than this many files (default %(default)s)"
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="processes that tokenize files (default: CPU count)"
    )
