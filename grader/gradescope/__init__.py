"""Gradescope support: build the autograder bundle, and grade one submission on Gradescope.

    python -m grader.gradescope build [--out dist/autograder.zip] [--assignment NAME]   (make gradescope)
    python -m grader.gradescope run                                  (what run_autograder calls)

:mod:`.bundle` builds the zip, :mod:`.stage` turns one upload into a folder the batch
grader understands, :mod:`.run` grades it and always writes results.json.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the Gradescope autograder zip")
    build.add_argument("--out", type=Path, default=Path("dist/autograder.zip"), help="default %(default)s")
    build.add_argument("--assignment", help="the pack run_autograder grades (default: the grader's default pack)")
    commands.add_parser("run", help="grade /autograder/submission into /autograder/results (see run.py for settings)")
    args = parser.parse_args(argv)
    if args.command == "build":
        from .bundle import build as build_zip
        path = build_zip(args.out, assignment=args.assignment)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
        return 0
    from .run import run
    return run()
