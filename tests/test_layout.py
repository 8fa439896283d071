"""The layout's contracts cover every pack: a pack module that is not its probes is named in
the import contracts of pyproject.toml, so the child side can never import it unnoticed."""
import fnmatch
from pathlib import Path

import tomllib

from grader.packs import ALL_PACKS

ROOT = Path(__file__).resolve().parent.parent


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_every_grader_side_module_of_every_pack_is_forbidden_to_the_probes():
    forbidden = [m for c in _contracts() if c["type"] == "forbidden" and "grader.packs.*.probes" in c["source_modules"]
                 for m in c["forbidden_modules"]]
    unguarded = []
    for pack in ALL_PACKS:
        for path in sorted((ROOT / "grader" / "packs" / pack).glob("*.py")):
            module = f"grader.packs.{pack}.{path.stem}"
            if path.stem in ("probes", "__init__"):
                continue
            if not any(fnmatch.fnmatchcase(module, pattern) for pattern in forbidden):
                unguarded.append(module)
    assert not unguarded, f"add these to the probes' forbidden modules in pyproject.toml: {unguarded}"


def test_the_child_side_contract_names_the_child_side_the_boundary_test_checks():
    from test_boundary import CHILD_SIDE

    child = next(c for c in _contracts() if c["type"] == "forbidden" and "grader.sandbox" in c["source_modules"])
    assert set(CHILD_SIDE) <= set(child["source_modules"])
