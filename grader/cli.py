"""Command line: ``python -m grader <command>``.

grade FOLDER --out DIR [--jobs N] [--timeout S]   grade a folder of submissions (or an LMS download)
export OUT --format F --column NAME                 the grades of OUT in an LMS's import format
merge OUT_1 ... OUT_N --out DIR                     one run's outputs from shards graded apart
check PATH [--all] [--name KEY]                     self-check a file, a zip or a folder (visible checks)
templates [--check]                                 regenerate templates/ from solutions/
new-pack NAME [--task TASK]                         scaffold a minimal working pack
similarity FOLDER --out DIR [--past DIR] [--top N]  similarity (copy-detection) report, computed locally
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.packs import DEFAULT, PACKS, kit_settings, load_pack

MAX_JOBS = 64
MAX_TIMEOUT = 3600.0  # seconds per graded name
MIN_MEMORY = 256  # MiB per child; below this torch cannot even run a small network


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one line, not a usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"error: {message} (see `{self.prog} --help`)\n")


def _bounded(kind, low, high, what: str):
    """An argparse type: a number of ``kind`` in [low, high]."""

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what} must be between {low:g} and {high:g}")
        return value

    return convert


def _physical_memory_mib() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 1024**2
    except (ValueError, OSError, AttributeError):
        return 1 << 20


def _add_common(parser: argparse.ArgumentParser) -> None:
    one = len(PACKS) == 1  # a student kit holds its own pack only
    parser.add_argument(
        "--assignment",
        default=DEFAULT,
        choices=PACKS,
        help=argparse.SUPPRESS if one else "assignment pack (default %(default)s)",
    )


def _add_check(commands, kit: dict | None = None) -> None:
    """The check command; ``kit`` (a student kit's settings) gives its examples from the kit's own pack.
    (Nothing here loads a pack: that imports torch, and the forkserver should start first.)"""
    kit = kit or {}
    check = commands.add_parser(
        "check", help="self-check a file, a zip or a folder with the visible checks; exit 1 when one fails"
    )
    check.add_argument(
        "file",
        type=Path,
        metavar="PATH",
        help=f"a task file (e.g. {kit.get('example_file', 'task1_3180100111.py')}), the zip you "
        f"will hand in (<id>_{DEFAULT}.zip), or with --all a folder",
    )
    check.add_argument("--all", action="store_true", help="PATH is a folder: check every task file in it")
    check.add_argument(
        "--name", help=f"one graded name, e.g. {kit.get('example_name', 'task1.relu')} (default: all names of the file)"
    )
    check.add_argument("--task", help="which task the file is (default: from its name)")
    _add_common(check)


def exit_code(argv: list[str] | None = None) -> int:
    """Run a command as ``python -m grader`` does and return its exit status: :func:`main`'s, or
    for a ``SystemExit`` (argparse's usage errors, ``--help``) its code, its message on stderr."""
    try:
        return main(argv) or 0
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1


def main(argv: list[str] | None = None) -> int:
    kit = kit_settings()
    if kit:  # a student kit: check is its only command
        parser = _Parser(
            prog="python -m grader",
            description=f"Self-check for {kit.get('title', DEFAULT)}: the "
            "grader's visible checks on your files, before you hand them in.",
        )
        commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
        _add_check(commands, kit)
        return _run(parser.parse_args(argv))
    from grader.outputs.report import VISIBILITIES

    parser = _Parser(prog="python -m grader", description="Autograder for the deep-learning course.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    grade = commands.add_parser("grade", help="grade a folder of renamed submissions")
    grade.add_argument("folder", type=Path, help="folder holding task1_<id>.py ... or <id>_<assignment>.zip files")
    grade.add_argument("--out", type=Path, default=Path("results"), help="where results go (default: results/)")
    grade.add_argument(
        "--jobs",
        type=_bounded(int, 1, MAX_JOBS, "--jobs"),
        default=os.cpu_count() or 1,
        help="children at once (default: CPU count)",
    )
    grade.add_argument(
        "--timeout",
        type=_bounded(float, 0.5, MAX_TIMEOUT, "--timeout (seconds)"),
        default=None,
        help="seconds per graded name, for every name (default: each name's own limit)",
    )
    grade.add_argument(
        "--memory",
        type=_bounded(int, MIN_MEMORY, _physical_memory_mib(), "--memory (MiB)"),
        default=3072,
        help="memory limit per child in MiB (default 3072)",
    )
    grade.add_argument("--no-resume", action="store_true", help="regrade everyone, even unchanged students")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument(
        "--visibility",
        default="visible",
        choices=VISIBILITIES,
        help="Gradescope visibility of scored tests (default visible)",
    )
    grade.add_argument(
        "--hidden-visibility",
        default="after_published",
        choices=VISIBILITIES,
        help="Gradescope visibility of hidden-input details (default after_published)",
    )
    grade.add_argument(
        "--naming",
        choices=("lenient", "strict"),
        default=None,
        help="lenient: grade misnamed files that can be tied to a student and say what was wrong; "
        "strict: only exact names count (default: the pack's policy, lenient)",
    )
    grade.add_argument(
        "--interface",
        choices=("compatible", "strict"),
        default=None,
        help="compatible: accept parameter lists every grader call still fits, and skip top-level "
        "statements that raise when the file is loaded, and say so; strict: any change to a "
        "parameter list costs the name, and a file that cannot be imported earns 0 "
        "(default: the pack's policy, compatible)",
    )
    grade.add_argument(
        "--sandbox",
        default="best",
        choices=("best", "require", "off"),
        help="best (default): grade with the kernel sandbox layers this machine has and say "
        "which are missing; require: refuse to grade unless every layer is on; off: no "
        "kernel layers, only for measuring what they cost",
    )
    grade.add_argument(
        "--labels", type=Path, help="hidden labels (CSV id,label) that contest predictions are scored on"
    )
    grade.add_argument(
        "--cutoffs",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="contest accuracy earning 0 points and all points (default 0.5 0.8)",
    )
    grade.add_argument(
        "--similarity",
        action="store_true",
        help="also write the similarity report and list its top pairs in summary.md and report.html",
    )
    term = grade.add_argument_group("the term (applied after grading, on every run; see grader/term/)")
    term.add_argument("--course", type=Path, help="a course file (TOML) holding any of the options below")
    term.add_argument(
        "--roster",
        type=Path,
        help="CSV of the class: a student_id column, a Canvas gradebook export, "
        "or a Moodle grading worksheet; every student gets a row",
    )
    term.add_argument(
        "--roster-id",
        metavar="COLUMN",
        help="the roster's student-id column (default: student_id; Canvas: SIS User ID)",
    )
    term.add_argument("--due", help="due time, ISO 8601 (e.g. 2026-12-01T23:59+08:00)")
    term.add_argument(
        "--grace",
        type=_bounded(float, 0, 60 * 24 * 365, "--grace (minutes)"),
        help="minutes after the due time without penalty (default 0)",
    )
    term.add_argument(
        "--late-penalty",
        type=_bounded(float, 0, 100, "--late-penalty (percent)"),
        help="percent of the earned points per started day late (default 0)",
    )
    term.add_argument(
        "--late-max-days", type=_bounded(int, 0, 3650, "--late-max-days"), help="later than this many days: 0 points"
    )
    term.add_argument("--extensions", type=Path, help="CSV student_id,due: other due times for some students")
    term.add_argument("--submitted", type=Path, help="CSV student_id,submitted_at: when each student handed in")
    term.add_argument(
        "--overrides",
        type=Path,
        help="CSV student_id,name,points,comment: manual corrections "
        "(name: a graded name or total), applied on every run",
    )
    grade.add_argument(
        "--only",
        metavar="ID[,ID...]",
        help="regrade these students only (even unchanged); every other student's result is kept as it is",
    )
    grade.add_argument(
        "--shard", metavar="I/N", help="grade the I-th of N shares of the class (merge the outputs with `merge`)"
    )
    _add_common(grade)

    export = commands.add_parser("export", help="the grades of a grade run in an LMS's import format")
    export.add_argument("out", type=Path, help="the output folder of a grade run")
    export.add_argument("--format", required=True, choices=("canvas", "moodle", "brightspace", "blackboard", "csv"))
    export.add_argument("--column", required=True, help="the grade column's name in the LMS")
    export.add_argument("--roster", type=Path, help="the roster (a Canvas gradebook export for Canvas)")
    export.add_argument("--roster-id", metavar="COLUMN", help="the roster's student-id column")
    export.add_argument("--output", type=Path, help="where to write (default: OUT/export-FORMAT.csv)")

    merge = commands.add_parser("merge", help="one run's outputs from shards graded with --shard")
    merge.add_argument("shards", type=Path, nargs="+", help="the output folders of the shards")
    merge.add_argument("--out", type=Path, required=True, help="where the merged results go")

    _add_check(commands)

    templates = commands.add_parser(
        "templates", help="regenerate templates/ and the self-check references from solutions/"
    )
    templates.add_argument("--check", action="store_true", help="only report stale templates (exit 1 if any)")
    _add_common(templates)

    new_pack = commands.add_parser("new-pack", help="scaffold a minimal working assignment pack")
    new_pack.add_argument("name", help="the pack's name, e.g. assignment5")
    new_pack.add_argument("--task", help="its first task file (default: warmup)")

    similarity = commands.add_parser(
        "similarity", help="similarity (copy-detection) report of a folder, computed locally"
    )
    from grader.similarity.options import add_arguments

    add_arguments(similarity)
    _add_common(similarity)

    return _run(parser.parse_args(argv))


def _run(args: argparse.Namespace) -> int:
    if args.command == "new-pack":
        from grader.authoring.scaffold import main as scaffold

        return scaffold(args.name, args.task)
    if args.command == "export":
        return _export(args)
    if args.command == "merge":
        return _merge(args)
    if args.command in ("grade", "check"):
        from grader.sandbox import start_forkserver

        # Its imports run while this process loads the pack (both import torch).
        start_forkserver(many_children=args.command == "grade")
    assignment = load_pack(args.assignment)
    if args.command == "grade":
        return _grade(args, assignment)
    if args.command == "check":
        return _check(args, assignment)
    if args.command == "similarity":
        from grader.similarity.command import main as similarity_main

        return similarity_main(args, assignment)
    if args.command == "templates":
        from grader.authoring.templates import generate
        from grader.grading import visible_references as kit

        if not kit.solutions_available(assignment):
            print(
                f"error: templates are written from the reference solutions, and {assignment.solutions_dir} "
                "is not here",
                file=sys.stderr,
            )
            return 2
        stale = generate(assignment, check_only=args.check)
        if kit.refresh(assignment, check_only=args.check):
            stale.append(kit.kit_path(assignment))
        for path in stale:
            print(("stale: " if args.check else "wrote ") + str(path))
        if not stale:
            print("templates are up to date")
        return 1 if (args.check and stale) else 0
    return 2


def _term_options(args: argparse.Namespace):
    """The term's options: the course file's, with the flags given on top."""
    from grader.term.course import TermOptions, read_course

    base = read_course(args.course) if args.course else TermOptions()
    given = {
        "roster": args.roster,
        "roster_id": args.roster_id,
        "due": args.due,
        "grace": args.grace,
        "late_penalty": args.late_penalty,
        "late_max_days": args.late_max_days,
        "extensions": args.extensions,
        "submitted": args.submitted,
        "overrides": args.overrides,
        "labels": args.labels,
        "cutoffs": tuple(args.cutoffs) if args.cutoffs else None,
    }
    return base.merged_with(given)


def _grade(args: argparse.Namespace, assignment) -> int:
    from grader.grading.runner import Options
    from grader.intake.unpack import submissions_folder
    from grader.outputs.batch import grade_folder
    from grader.outputs.report import Visibility
    from grader.sandbox import SandboxError
    from grader.term.shards import parse_shard, write_run

    try:
        term_options = _term_options(args)
        shard = parse_shard(args.shard) if args.shard else None
        only = {s.strip() for s in args.only.split(",") if s.strip()} if args.only else None
        with submissions_folder(args.folder) as folder:
            term = term_options.build(assignment, args.out)
            options = Options(
                jobs=args.jobs,
                timeout=args.timeout,
                memory_mb=args.memory,
                sandbox=args.sandbox,
                naming=args.naming,
                interface=args.interface,
                settings=term_options.settings(),
            )
            batch = grade_folder(
                folder,
                args.out,
                assignment,
                options,
                resume=not args.no_resume,
                progress=not args.quiet,
                visibility=Visibility(args.visibility, args.hidden_visibility),
                announce=lambda line: print(line, flush=True),
                similarity=args.similarity,
                term=term,
                students=only,
                shard=shard,
            )
        write_run(
            args.out,
            {
                "assignment": assignment.name,
                "term": term_options.describe(),
                "shard": list(shard or (1, 1)),
                "naming": args.naming,
                "interface": args.interface,
                "timeout": args.timeout,
                "memory": args.memory,
                "problems": batch.folder_problems,
                "layout": batch.layout,
            },
        )
    except (ValueError, FileNotFoundError, NotADirectoryError, SandboxError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    totals = batch.totals
    mean = sum(totals) / len(totals) if totals else 0.0
    per = f", {batch.seconds / batch.graded:.2f} s per student" if batch.graded else ""
    what = "mean total (after late penalties and overrides)" if batch.grades else "mean"
    print(
        f"graded {batch.graded} student(s), reused {batch.reused}, in {batch.seconds:.1f} s{per}; "
        f"{what} {mean:.2f}/{assignment.points:g}; "
        f"{len(batch.folder_problems)} folder problem(s); results in {args.out}/ "
        f"(gradebook.csv, summary.md, <id>/feedback.md)"
    )
    for line in batch.term_lines:
        print(line)
    from grader.outputs.leaderboard import terminal_lines

    for line in terminal_lines(batch.results, assignment):
        print(line)
    if batch.internal_errors:
        print(f"grader errors: {len(batch.internal_errors)} (see summary.md)", file=sys.stderr)
        for error in batch.internal_errors[:5]:
            print("  " + error.splitlines()[0], file=sys.stderr)
        return 1
    return 0


def _export(args: argparse.Namespace) -> int:
    from grader.intake.roster import RosterError, read_roster
    from grader.term.export import ExportError, export
    from grader.term.shards import ShardError, read_run

    try:
        roster_path, roster_id = args.roster, args.roster_id
        if roster_path is None:  # the roster the run was graded with, when it had one
            try:
                term = read_run(args.out).get("term", {})
            except ShardError:
                term = {}
            if term.get("roster"):
                roster_path, roster_id = Path(term["roster"]), roster_id or term.get("roster_id")
                if not roster_path.is_file():
                    raise ExportError(
                        f"the run was graded with the roster {roster_path}, which is gone: give --roster FILE"
                    )
                print(f"roster: {roster_path} (the one the run was graded with)")
        if roster_path is None and args.format in ("canvas", "blackboard"):
            print(
                f"warning: no roster, so the {args.format} file has no names (and Canvas no user ids); give "
                "--roster with the LMS's own gradebook export",
                file=sys.stderr,
            )
        roster = read_roster(roster_path, roster_id) if roster_path else None
        text, rows = export(args.out, args.format, args.column, roster)
    except (ExportError, RosterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    target = args.output or args.out / f"export-{args.format}.csv"
    from grader.files import write_atomic

    write_atomic(target, text)
    print(f"wrote {target} ({rows} students, {args.format})")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from grader.outputs.merge import merge_shards
    from grader.term.shards import ShardError

    try:
        count, students = merge_shards(args.shards, args.out)
    except (ShardError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"merged {count} shard(s), {students} student(s), into {args.out}/ (gradebook.csv, summary.md, report.html)")
    return 0


def _check(args: argparse.Namespace, assignment) -> int:
    """Self-check one file; a user mistake is one line on stderr, never a traceback."""
    from grader.selfcheck import SelfCheckError, check_path

    try:
        report = check_path(args.file, assignment=assignment.name, task=args.task, name=args.name, all_tasks=args.all)
    except SelfCheckError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return report.exit_code
