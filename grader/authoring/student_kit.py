"""The zip a course hands its students: templates, notebooks, self-check; no answers, nothing for staff.

    python -m grader.authoring.student_kit --assignment assignment2 [--hand-in "Canvas, Assignments > A2"]
    make student-kit ASSIGNMENT=assignment2 HAND_IN="..."

Inside: the pack's templates and self-check notebooks, the part of the grader that
self-check needs (the child side, the checks of this one pack, the stored references of
the visible inputs, ``visible_references.bin``), the shipped data, a contract page for
students (``ASSIGNMENT.md``, written from the pack's declaration: files, names, parameter
lists, points per rubric part, the rules, how to hand in), a ``requirements.txt`` that
installs on Linux, Windows and both kinds of Mac, and a README.

Left out: ``solutions/``, every pack's ``references.py`` (the code that computes expected
values and the stand-ins; the kit has a placeholder that says so), the hidden inputs' seed
(``grader/hidden_seed.py``), the other packs, and everything for staff: grading a folder,
outputs and exports (gradebook, report, leaderboard, the term), the Gradescope bundle, the
similarity report, the authoring tools, the staff contract pages, the tests, demo classes
and benchmarks. The kit's CLI offers ``check`` only (``grader/student_kit.json`` marks a
kit). The same source always gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path, PurePosixPath

from grader.assignment import Assignment
from grader.judging.reference import REPO
from grader.packs import DEFAULT, PACKS, load_pack

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
REFERENCES = "references.py"  # each pack's: replaced by PLACEHOLDER in the kit
MARKER = "grader/student_kit.json"  # present only in a kit: the CLI shows the student commands

# What the kit leaves out of grader/: staff commands, their outputs and tools (a module or a
# whole subpackage, by its path below grader/).
STAFF_ONLY = (
    "outputs/",  # grading a whole folder and what it writes
    "authoring/",  # templates, new packs, this kit
    "hidden_seed.py",  # the hidden inputs' seed
    "gradescope/",
    "similarity/",
    "term/",  # the Gradescope bundle, copy detection, the term
    "packs/AUTHORING.md",
)
DATA_FILES = ("digits.npz", "tweets.tsv.gz")

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
NOTEBOOK_PACKAGES = ("jupyter", "matplotlib")

# The kit's requirements: one torch cannot serve every laptop. PyTorch stopped building for
# Intel Macs after 2.2.2, which needs NumPy 1.x and Python 3.12 or older; everywhere else the
# torch the course grades with (CPU-only on Linux and Windows with the index URL of the
# README; pip's default on Linux is the CUDA build). tests/test_student_kit.py checks that
# every line resolves to a wheel on each platform; `make kit-matrix` installs the oldest and
# the newest and self-checks with them.
INTEL_MAC = "sys_platform == 'darwin' and platform_machine == 'x86_64'"
NOT_INTEL_MAC = "sys_platform != 'darwin' or platform_machine != 'x86_64'"
REQUIREMENTS = f"""\
# What self-check and the notebooks need. Install with the command in README.md for your
# platform (on Linux and Windows it fetches the CPU-only PyTorch, a much smaller download).
numpy>=1.26,<3 ; {NOT_INTEL_MAC}
numpy>=1.26,<2 ; {INTEL_MAC}
torch>=2.2.2,<=2.14.1 ; {NOT_INTEL_MAC}
torch==2.2.2 ; {INTEL_MAC}
landlockpy==0.2.0 ; sys_platform == 'linux'
pyseccomp==0.1.2 ; sys_platform == 'linux'
{chr(10).join(NOTEBOOK_PACKAGES)}
"""
OLDEST = {"torch": "2.2.2", "numpy": "1.26.4"}  # the oldest the kit accepts (make kit-matrix)

STUDENT_README = """\
# {title}: your kit

What is here:

- `templates/`: the files you complete ({files}). Keep every graded name and its
  parameter list.
- `notebooks/`: one notebook per file. Each explains what to build, runs the grader's
  visible checks on your file and lets you try your code on small examples.
- `ASSIGNMENT.md`: what is graded (names, parameter lists, points per part) and the rules.
- `grader/`: the part of the course's grader that checks your files. On your machine it
  runs the visible checks only, against stored answers for those inputs; grading also runs
  hidden inputs.

## Set up once

You need Python 3.10 to 3.13 (on an Intel Mac: 3.10 to 3.12), from python.org, your
package manager or Anaconda. In a terminal, in this folder:

| your computer | commands |
|---|---|
| Linux | `python3 -m venv .venv` then `.venv/bin/pip install -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu` |
| Windows | `py -m venv .venv` then `.venv\\Scripts\\pip install -r requirements.txt --extra-index-url https://download.pytorch.org/whl/cpu` |
| Mac (Apple or Intel) | `python3 -m venv .venv` then `.venv/bin/pip install -r requirements.txt` |

The download is about 300 MB (PyTorch for the CPU, NumPy, Jupyter). Without the
`--extra-index-url` part, pip on Linux fetches PyTorch's GPU build, over 3 GB, which works
the same here. Google Colab already has everything: upload this folder and run the
notebooks there.

## Check your work

Open the notebooks (`.venv/bin/jupyter lab notebooks/`, on Windows
`.venv\\Scripts\\jupyter lab notebooks`), or from a terminal in this folder:

    .venv/bin/python -m grader check {check_path}

`check` runs the visible checks, shows what your code printed under each check, and exits
with 1 while any visible check fails (0 when all pass). Your code runs in a separate
process with a time limit, so an endless loop cannot hang anything. On Linux it runs in
the same kind of sandbox as grading; on Mac and Windows it says that it does not.

## Hand in

{hand_in}

`check` also takes the zip you will upload, or with `--all` a folder: it says which
student and which task the grader will read each file as, and checks every one.

## More

The grader's documentation has a page for students, "Checking your work before you hand
it in" (`docs/students/self-check.md` in the course's grader): every option of `check`,
how the notebooks find your file, and what self-check can and cannot promise.
"""


def kit_files(pack_name: str, repo: Path = REPO, hand_in: str | None = None) -> list[tuple[str, bytes]]:
    """(name in the zip, bytes) of everything the kit holds, sorted by name."""
    pack = load_pack(pack_name)
    files: dict[str, bytes] = {}
    for path in sorted((repo / "grader").rglob("*")):
        name = path.relative_to(repo).as_posix()
        if (
            path.is_file()
            and path.suffix in (".py", ".bin")
            and "__pycache__" not in path.parts
            and _student_side(name, pack_name)
        ):
            files[name] = PLACEHOLDER.encode() if name.endswith("/" + REFERENCES) else path.read_bytes()
    for task in pack.files:
        template = repo / "templates" / task.template
        if template.is_file():
            files[f"templates/{task.template}"] = template.read_bytes()
    for path in notebooks_of(pack_name, repo):
        files[f"notebooks/{path.name}"] = path.read_bytes()
    for name in DATA_FILES:
        files[f"data/{name}"] = (repo / "data" / name).read_bytes()
    files["data/README.md"] = student_data_readme((repo / "data" / "README.md").read_text(encoding="utf-8")).encode()
    where = pack.hand_in if hand_in is None else hand_in
    first = pack.files[0]
    settings = {
        "assignment": pack_name,
        "title": pack.title,
        "hand_in": where,
        "example_file": f"{first.task}_3180100111{first.suffix}",
        "example_name": first.names[0].key,
    }
    files[MARKER] = (json.dumps(settings, indent=1) + "\n").encode()
    files["requirements.txt"] = REQUIREMENTS.encode()
    files["README.md"] = student_readme(pack, where).encode()
    files["ASSIGNMENT.md"] = student_contract(pack, where).encode()
    return sorted(files.items())


def _student_side(name: str, pack_name: str) -> bool:
    """Whether ``grader/<...>`` belongs in a student's kit of ``pack_name``."""
    inside = PurePosixPath(name).relative_to("grader").as_posix()
    if any(inside == item or (item.endswith("/") and inside.startswith(item)) for item in STAFF_ONLY):
        return False
    parts = inside.split("/")
    if parts[0] == "packs" and len(parts) > 2:
        return parts[1] == pack_name and parts[2] != "ASSIGNMENT.md"
    return True


def notebooks_of(pack_name: str, repo: Path = REPO) -> list[Path]:
    """The pack's notebooks: those whose self-check calls name it."""
    return [
        path
        for path in sorted((repo / "notebooks").glob("*.ipynb"))
        if f'assignment=\\"{pack_name}\\"' in path.read_text(encoding="utf-8")
    ]


def requirements() -> str:
    return REQUIREMENTS


def student_data_readme(staff_readme: str) -> str:
    """data/README.md for students: what each shipped file is and where it comes from; no rebuild
    recipes, no demo classes."""
    sections = re.split(r"(?m)^(?=## )", staff_readme)
    kept = [section for section in sections[1:] if any(f"`{name}`" in section.splitlines()[0] for name in DATA_FILES)]
    cleaned = []
    for section in kept:
        paragraphs = [p for p in section.split("\n\n") if not p.startswith("**Rebuild.**")]
        cleaned.append("\n\n".join(paragraphs).rstrip() + "\n")
    return (
        "# The data in this kit\n\nThe notebooks and self-check read these files; nothing is downloaded.\n\n"
        + "\n".join(cleaned)
    )


def student_readme(pack: Assignment, hand_in: str) -> str:
    from grader.selfcheck import hand_in_text

    first = pack.files[0]
    return STUDENT_README.format(
        title=pack.title,
        files=", ".join(f"`{f.template}`" for f in pack.files),
        check_path=f"templates/{first.template}",
        hand_in=hand_in_text(pack, where=hand_in),
    )


def student_contract(pack: Assignment, hand_in: str) -> str:
    """The students' contract page, written from the pack's declaration (so it cannot drift from
    what the grader checks): files, graded names, parameter lists, points per rubric part, rules."""
    from grader.intake.interface import allowed_imports
    from grader.selfcheck import hand_in_text

    out = [
        f"# {pack.title}: what is graded\n",
        f"{pack.points:g} points in {len(pack.files)} files. The docstrings of the templates say what each graded "
        "name must do; this page says how it is graded.\n",
        "## Handing in\n",
        hand_in_text(pack, where=hand_in) + "\n",
        "## Files, graded names and points\n",
    ]
    for task in pack.files:
        out.append(
            f"### {task.task}: {task.points:g} points, handed in as `{task.task}_<your student id>{task.suffix}`\n"
        )
        if task.kind == "data":
            out.append(
                "A data file, not code: it is read, never run. Self-check tells you whether it is valid; "
                "it is scored against answers you do not have.\n"
            )
        else:
            out.append(f"It may import only {allowed_imports(task)}. Template: `templates/{task.template}`.\n")
        if task.task in pack.notes:
            out.append(pack.notes[task.task] + "\n")
        out.append("| graded name | parameters | points | what earns them | time limit |\n|---|---|---|---|---|")
        for graded in task.names:
            params = (
                f"`{graded.signature.text}`"
                if graded.signature is not None
                else ("(the file)" if task.kind == "data" else "(a value)")
            )
            parts = "; ".join(
                f"{label}: {points:g}" + (" (checked only when graded)" if label in graded.check.graded_only else "")
                for label, points in graded.check.parts.items()
            )
            out.append(f"| `{graded.path}` | {params} | {graded.points:g} | {parts} | {graded.timeout:g} s |")
        out.append("")
    out += ["## Rules\n", RULES]
    return "\n".join(out)


RULES = """\
- **Names and parameter lists.** Keep every graded name, and its parameters in their order
  with their defaults. The grader passes parameters without a default by position and the
  others by name, so an added parameter with a default is fine; a missing or renamed
  name, a removed or reordered parameter, or a changed default costs that name its points.
- **Imports.** Only what the table above allows for the file. Any other import costs
  every name of that file its points.
- **Inputs.** Do not modify the arrays, tensors, dicts or networks you are given unless
  the docstring says so; build new ones.
- **Code outside functions.** Statements at the top level of a file run when it is
  loaded. One that fails or runs for long (a training run, say) is skipped and named in
  your feedback; keep experiments in the notebooks.
- **Limits.** Each graded name has the time limit above and 3 GiB of memory. Your code
  may write files only in its own temporary working folder, and has no network.
- **Prints** are fine: self-check shows them under each check, your feedback the first
  lines.
- **One mistake costs once.** Where a graded name calls another (training calls your
  forward pass), grading runs it with a correct version of the other one, so a bug in one
  does not cost both. Self-check has no correct versions and runs your own, and says so.
- **Hidden inputs.** Self-check runs the visible inputs; grading runs those and hidden
  ones (other sizes, dtypes, edge cases). A part marked "checked only when graded" cannot
  be judged before grading without giving its answer away.
"""


def build(pack_name: str, out: Path, repo: Path = REPO, hand_in: str | None = None) -> Path:
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for name, data in kit_files(pack_name, repo, hand_in):
            info = zipfile.ZipInfo(f"{pack_name}-kit/{name}", date_time=FIXED_TIME)
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=6)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.authoring.student_kit", description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=DEFAULT, choices=PACKS)
    parser.add_argument("--out", type=Path, help="default: dist/student-kit-<assignment>.zip")
    parser.add_argument(
        "--hand-in",
        help="where students upload their files, in your words (default: the pack's "
        "hand_in setting, else 'where your course says')",
    )
    args = parser.parse_args(argv)
    out = build(args.assignment, args.out or REPO / "dist" / f"student-kit-{args.assignment}.zip", hand_in=args.hand_in)
    with zipfile.ZipFile(out) as archive:
        count = len(archive.namelist())
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
