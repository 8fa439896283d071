"""Static checks on a student's file, before any of its code runs.

Reads the source with :mod:`ast` only: is it valid Python, is every graded name defined,
does each keep a parameter list the grader can call (the interface policy, below), and
does the file import only what the assignment allows. Each problem becomes one readable
line; each accepted difference becomes a note for the student's feedback.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from grader.assignment import GradedName, TaskFile, params_of, parse_params

Params = tuple[tuple[str, "str | None"], ...]


@dataclass
class FileReport:
    """What the static pass found in one file."""

    fatal: str | None = None  # the file cannot be used at all
    import_problems: list[str] = field(default_factory=list)
    name_problems: dict[str, str] = field(default_factory=dict)  # graded key -> reason
    notes: list[str] = field(default_factory=list)  # accepted differences, one line each, no repeats
    allowed: str = ""  # what the file may import, in words

    def problem_for(self, name: GradedName) -> str | None:
        if self.fatal:
            return self.fatal
        if self.import_problems:
            rule = f" (this file may import only {self.allowed})" if self.allowed else ""
            return f"disallowed import{rule}: " + "; ".join(self.import_problems)
        return self.name_problems.get(name.key)


def decode_source(raw: bytes) -> tuple[str | None, str | None]:
    """Return (text, None) or (None, reason) for a file's bytes."""
    if not raw.strip():
        return None, "the file is empty"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return (
            None,
            f"the file is not valid UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r}); save it as UTF-8",
        )


def allowed_imports(task: TaskFile) -> str:
    """What ``task`` may import, in words: "numpy and the Python standard library"."""
    packages = sorted(task.allowed_packages)
    if task.allow_stdlib:
        packages.append("the Python standard library")
    if not packages:
        return "nothing"
    return packages[0] if len(packages) == 1 else ", ".join(packages[:-1]) + " and " + packages[-1]


def inspect_file(raw: bytes, task: TaskFile, interface: str = "compatible") -> FileReport:
    report = FileReport(allowed=allowed_imports(task))
    text, problem = decode_source(raw)
    if text is None:
        report.fatal = problem
        return report
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" + (f", column {exc.offset}" if exc.offset else "")
        snippet = (exc.text or "").strip()
        report.fatal = f"syntax error at {where}: {exc.msg}" + (f" -> {snippet[:80]}" if snippet else "")
        return report
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, absurd nesting
        report.fatal = f"the file cannot be parsed: {type(exc).__name__}: {str(exc)[:120]}"
        return report

    report.import_problems = find_import_problems(tree, task)
    definitions = top_level_definitions(tree)
    for name in task.names:
        reason, notes = check_name(name, definitions, interface)
        if reason:
            report.name_problems[name.key] = reason
        report.notes += [n for n in notes if n not in report.notes]
    return report


def top_level_definitions(tree: ast.Module) -> dict[str, ast.AST]:
    """Names bound at module level (last binding wins, as when Python runs the file)."""
    found: dict[str, ast.AST] = {}

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[node.name] = node
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    for name in _bound_names(target):
                        found[name] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                found[node.target.id] = node.value
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                for block in ("body", "orelse", "finalbody"):
                    visit(getattr(node, block, []) or [])
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return found


def _bound_names(target: ast.expr) -> list[str]:
    """Names an assignment target binds: ``a`` in ``a = ...``, ``a`` and ``b`` in ``a, b = ...``."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _bound_names(element)]
    return []


def _class_member(cls: ast.ClassDef, member: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found = None
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == member:
            found = node
    return found


def resolve(path: str, definitions: dict[str, ast.AST]) -> tuple[ast.AST | None, str | None]:
    """Find ``relu`` or ``Conv1D.forward``; return (node, None) or (None, reason)."""
    head, _, member = path.partition(".")
    node = definitions.get(head)
    if node is None:
        close = [n for n in definitions if n.lower() == head.lower()]
        hint = f" (found {close[0]!r}: names are case-sensitive and must not be renamed)" if close else ""
        return None, f"{head} is not defined at the top level of the file{hint}"
    if not member:
        return node, None
    if not isinstance(node, ast.ClassDef):
        return None, f"{head} must be a class (it is defined, but not with `class`)"
    method = _class_member(node, member)
    if method is None:
        return None, f"class {head} has no method {member}()"
    return method, None


def signature_of(node: ast.AST, path: str) -> tuple[Params | None, str | None]:
    """The parameter list of a def, a lambda, or a class's ``__init__``."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return params_of(node), None
    if isinstance(node, ast.Lambda):
        fake = ast.FunctionDef(name="_", args=node.args, body=[], decorator_list=[])
        return params_of(fake), None
    if isinstance(node, ast.ClassDef):
        init = _class_member(node, "__init__")
        if init is None:
            return None, f"class {path} defines no __init__"
        return params_of(init), None
    return None, f"{path} is bound to an expression, not defined with def/class; its parameters cannot be checked"


def format_params(params: Params) -> str:
    return "(" + ", ".join(n if d is None else f"{n}={d}" for n, d in params) + ")"


def params_diff(expected: Params, found: Params) -> str | None:
    """None if equal, else a short human description of the first differences."""
    if expected == found:
        return None
    notes = []
    exp_names = [n for n, _ in expected]
    got_names = [n for n, _ in found]
    missing = [n for n in exp_names if n not in got_names]
    extra = [n for n in got_names if n not in exp_names]
    if missing:
        notes.append("missing " + ", ".join(missing))
    if extra:
        notes.append("added " + ", ".join(extra))
    if not missing and not extra and exp_names != got_names:
        notes.append("parameters reordered")
    for name, default in expected:
        for other, got_default in found:
            if other == name and default != got_default:
                if default is None:
                    notes.append(f"{name} must not have a default (found {got_default})")
                elif got_default is None:
                    notes.append(f"{name} lost its default {default}")
                else:
                    notes.append(f"default of {name} is {got_default}, expected {default}")
    return "; ".join(notes) or "parameter list differs"


def check_name(
    name: GradedName, definitions: dict[str, ast.AST], interface: str = "compatible"
) -> tuple[str | None, list[str]]:
    """(why the name cannot be graded, or None; notes on differences that were accepted)."""
    if interface not in INTERFACE_POLICIES:
        raise ValueError(f"unknown interface policy {interface!r}; use one of {', '.join(INTERFACE_POLICIES)}")
    checks = [(name.path, name.signature.text if name.signature is not None else None)] + list(name.requires)
    notes: list[str] = []
    for path, sig_text in checks:
        node, reason = resolve(path, definitions)
        if reason:
            return reason, notes
        assert node is not None  # resolve gives a reason whenever it finds no node
        if sig_text is None:
            # A module-level value: no parameters to compare, but it must not be a def or class.
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                what = "a class" if isinstance(node, ast.ClassDef) else "a function"
                return (
                    f"{path} must be a value assigned at the top level of the file (e.g. {path} = 1.5), not {what}"
                ), notes
            continue
        expected = parse_params(sig_text)
        found, reason = signature_of(node, path)
        if reason:
            return reason, notes
        assert found is not None  # signature_of gives a reason whenever it has no parameters
        if expected[:1] == (("self", None),) and not isinstance(node, ast.ClassDef) and "." not in path:
            # The contract's class is a function here (a factory): calls never pass self.
            if interface == "strict":
                return f"{path} must be a class (defined with `class`), as the contract says", notes
            expected = expected[1:]
            notes.append(f"{path} is a function, not a class (accepted: calling it is all the grader does)")
        shown = path if "." in path or path[:1].islower() else f"{path}.__init__"
        if interface == "strict":
            diff = params_diff(expected, found)
            accepted: list[str] = []
        else:
            diff, accepted = compatible_diff(expected, found)
        if diff:
            rule = (
                "this course requires the exact parameter list"
                if interface == "strict"
                else "a call the grader makes would fail"
            )
            return (
                f"the parameters of {shown} changed ({diff}; {rule}): expected {format_params(expected)}, "
                f"found {format_params(found)}"
            ), notes
        if accepted:
            notes.append(
                f"{shown}{format_params(found)} differs from the contract's {format_params(expected)}: "
                + "; ".join(accepted)
            )
    return None, notes


# --- interface policy ---------------------------------------------------------------------
#
# "compatible" (the default): a graded name keeps its points when every call the grader
# makes still works. The grader passes the contract's parameters that have no default by
# position, and those that have one by keyword (the packs' ASSIGNMENT.md, "Interface policy"). So
# an added parameter with a default, *args/**kwargs, an extra keyword-only parameter with
# a default, and a renamed parameter that is passed by position are accepted, and noted.
# A removed parameter, a reordered positional one, a renamed one that is passed by
# keyword, a lost or changed default, or an added parameter without a default breaks a
# call: 0 for that name, with the difference. "strict": any change to the list is 0.

INTERFACE_POLICIES = ("compatible", "strict")


@dataclass
class _Shape:
    """A parameter list split the way calls see it."""

    positional: list[tuple[str, str | None, bool]]  # (name, default, positional-only)
    keyword_only: dict[str, str | None]
    var_positional: str | None
    var_keyword: str | None


def _shape(params: Params) -> _Shape:
    shape = _Shape([], {}, None, None)
    positional_only = "/" in [name for name, _ in params]
    seen_slash = False
    after_star = False
    for name, default in params:
        if name == "/":
            seen_slash = True
            continue
        if name == "*":
            after_star = True
        elif name.startswith("**"):
            shape.var_keyword = name[2:]
        elif name.startswith("*"):
            shape.var_positional = name[1:]
            after_star = True
        elif after_star:
            shape.keyword_only[name] = default
        else:
            shape.positional.append((name, default, positional_only and not seen_slash))
    return shape


def compatible_diff(expected: Params, found: Params) -> tuple[str | None, list[str]]:
    """(what breaks a grader call, or None; what differs but was accepted) under "compatible"."""
    want, got = _shape(expected), _shape(found)
    by_position = [name for name, default, _ in want.positional if default is None]
    by_keyword: dict[str, str | None] = {name: default for name, default, _ in want.positional if default is not None}
    by_keyword.update(want.keyword_only)
    notes: list[str] = []
    used: set[str] = set()
    theirs: str | None

    for index, name in enumerate(by_position):
        if index < len(got.positional):
            theirs, _, _ = got.positional[index]
            if theirs in by_keyword:
                return f"{theirs} now comes where the grader passes {name} by position (parameters reordered)", notes
            if theirs != name:
                if theirs in by_position:
                    return f"{theirs} and {name} are in a different order", notes
                notes.append(f"{name} is called {theirs} (accepted: the grader passes it by position)")
            used.add(theirs)
        elif got.var_positional:
            notes.append(f"{name} arrives through *{got.var_positional} (accepted)")
        else:
            return f"missing {name}", notes

    positional_names = {name: (default, posonly) for name, default, posonly in got.positional[len(by_position) :]}
    for name, default in by_keyword.items():
        if name in positional_names or name in got.keyword_only:
            theirs, posonly = positional_names.get(name, (got.keyword_only.get(name), False))
            if posonly:
                return f"{name} is positional-only, but the grader passes it by keyword", notes
            if theirs is None:
                return f"{name} lost its default {default}", notes
            if theirs != default:
                return f"the default of {name} is {theirs}, expected {default}", notes
            used.add(name)
        elif got.var_keyword:
            notes.append(f"{name} arrives through **{got.var_keyword} (accepted)")
        else:
            return f"missing {name} (the grader passes it by keyword, so it cannot be renamed)", notes

    extras = [(name, default) for name, default, _ in got.positional[len(by_position) :] if name not in used]
    extras += [(name, default) for name, default in got.keyword_only.items() if name not in used]
    for name, default in extras:
        if default is None:
            return f"added {name} without a default (the grader does not pass it)", notes
    if extras:
        notes.append(
            "adds " + ", ".join(f"{n}={d}" for n, d in extras) + " (accepted: the grader leaves them at their defaults)"
        )
    if got.var_positional and len(got.positional) >= len(by_position):
        notes.append(f"adds *{got.var_positional} (accepted)")
    if got.var_keyword and all(n in used for n in by_keyword):
        notes.append(f"adds **{got.var_keyword} (accepted)")
    keyword_order = [n for n, _, _ in got.positional if n in by_keyword]
    if keyword_order != [n for n in by_keyword if n in keyword_order]:
        notes.append("keyword parameters in another order (accepted: the grader passes them by name)")
    return None, notes


def find_import_problems(tree: ast.Module, task: TaskFile) -> list[str]:
    """Every import the task does not allow, with its line number."""
    problems: list[str] = []

    def disallowed(module: str, line: int, how: str = "import") -> None:
        problems.append(f"line {line}: {how} {module}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not task.import_allowed(alias.name):
                    disallowed(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                disallowed("." * node.level + (node.module or ""), node.lineno, "relative import")
            elif node.module and not task.import_allowed(node.module):
                disallowed(node.module, node.lineno, "from-import of")
        elif isinstance(node, ast.Call):
            target = _dynamic_import_target(node)
            if target is None:
                continue
            if isinstance(target, str):
                if not task.import_allowed(target):
                    disallowed(target, node.lineno, "dynamic import of")
            else:
                problems.append(f"line {node.lineno}: import with a computed module name (cannot be checked)")
    return problems


def _dynamic_import_target(call: ast.Call) -> str | bool | None:
    """For __import__(...) / import_module(...) calls: the literal name, False if computed."""
    func = call.func
    is_import = (isinstance(func, ast.Name) and func.id in ("__import__", "import_module")) or (
        isinstance(func, ast.Attribute) and func.attr in ("__import__", "import_module")
    )
    if not is_import:
        return None
    if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
        return call.args[0].value
    return False
