"""A student's notebook as a task file: its code cells, in order, as one Python module.

Plain JSON reading, no Jupyter needed. IPython-only lines (``%matplotlib inline``,
``!pip install ...``, ``x?``) would be syntax errors in a module; they become comments,
so line numbers stay close to the cells and nothing of them runs.
"""

from __future__ import annotations

import json
import re

MAX_CELLS = 2000
HELP = re.compile(r"^[\w.]+\?{1,2}$")  # "np.dot?" asks IPython for help
CELL_MARKER = "# --- notebook cell {} ---"  # the line before each cell's code in the module
CELL_MARKER_LINE = re.compile(r"^# --- notebook cell (\d+) ---$")


def notebook_to_source(raw: bytes) -> tuple[bytes | None, str | None]:
    """(module source, None) or (None, why the notebook cannot be read)."""
    try:
        notebook = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return None, f"not a readable notebook ({type(exc).__name__}: {str(exc)[:100]})"
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if cells is None and isinstance(notebook, dict):  # nbformat 3 keeps cells in worksheets
        worksheets = notebook.get("worksheets") or [{}]
        cells = worksheets[0].get("cells") if isinstance(worksheets[0], dict) else None
    if not isinstance(cells, list):
        return None, "not a readable notebook (no list of cells)"
    parts = []
    for number, cell in enumerate(cells[:MAX_CELLS], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        text = "".join(source) if isinstance(source, list) else str(source)
        parts.append(CELL_MARKER.format(number) + "\n" + "\n".join(_plain_python(line) for line in text.splitlines()))
    if not parts:
        return None, "the notebook has no code cells"
    return ("\n\n".join(parts) + "\n").encode("utf-8"), None


def position(lines: list[str], lineno: int) -> str:
    """Where line ``lineno`` of a module made by :func:`notebook_to_source` is in the notebook:
    "cell 3, line 2"; "line N" for a module without cells."""
    for back in range(min(lineno, len(lines)) - 1, -1, -1):
        marker = CELL_MARKER_LINE.match(lines[back])
        if marker:
            return f"cell {marker.group(1)}, line {lineno - back - 1}"
    return f"line {lineno}"


def _plain_python(line: str) -> str:
    stripped = line.lstrip()
    if stripped.startswith(("%", "!")) or HELP.match(stripped):
        # "pass" keeps an indented block valid if this was its only line
        return line[: len(line) - len(stripped)] + "pass  # (IPython only, not run) " + stripped
    return line
