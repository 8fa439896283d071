"""The zip a course hands its students: templates, notebooks, self-check; no answers.

    python -m grader.student_kit --assignment assignment2 --out dist/student-kit-assignment2.zip
    make student-kit ASSIGNMENT=assignment2

Inside: the pack's templates and self-check notebooks, the grader (which self-checks
against the stored references of the visible inputs, ``visible_references.bin``), the
shipped digits, the pack's contract, a ``requirements.txt`` and a short README. Left out:
``solutions/``, every pack's ``references.py`` (the code that computes expected values and
the stand-ins; the kit has a placeholder that says so), the tests, the hidden inputs' seed
(``grader/hidden_seed.py``), demo classes and their hidden labels, benchmarks. So the kit
holds no code that computes an answer: where grading runs a name with a stand-in (one bug,
one loss), self-check runs it with the student's own version and says so. The same
source always gives the same bytes.
"""
from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

from .packs import DEFAULT, PACKS, load_pack
from .reference import REPO

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
LEFT_OUT = ("grader/hidden_seed.py",)
REFERENCES = "references.py"           # each pack's: replaced by PLACEHOLDER in the kit

PLACEHOLDER = '''"""This pack's references are not in the student kit (STUDENT_KIT_PLACEHOLDER).

The grader computes expected values from them when it grades; on your machine, self-check
compares your results with the stored references of the visible inputs instead
(visible_references.bin), and runs every function with your own versions of the functions
it calls.
"""


def __getattr__(name):
    raise LookupError(f"references.{name}: the student kit holds no reference code; self-check uses the "
                      "stored references of the visible inputs")
'''
NOTEBOOK_PACKAGES = ("jupyter", "nbformat", "nbconvert", "nbclient", "ipykernel")

STUDENT_README = """\
# {title}: your kit

What is here:

- `templates/`: the files you complete ({files}). Keep the function and class names;
  hand each file in as `<task>_<studentID>.py` (for example `{example}`), or all of them in
  one `<studentID>_{name}.zip`.
- `notebooks/`: one notebook per file. Each explains what to build, runs the grader's
  visible checks on your file and lets you try your code on small examples.
- `grader/`: the course's grader. On your machine it runs only the visible checks, against
  stored reference answers; when you hand in, the same checks also run on hidden inputs.
- `grader/packs/{name}/ASSIGNMENT.md`: the full contract (names, points, rules).

Set up once (Python 3.10 or newer):

    python -m venv .venv
    .venv/bin/pip install -r requirements.txt          # on Windows: .venv\\Scripts\\pip ...

Check a file from a terminal, in this folder:

    .venv/bin/python -m grader check {check_path}{assignment_flag}

or open the notebooks: `.venv/bin/jupyter lab notebooks/`. Your code runs in a separate
process with a time limit, so an endless loop cannot hang your notebook. On Linux the
check runs inside the same kind of sandbox as the real grading; on macOS and Windows it
says that it does not.
"""


def kit_files(pack_name: str, repo: Path = REPO) -> list[tuple[str, bytes]]:
    """(name in the zip, bytes) of everything the kit holds, sorted by name."""
    pack = load_pack(pack_name)
    picked: list[Path] = [p for p in (repo / "grader").rglob("*")
                          if p.is_file() and p.suffix in (".py", ".bin", ".md", ".json") and "__pycache__" not in p.parts]
    picked += [repo / "templates" / f.template for f in pack.files if (repo / "templates" / f.template).is_file()]
    picked += notebooks_of(pack_name, repo)
    picked += [repo / "data" / "digits.npz", repo / "data" / "README.md"]
    files = {p.relative_to(repo).as_posix(): p.read_bytes() for p in picked if p.is_file()}
    for name in LEFT_OUT:
        files.pop(name, None)
    for name in list(files):
        if name.startswith("grader/packs/") and name.endswith("/" + REFERENCES):
            files[name] = PLACEHOLDER.encode()
    files["requirements.txt"] = requirements(repo).encode()
    files["README.md"] = student_readme(pack_name).encode()
    return sorted(files.items())


def notebooks_of(pack_name: str, repo: Path = REPO) -> list[Path]:
    """The pack's notebooks: those that name it (packs other than the default always do)."""
    found = []
    for path in sorted((repo / "notebooks").glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        named = [name for name in PACKS if f'assignment=\\"{name}\\"' in text or f"assignment='{name}'" in text]
        if (named and pack_name in named) or (not named and pack_name == DEFAULT):
            found.append(path)
    return found


def requirements(repo: Path = REPO) -> str:
    from .gradescope.bundle import requirements as runtime

    lines = runtime(repo / "pyproject.toml") + list(NOTEBOOK_PACKAGES)
    return "# What the grader and the notebooks need (pinned as the course grades with).\n" + "".join(
        line + "\n" for line in lines)


def student_readme(pack_name: str) -> str:
    pack = load_pack(pack_name)
    first = pack.files[0]
    return STUDENT_README.format(
        title=pack.title, name=pack.name, files=", ".join(f"`{f.template}`" for f in pack.files),
        example=f"{first.task}_3180100111{first.suffix}", check_path=f"templates/{first.template}",
        assignment_flag="" if pack.name == DEFAULT else f" --assignment {pack.name}")


def build(pack_name: str, out: Path, repo: Path = REPO) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, data in kit_files(pack_name, repo):
            info = zipfile.ZipInfo(f"{pack_name}-kit/{name}", date_time=FIXED_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=6)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.student_kit", description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=DEFAULT, choices=PACKS)
    parser.add_argument("--out", type=Path, help="default: dist/student-kit-<assignment>.zip")
    args = parser.parse_args(argv)
    out = build(args.assignment, args.out or REPO / "dist" / f"student-kit-{args.assignment}.zip")
    with zipfile.ZipFile(out) as archive:
        count = len(archive.namelist())
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
