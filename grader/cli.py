"""Command line: ``python -m grader <command>``.

    grade FOLDER --out DIR [--jobs N] [--timeout S]   grade a folder of submissions
    check FILE [--name KEY]                             self-check one file (visible checks)
    templates [--check]                                 regenerate templates/ from solutions/
    similarity FOLDER --out DIR [--past DIR] [--top N]  similarity (copy-detection) report, computed locally
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .packs import DEFAULT, PACKS, load_pack


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assignment", default=DEFAULT, choices=PACKS, help="assignment pack (default %(default)s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader", description="Autograder for the deep-learning course.")
    commands = parser.add_subparsers(dest="command", required=True)

    grade = commands.add_parser("grade", help="grade a folder of renamed submissions")
    grade.add_argument("folder", type=Path, help="folder holding task1_<id>.py ... or <id>_<assignment>.zip files")
    grade.add_argument("--out", type=Path, default=Path("results"), help="where results go (default: results/)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="children at once (default: CPU count)")
    grade.add_argument("--timeout", type=float, default=None,
                       help="seconds per graded name, for every name (default: each name's own limit)")
    grade.add_argument("--memory", type=int, default=3072, help="memory limit per child in MiB (default 3072)")
    grade.add_argument("--no-resume", action="store_true", help="regrade everyone, even unchanged students")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--visibility", default="visible", help="Gradescope visibility of scored tests")
    grade.add_argument("--hidden-visibility", default="after_published",
                       help="Gradescope visibility of hidden-input details (default after_published)")
    grade.add_argument("--similarity", action="store_true",
                       help="also write the similarity report and list its top pairs in summary.md and report.html")
    _add_common(grade)

    check = commands.add_parser("check", help="self-check a file with the visible checks")
    check.add_argument("file", type=Path, help="e.g. templates/task1_template.py")
    check.add_argument("--name", help="one graded name, e.g. task1.relu (default: all names of the file)")
    check.add_argument("--task", help="which task the file is (default: from its name)")
    _add_common(check)

    templates = commands.add_parser("templates", help="regenerate templates/ and the self-check references from solutions/")
    templates.add_argument("--check", action="store_true", help="only report stale templates (exit 1 if any)")
    _add_common(templates)

    similarity = commands.add_parser("similarity", help="similarity (copy-detection) report of a folder, computed locally")
    from .similarity.options import add_arguments
    add_arguments(similarity)
    _add_common(similarity)

    args = parser.parse_args(argv)
    if args.command in ("grade", "check"):
        from .sandbox import start_forkserver
        start_forkserver()    # its imports run while this process loads the pack (both import torch)
    assignment = load_pack(args.assignment)
    if args.command == "grade":
        return _grade(args, assignment)
    if args.command == "check":
        from .selfcheck import check_file
        report = check_file(args.file, assignment=assignment.name, name=args.name, task=args.task)
        print(report.text())
        return 0
    if args.command == "similarity":
        from .similarity.command import main as similarity_main
        return similarity_main(args, assignment)
    if args.command == "templates":
        from . import kit
        from .templates import generate
        stale = generate(assignment, check_only=args.check)
        if kit.refresh(assignment, check_only=args.check):
            stale.append(kit.kit_path(assignment))
        for path in stale:
            print(("stale: " if args.check else "wrote ") + str(path))
        if not stale:
            print("templates are up to date")
        return 1 if (args.check and stale) else 0
    return 2


def _grade(args: argparse.Namespace, assignment) -> int:
    from .batch import grade_folder
    from .report import Visibility
    from .runner import Options

    if not args.folder.is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    options = Options(jobs=max(1, args.jobs), timeout=args.timeout, memory_mb=args.memory)
    try:
        batch = grade_folder(args.folder, args.out, assignment, options, resume=not args.no_resume,
                             progress=not args.quiet, visibility=Visibility(args.visibility, args.hidden_visibility),
                             similarity=args.similarity)
    except (ValueError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    totals = [r.score for r in batch.results]
    mean = sum(totals) / len(totals) if totals else 0.0
    per = f", {batch.seconds / batch.graded:.2f} s per student" if batch.graded else ""
    print(f"graded {batch.graded} student(s), reused {batch.reused}, in {batch.seconds:.1f} s{per}; "
          f"mean {mean:.2f}/{assignment.points:g}; "
          f"{len(batch.folder_problems)} folder problem(s); results in {args.out}/ "
          f"(gradebook.csv, summary.md, <id>/feedback.md)")
    if batch.internal_errors:
        print(f"grader errors: {len(batch.internal_errors)} (see summary.md)", file=sys.stderr)
        for error in batch.internal_errors[:5]:
            print("  " + error.splitlines()[0], file=sys.stderr)
        return 1
    return 0
