"""Generate the student templates from the reference solutions.

In ``solutions/*.py`` every graded body sits between a ``# BEGIN SOLUTION`` line and an
``# END SOLUTION`` line. The template keeps everything else (docstrings, given code) and
replaces each block with ``raise NotImplementedError(...)`` at the block's indentation.
Comment lines inside a block that start with ``# HINT:`` are kept, so a solution can
leave a pointer for students. A block at the top level of the file is removed.

A block may say what replaces it instead: its ``# TEMPLATE: <line>`` comment lines are
written in its place, at the block's indentation and in order (text after the marker,
less one space, so relative indentation survives). A top-level ``Q1 = compute()`` block
can thus become ``Q1 = None  # your answer`` in the template.
"""

from __future__ import annotations

import re
from pathlib import Path

from grader.assignment import Assignment

BEGIN, END, HINT, REPLACEMENT = "# BEGIN SOLUTION", "# END SOLUTION", "# HINT:", "# TEMPLATE:"
DEF = re.compile(r"^(\s*)(?:async\s+)?def\s+(\w+)")
CLASS = re.compile(r"^class\s+(\w+)")


class MarkerError(ValueError):
    pass


def make_template(source: str, filename: str = "<solution>") -> str:
    out: list[str] = []
    inside = False
    indent = ""
    current_class = current_def = ""
    def_is_method = False
    hints: list[str] = []
    replacement: list[str] = []
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{filename}:{number}: {BEGIN} inside another block")
            inside, indent, hints, replacement = True, line[: len(line) - len(line.lstrip())], [], []
            continue
        if stripped == END:
            if not inside:
                raise MarkerError(f"{filename}:{number}: {END} without {BEGIN}")
            inside = False
            if indent or replacement:
                out.extend(f"{indent}# Hint:{h}\n" for h in hints)
            if replacement:
                out.extend(f"{indent}{text}\n" if text.strip() else "\n" for text in replacement)
            elif indent:
                where = f"{current_class}.{current_def}" if def_is_method else current_def
                out.append(f'{indent}raise NotImplementedError("{where}: not implemented yet (see the docstring)")\n')
            continue
        if inside:
            if stripped.startswith(HINT):
                hints.append(stripped[len(HINT) :])
            elif stripped.startswith(REPLACEMENT):
                text = line.lstrip()[len(REPLACEMENT) :].rstrip("\r\n")
                replacement.append(text[1:] if text.startswith(" ") else text)
            continue
        if m := CLASS.match(line):
            current_class = m.group(1)
        elif line.strip() and not line[0].isspace():
            current_class = ""
        if m := DEF.match(line):
            current_def, def_is_method = m.group(2), bool(m.group(1)) and bool(current_class)
        out.append(line)
    if inside:
        raise MarkerError(f"{filename}: {BEGIN} without {END}")
    return "".join(out)


def template_pairs(assignment: Assignment) -> list[tuple[Path, Path]]:
    """(solution path, template path) for every code file of the assignment (data files have none)."""
    return [
        (Path(assignment.solutions_dir) / f.solution, Path(assignment.templates_dir) / f.template)
        for f in assignment.files
        if f.kind == "code"
    ]


def generate(assignment: Assignment, check_only: bool = False) -> list[Path]:
    """Write (or, with ``check_only``, compare) every template; return the stale ones."""
    stale = []
    for solution, template in template_pairs(assignment):
        wanted = make_template(solution.read_text(encoding="utf-8"), str(solution))
        current = template.read_text(encoding="utf-8") if template.exists() else None
        if current != wanted:
            stale.append(template)
            if not check_only:
                template.parent.mkdir(parents=True, exist_ok=True)
                template.write_text(wanted, encoding="utf-8")
    return stale
