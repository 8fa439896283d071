"""Stand-ins: the reference versions of graded names that a probe runs the student's code with.

One bug, one loss: ``train`` is graded with the reference ``DNNforward``, so a bug in the
student's forward pass costs only DNNforward. A stand-in is an answer, so it may enter a
child only once every name it could answer is done (see :mod:`grader.sandbox.child`).
It travels as source text: the named definitions of a pack's ``references.py`` or of a
task's reference solution, with exactly what they use (the imports and the module-level
definitions they refer to, followed transitively), and nothing else of that file. The
child runs the text in a namespace of its own.

A stand-in may import only what every child already has (:data:`IMPORTABLE`): the grader's
own modules are out of a child's reach once student code may run.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from grader.assignment import Assignment, GradedName

# Top-level modules a stand-in's text may import (already loaded in every child).
IMPORTABLE = frozenset({"__future__", "math", "numpy", "torch", "typing", "dataclasses", "functools", "itertools"})


class StandInError(ValueError):
    """A stand-in cannot be extracted (not defined there, or it needs what a child may not have)."""


@dataclass(frozen=True)
class StandIns:
    """What one graded name's probe is given: source texts to run, and the names to take from them."""

    sources: tuple[tuple[str, str, tuple[str, ...]], ...]  # (label, source text, names it defines)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for _, _, names in self.sources for name in names)


def extract(path: Path, names: tuple[str, ...]) -> str:
    """The source text of ``names`` from the file at ``path``, with what they use and nothing else."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        tree = ast.parse(text, filename=str(path))
        scopes = {table.get_name(): table for table in symtable.symtable(text, str(path), "exec").get_children()}
    except (OSError, SyntaxError) as exc:
        raise StandInError(f"cannot read {path}: {exc}") from None
    definitions: dict[str, ast.stmt] = {}
    imports: dict[str, tuple[ast.stmt, ast.alias]] = {}
    future: list[ast.stmt] = []
    name: ast.AST | str  # a node of an assignment target below, a defined name further on
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            definitions[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        definitions[name.id] = node
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            future.append(node)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                imports[bound] = (node, alias)
    missing = [name for name in names if name not in definitions]
    if missing:
        raise StandInError(f"{path} does not define {', '.join(missing)}")

    needed: set[str] = set()
    queue = list(names)
    while queue:
        name = queue.pop()
        if name in needed or (name not in definitions and name not in imports):
            continue  # a builtin, or a local name of some function
        needed.add(name)
        node = definitions[name] if name in definitions else imports[name][0]
        queue.extend(_names_used(node, scopes))

    body: list[ast.stmt] = list(future)
    seen: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node not in future:
            kept = [alias for alias in node.names if (alias.asname or alias.name.split(".")[0]) in needed]
            if kept:
                body.append(_checked_import(node, kept, path))
        elif id(node) not in seen and any(definitions.get(name) is node for name in needed):
            seen.add(id(node))
            body.append(node)
    return ast.unparse(ast.Module(body=body, type_ignores=[])) + "\n"


def _names_used(node: ast.stmt, scopes: dict[str, symtable.SymbolTable]) -> set[str]:
    """The module-level names a top-level statement refers to (not a function's own locals)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}
    # Evaluated where the definition stands: decorators, defaults, annotations, base classes.
    outer: list[ast.AST] = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        outer += node.bases + [k.value for k in node.keywords]
    else:
        outer += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        outer += [a.annotation for a in node.args.args + node.args.kwonlyargs if a.annotation is not None]
        outer += [node.returns] if node.returns is not None else []
    names = {sub.id for part in outer for sub in ast.walk(part) if isinstance(sub, ast.Name)}
    return names | _globals_of(scopes[node.name]) if node.name in scopes else names


def _globals_of(table: symtable.SymbolTable) -> set[str]:
    """Names a scope (and the scopes inside it) look up in the module."""
    found = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_global()}
    for child in table.get_children():
        found |= _globals_of(child)
    return found


def _checked_import(node: ast.stmt, kept: list[ast.alias], path: Path) -> ast.stmt:
    if isinstance(node, ast.ImportFrom):
        if node.level or not node.module or node.module.split(".")[0] not in IMPORTABLE:
            raise StandInError(
                f"a stand-in from {path} needs 'from {'.' * node.level}{node.module or ''} import "
                f"...', which a child may not import; stand-ins use only {', '.join(sorted(IMPORTABLE))}"
            )
        return ast.ImportFrom(module=node.module, names=kept, level=0)
    for alias in kept:
        if alias.name.split(".")[0] not in IMPORTABLE:
            raise StandInError(f"a stand-in from {path} needs 'import {alias.name}', which a child may not import")
    return ast.Import(names=kept)


def source_path(assignment: Assignment, graded: GradedName, source: str) -> Path:
    if source == "references":
        from grader import packs

        return Path(packs.__file__).parent / assignment.name / "references.py"
    return Path(assignment.solutions_dir) / assignment.file(graded.task).solution


def for_name(assignment: Assignment, graded: GradedName) -> StandIns | None:
    """The stand-ins of one graded name, or None where the grader has none to give (the
    student kit: no references, no solutions); an empty set for a name that uses none."""
    by_source: dict[str, list[str]] = {}
    for name, source in graded.check.stand_ins.items():
        by_source.setdefault(source, []).append(name)
    sources = []
    for source, names in sorted(by_source.items()):
        path = source_path(assignment, graded, source)
        try:
            text = _extracted(path, tuple(sorted(names)), _mtime(path))
        except StandInError:
            if _available(path):
                raise  # a real declaration bug: say so
            return None
        sources.append((f"{source}:{path.name}", text, tuple(sorted(names))))
    return StandIns(tuple(sources))


def _available(path: Path) -> bool:
    """False for a file that is missing, or is the student kit's placeholder for references.py."""
    try:
        return "STUDENT_KIT_PLACEHOLDER" not in path.read_text(encoding="utf-8")
    except OSError:
        return False


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


@lru_cache(maxsize=64)
def _extracted(path: Path, names: tuple[str, ...], mtime: float) -> str:
    return extract(path, names)
