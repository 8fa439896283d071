"""Measure similarity tools side by side (how the library of ``grader/similarity`` was chosen).

Run it with a Python that has the candidates installed (they are not dependencies of the
project), pointing ``--ours`` at the project's interpreter::

    python3 -m venv /tmp/simcand
    /tmp/simcand/bin/pip install copydetect==0.5.0 pycode_similar==1.4 mayat==1.1.1
    /tmp/simcand/bin/python bench/similarity_candidates.py --ours .venv/bin/python

Two measurements per tool, printed as a Markdown table:

* **separation** on the test class of ``tests/fixtures/similarity_class.py`` (task1 and
  layers: independent students, planted disguised copies, untouched templates): the lowest
  score of a planted pair against the highest score of any other pair, and the score of
  two untouched templates. A tool separates when the first is above the second;
* **time** for every pair of 300 files of one task (``task1`` of ``bench/simclass.py``).
  Slow tools run on the first ``--subset`` files and are extrapolated by the number of
  pairs (marked as such).
"""
from __future__ import annotations

import argparse
import csv
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.simclass import fixtures, make_class, write_class  # noqa: E402


def pair_key(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


# --- the tools: each maps {id: path} of one task to {pair: score 0..1} --------------------

def copydetect_plain(files: dict[str, Path], task: str) -> dict[frozenset[str], float]:
    """copydetect as shipped: the template as boilerplate, default thresholds, mean of both sides."""
    from copydetect import CopyDetector
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(REPO / "templates" / f"{task}_template.py", tmp)
        detector = CopyDetector(boilerplate_dirs=[tmp], extensions=["py"], display_t=0.0, autoopen=False,
                                silent=True)
        for path in files.values():
            detector.add_file(str(path))
        detector.run()
    by_path = {str(p): sid for sid, p in files.items()}
    scores = {}
    tests = [by_path[f] for f in detector.test_files]
    refs = [by_path[f] for f in detector.ref_files]
    for i, a in enumerate(tests):
        for j, b in enumerate(refs):
            if a != b:
                both = detector.similarity_matrix[i, j]
                scores[pair_key(a, b)] = max(0.0, float(both.mean()))
    return scores


def pycode_similar(files: dict[str, Path], task: str) -> dict[frozenset[str], float]:
    """pycode_similar 1.4: AST diff of functions, one file as reference for the other."""
    import pycode_similar as ps
    texts = {sid: p.read_text(encoding="utf-8") for sid, p in files.items()}
    scores = {}
    for a, b in itertools.combinations(sorted(texts), 2):
        try:
            result = ps.detect([texts[a], texts[b]], diff_method=ps.UnifiedDiff)
            scores[pair_key(a, b)] = ps.summarize(result[0][1])[0]
        except Exception:  # noqa: BLE001 - a file it cannot parse scores 0
            scores[pair_key(a, b)] = 0.0
    return scores


def mayat(files: dict[str, Path], task: str) -> dict[frozenset[str], float]:
    """mayat 1.1.1 with its stdlib-ast Python frontend, every function, threshold 5."""
    import contextlib
    import io

    from mayat.driver import driver
    from mayat.frontends.Python import Python_AST
    by_path = {str(Path(p).resolve()): sid for sid, p in files.items()}
    with contextlib.redirect_stderr(io.StringIO()):
        result = driver(Python_AST, [str(p) for p in files.values()], "*", "FunctionDef", 5)
    return {pair_key(by_path[r["submission_A"]], by_path[r["submission_B"]]): float(r["similarity"])
            for r in result["result"]}


def ours(python: str):
    def run(files: dict[str, Path], task: str) -> dict[frozenset[str], float]:
        with tempfile.TemporaryDirectory() as tmp:
            folder, out = Path(tmp) / "in", Path(tmp) / "out"
            folder.mkdir()
            for sid, path in files.items():
                shutil.copy(path, folder / f"{task}_{sid}.py")
            subprocess.run([python, "-m", "grader", "similarity", str(folder), "--out", str(out), "--jobs", "2"],
                           cwd=REPO, check=True, capture_output=True)
            with open(out / "similarity.csv", encoding="utf-8") as fh:
                return {pair_key(r["student_a"], r["student_b"]): float(r["similarity"]) for r in csv.DictReader(fh)}
    return run


# --- measurements -------------------------------------------------------------------------

def separation(tool, folder: Path) -> dict[str, float]:
    cls = fixtures().make_class()
    cls.write(folder)
    worst_planted, best_other, templates = 1.0, 0.0, 0.0
    for task in ("task1", "layers"):
        members = [m for m in cls.members if m.task == task]
        files = {m.id: folder / f"{task}_{m.id}.py" for m in members}
        scores = tool(files, task)
        group = {m.id: (m.copy_of or m.id) for m in members if m.kind != "template"}
        for a, b in itertools.combinations(sorted(files), 2):
            s = scores.get(pair_key(a, b), 0.0)
            if a in group and b in group and group[a] == group[b]:
                worst_planted = min(worst_planted, s)
            else:
                best_other = max(best_other, s)
            if a.startswith("t") and b.startswith("t"):
                templates = max(templates, s)
    return {"worst_planted": worst_planted, "best_other": best_other, "templates": templates}


def timing(tool, folder: Path, count: int, subset: int | None) -> tuple[float, bool]:
    files = {p.stem.split("_", 1)[1]: p for p in sorted(folder.glob("task1_*.py"))[:count]}
    if subset and subset < len(files):
        files = dict(list(files.items())[:subset])
        started = time.perf_counter()
        tool(files, "task1")
        seconds = time.perf_counter() - started
        pairs_full, pairs_done = count * (count - 1) / 2, subset * (subset - 1) / 2
        return seconds * pairs_full / pairs_done, True
    started = time.perf_counter()
    tool(files, "task1")
    return time.perf_counter() - started, False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ours", default=str(REPO / ".venv" / "bin" / "python"), help="the project's Python")
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--subset", type=int, default=40, help="files timed for the slow tools (extrapolated)")
    args = parser.parse_args(argv)
    tools = {"grader similarity (copydetect 0.5.0 inside)": (ours(args.ours), None),
             "copydetect 0.5.0 as shipped": (copydetect_plain, None),
             "pycode_similar 1.4": (pycode_similar, args.subset),
             "mayat 1.1.1": (mayat, args.subset)}
    with tempfile.TemporaryDirectory() as tmp:
        big = write_class(make_class(args.students), Path(tmp) / "big")
        print("| tool | lowest planted pair | highest other pair | two untouched templates | separates "
              f"| all pairs of {args.students} task1 files |\n|---|---|---|---|---|---|")
        for name, (tool, subset) in tools.items():
            try:
                sep = separation(tool, Path(tmp) / f"fix-{len(name)}")
                seconds, extrapolated = timing(tool, big, args.students, subset)
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"| {name} | failed: {type(exc).__name__}: {exc} | | | | |")
                continue
            ok = "yes" if sep["worst_planted"] > sep["best_other"] else "**no**"
            when = f"{seconds:.1f} s" + (f" (extrapolated from {subset} files)" if extrapolated else "")
            print(f"| {name} | {sep['worst_planted']:.2f} | {sep['best_other']:.2f} | {sep['templates']:.2f} | {ok} "
                  f"| {when} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
