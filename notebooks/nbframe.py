"""What every self-check notebook shares, for the builders ``build.py`` (assignment 2)
and ``build_assignment3.py``: the setup cell, the assembly of cells into a notebook, and
writing the ``.ipynb`` files only when they change.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

TOTAL_LINE = "Total of visible checks:"     # the final cell prints "<TOTAL_LINE> 20/20 points"

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
                            "open this notebook from inside the course repository")


REPO = find_repo()
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from grader.selfcheck import check, check_all, warm_up

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
