"""Self-check from the student kit on every Python the kit accepts, with the oldest and the newest
torch and NumPy it accepts: ``make kit-matrix`` (not part of ``make test``: it downloads several GB).

For each combination below it makes a fresh virtual environment with that Python (found with
pyenv, or as ``python3.X`` on the PATH), installs the kit's requirements with torch and NumPy
pinned to the combination (the notebooks' packages left out), unpacks each pack's kit, and
runs ``python -m grader check`` from the kit on every code file: the reference solution,
renamed as a student hands it in, must pass every visible check (exit 0), the blank
template must not (exit 1). It prints a table and exits 1 if any cell failed.

    python tests/kit_matrix.py [--only 3.10] [--keep]      # environments under /tmp/kit-matrix
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from grader.authoring.student_kit import OLDEST, build  # noqa: E402
from grader.packs import PACKS, load_pack  # noqa: E402

WORK = Path("/tmp/kit-matrix")
STUDENT = "3180100111"
# (Python, torch, NumPy): the oldest the kit accepts, Colab's Python, and the newest.
COMBINATIONS = [("3.10", OLDEST["torch"], OLDEST["numpy"]),
                ("3.12", "2.14.1", "2.2.6"),
                ("3.13", "2.14.1", None)]            # None: the newest NumPy the kit accepts


def find_python(version: str) -> str | None:
    found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python")))
    return found[-1] if found else shutil.which(f"python{version}")


def make_env(version: str, torch: str, numpy: str | None) -> Path:
    python = find_python(version)
    if python is None:
        raise RuntimeError(f"no Python {version} here (pyenv install {version}, or put python{version} on the PATH)")
    env = WORK / f"py{version}-torch{torch}"
    if not (env / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(env)], check=True)
    pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    wanted = [f"torch=={torch}", f"numpy=={numpy}" if numpy else "numpy>=1.26,<3", "landlockpy==0.2.0",
              "pyseccomp==0.1.2"]
    subprocess.run(pip + wanted, check=True)
    return env


def check(env: Path, kit: Path, path: str) -> tuple[int, str]:
    done = subprocess.run([str(env / "bin" / "python"), "-m", "grader", "check", path], cwd=kit, capture_output=True,
                          text=True, timeout=900)
    return done.returncode, done.stdout + done.stderr


def run_combination(version: str, torch: str, numpy: str | None) -> list[tuple[str, str, bool, str]]:
    started = time.monotonic()
    env = make_env(version, torch, numpy)
    versions = subprocess.run([str(env / "bin" / "python"), "-c", "import numpy, torch, sys; print(sys.version.split()[0],"
                               " torch.__version__, numpy.__version__)"], capture_output=True, text=True).stdout.split()
    print(f"Python {versions[0]}, torch {versions[1]}, NumPy {versions[2]}: installed in "
          f"{time.monotonic() - started:.0f} s", flush=True)
    rows = []
    for pack_name in PACKS:
        pack = load_pack(pack_name)
        root = WORK / "kits" / pack_name
        if root.exists():
            shutil.rmtree(root)
        with zipfile.ZipFile(build(pack_name, WORK / f"{pack_name}.zip")) as archive:
            archive.extractall(root)
        kit = root / f"{pack_name}-kit"
        for task in pack.files:
            if task.kind != "code":
                continue
            mine = kit / f"{task.task}_{STUDENT}{task.suffix}"
            mine.write_bytes((REPO / "solutions" / task.solution).read_bytes())
            code, out = check(env, kit, mine.name)
            last = out.strip().splitlines()[-1] if out.strip() else ""
            rows.append((versions[0] + "/" + versions[1], f"{pack_name}.{task.task} solution", code == 0,
                         next((line for line in out.splitlines() if line.startswith("Visible checks")), last)))
            if code != 0:
                print(f"--- {pack_name}.{task.task}, the solution, with {' '.join(versions)}:\n{out}", flush=True)
            code, out = check(env, kit, f"templates/{task.template}")
            rows.append((versions[0] + "/" + versions[1], f"{pack_name}.{task.task} template", code == 1,
                         f"exit {code}" + ("" if code == 1 else ": " + out[-300:])))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="one Python version of the matrix, e.g. 3.10")
    parser.add_argument("--keep", action="store_true", help="keep the environments (they are reused next time)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for version, torch, numpy in COMBINATIONS:
        if args.only and version != args.only:
            continue
        rows += run_combination(version, torch, numpy)
        if not args.keep:
            shutil.rmtree(WORK / f"py{version}-torch{torch}", ignore_errors=True)
    print("\n| Python/torch | file | as expected | self-check said |\n|---|---|---|---|")
    for combination, what, ok, said in rows:
        print(f"| {combination} | {what} | {'yes' if ok else 'NO'} | {said[:110]} |")
    failed = [row for row in rows if not row[2]]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} as expected")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
