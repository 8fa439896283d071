"""What every self-check notebook shares, for the builders ``build.py`` (assignment 2),
``build_assignment3.py`` and ``build_assignment4.py``: the frame of a notebook (its
introduction, the setup cell, one section per graded name, the final cell that checks the
whole file and says how to hand it in), the assembly of cells into a notebook, and writing
the ``.ipynb`` files only when they change.

A notebook runs the same in the course repository and in a student kit: both hold
``grader/`` and ``templates/``, and the setup cell looks for that folder.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

TOTAL_LINE = "Total of visible checks:"     # the final cell prints "<TOTAL_LINE> 20/20 points"

INTRO = """\
This notebook runs the grader's **visible checks** on your file and lets you try your
code on small experiments. Your code runs in a separate process with the grader's time
and memory limits, so a crash or an endless loop cannot take the notebook down.
{hidden}

How to use it:

1. Run the setup cell below. It checks `templates/{template}` unless you say otherwise:
   edit the `STUDENT_FILE` line, or set the environment variable `STUDENT_FILE` before
   starting Jupyter (a relative path starts at the course folder, the one that holds
   `grader/` and `templates/`).
2. Edit your file in an editor, save it, and re-run the cells you care about. Each check
   and each experiment reads the file again; there is no need to restart the kernel.
   Whatever your code prints while it is checked is shown under its check.
3. The last cell checks the whole file, prints your total and says how to hand it in.
"""

HIDDEN = "Passing here is necessary, not sufficient: the grader also tries hidden inputs."

FINAL_MD = """\
## Everything at once, and handing in

The self-check of every graded name of your file and the total of the visible checks,
then what to hand in, under which name and where. The grader reads file names: the last
lines say how it would read the file checked here.
"""

FINAL = '''\
result = check_all("{task}", STUDENT_FILE, assignment="{assignment}")
display(result)
print(result.total_line("Total of visible checks"))
hand_in("{task}", STUDENT_FILE, assignment="{assignment}")
'''

# The setup cell: finds the repository and the student's file, and defines the helpers the
# experiments use. Formatted with the template's file name, the task and the assignment.
SETUP = '''\
%load_ext autoreload
%autoreload 2

import contextlib
import importlib.util
import os
import sys
from pathlib import Path


def find_repo(start=None):
    """The nearest folder, from here upwards, that holds both grader/ and templates/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "grader").is_dir() and (folder / "templates").is_dir():
            return folder
    raise FileNotFoundError(f"no folder with grader/ and templates/ at or above {{here}}: "
                            "open this notebook from inside the course folder (your kit or the repository)")


REPO = find_repo()
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader.selfcheck import check, check_all, hand_in, warm_up

# The file to check. Change the default here, or set the environment variable STUDENT_FILE.
STUDENT_FILE = Path(os.environ.get("STUDENT_FILE", "templates/{template}"))
if not STUDENT_FILE.is_absolute():
    STUDENT_FILE = REPO / STUDENT_FILE
if not STUDENT_FILE.is_file():
    raise FileNotFoundError(f"{{STUDENT_FILE}} does not exist; fix STUDENT_FILE in this cell")
print("Checking", STUDENT_FILE)
# Load PyTorch and the checks now (a few seconds), so that the first check below is quick.
warm_up(assignment="{assignment}")


def student():
    """Import STUDENT_FILE afresh, so that the experiments always run your latest code."""
    spec = importlib.util.spec_from_file_location("student_{task}", STUDENT_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def needs(*names):
    """Run an experiment; if it reaches code that is not written yet, say so instead of failing."""
    try:
        yield
    except NotImplementedError as exc:
        what = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        print(f"Implement {{what}} first, then run this cell again. [{{exc}}]")
'''


def text(source: str) -> str:
    return textwrap.dedent(source).strip("\n")


def notebook(task: str, title: str, intro: str, sections: list[tuple[str | None, str | None, str | None]],
             assignment: str, hidden: str = HIDDEN) -> nbformat.NotebookNode:
    """One self-check notebook. ``sections`` are (explanation, graded key, experiment code),
    each optional: a section without a key has no self-check cell, one without an experiment
    no experiment cell. ``hidden`` says what the hidden inputs add (a paragraph of the intro)."""
    template = f"{task}_template.py"
    cells: list[tuple[str, str]] = [
        ("markdown", f"# {title}\n\n" + text(intro) + "\n\n" + INTRO.format(template=template, hidden=hidden)),
        ("code", SETUP.format(template=template, task=task, assignment=assignment)),
    ]
    for explanation, key, experiment in sections:
        if explanation:
            cells.append(("markdown", text(explanation)))
        if key:
            cells.append(("code", f'check("{key}", STUDENT_FILE, assignment="{assignment}")'))
        if experiment:
            cells.append(("code", text(experiment)))
    cells.append(("markdown", FINAL_MD))
    cells.append(("code", FINAL.format(task=task, assignment=assignment)))
    return assemble(task, cells)


def assemble(task: str, cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook from (kind, source) pairs, kind being "markdown" or "code"."""
    nb = new_notebook()
    for index, (kind, source) in enumerate(cells):
        make = new_markdown_cell if kind == "markdown" else new_code_cell
        # Fixed ids keep `make notebooks` from rewriting unchanged files with fresh random ids.
        nb.cells.append(make(text(source), id=f"{task}-{index:02d}"))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nb


def write(notebooks: dict[str, nbformat.NotebookNode], folder: Path) -> int:
    """Write each notebook to ``folder``, leaving unchanged files untouched."""
    for filename, nb in notebooks.items():
        path = folder / filename
        content = nbformat.writes(nb) + "\n"
        if path.exists() and path.read_text(encoding="utf-8") == content:
            print(f"unchanged {path.relative_to(folder.parent)}")
            continue
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(folder.parent)}")
    return 0
