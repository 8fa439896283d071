"""Gradescope support: build the autograder bundle, and grade one submission on Gradescope.

    python -m grader.gradescope build [--out dist/autograder.zip] [--assignment NAME]   (make gradescope)
                                      [--labels PATH] [--cutoffs LOW HIGH]   (a contest's hidden labels)
    python -m grader.gradescope run                                  (what run_autograder calls)

:mod:`.bundle` builds the zip, :mod:`.stage` turns one upload into a folder the batch
grader understands, :mod:`.run` grades it and always writes results.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the Gradescope autograder zip")
    build.add_argument("--out", type=Path, default=Path("dist/autograder.zip"), help="default %(default)s")
    build.add_argument("--assignment", help="the pack run_autograder grades (default: the grader's default pack)")
    build.add_argument(
        "--labels", type=Path, help="hidden labels a contest is graded on (CSV id,label), bundled readable by root only"
    )
    build.add_argument(
        "--cutoffs",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        help="contest accuracies worth 0 and full points (default: the pack's)",
    )
    commands.add_parser("run", help="grade /autograder/submission into /autograder/results (see run.py for settings)")
    args = parser.parse_args(argv)
    if args.command == "build":
        from grader.gradescope.bundle import build as build_zip

        try:
            path = build_zip(
                args.out,
                assignment=args.assignment,
                labels=args.labels,
                cutoffs=tuple(args.cutoffs) if args.cutoffs else None,
            )
        except (ValueError, KeyError, FileNotFoundError) as exc:
            print(f"error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
            return 2
        print(f"wrote {path} ({path.stat().st_size} bytes)")
        return 0
    from grader.gradescope.run import run

    return run()
