"""Build ``dist/autograder.zip``, the bundle Gradescope's "Configure Autograder" page takes.

At the zip's root: ``setup.sh`` and ``run_autograder`` (the two scripts in this folder),
``requirements.txt`` (the runtime dependencies from pyproject.toml), ``pyproject.toml``,
and the source the grader needs: ``grader/`` (with the packs), every pack's reference
solutions (``solutions/``) and the data files (``data/*.npz``, ``data/*.tsv.gz``). Built
for one assignment (``--assignment``), the bundle also holds
``grader/gradescope/default_assignment.txt``, which makes that pack the one
``run_autograder`` grades unless ``GRADER_ASSIGNMENT`` says otherwise.

A pack whose checks need run settings (assignment3's contest: the hidden labels, and
optionally other cutoffs) gets them at build time: the labels file goes into the bundle
as ``hidden/labels.csv`` with ``hidden/settings.json`` beside it; ``setup.sh`` makes
``hidden/`` readable by root only, like the solutions, and ``run_autograder`` grades with
them. Building such a pack without the labels is refused with a one-line reason, so a
bundle can never be uploaded that fails every student.

The zip is deterministic: files in a fixed order, fixed timestamps and permissions, so
the same source always gives the same bytes.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import cast

from grader.judging.reference import REPO

HERE = Path(__file__).resolve().parent
SCRIPTS = ("setup.sh", "run_autograder")
# Dependencies of the notebooks, the test suite and the similarity report, not of grading:
# not installed on Gradescope.
NOT_FOR_GRADING = frozenset(
    {"pytest", "nbformat", "nbconvert", "nbclient", "ipykernel", "jupyter", "copydetect", "pygments"}
)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold


def requirements(pyproject: Path) -> list[str]:
    """The ``[project] dependencies`` of pyproject.toml that grading needs, in file order."""
    text = pyproject.read_text(encoding="utf-8")
    try:
        import tomllib

        deps = tomllib.loads(text)["project"]["dependencies"]
    except ImportError:  # Python 3.10: read the one array by hand
        block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
        deps = re.findall(r"[\"']([^\"']+)[\"']", block.group(1)) if block else []
    # A dependency always starts with its name, so the match is never None.
    return [
        d
        for d in deps
        if cast("re.Match[str]", re.match(r"[A-Za-z0-9_.-]+", d)).group(0).lower() not in NOT_FOR_GRADING
    ]


def solution_dirs(repo: Path = REPO) -> list[Path]:
    """The reference-solution folder of every assignment pack (grading needs them all)."""
    from grader.packs import PACKS, load_pack

    dirs = {Path(load_pack(name).solutions_dir).resolve() for name in PACKS}
    return sorted(repo / d.relative_to(REPO) for d in dirs)


def source_files(repo: Path = REPO) -> list[tuple[str, Path]]:
    """(name in the zip, file) for the source the grader needs, sorted by name."""
    picked = [p for p in (repo / "grader").rglob("*") if p.suffix in (".py", ".bin") and "__pycache__" not in p.parts]
    for folder in solution_dirs(repo):
        picked += folder.glob("*.py")
    picked += [*(repo / "data").glob("*.npz"), *(repo / "data").glob("*.tsv.gz"), repo / "pyproject.toml"]
    return sorted((p.relative_to(repo).as_posix(), p) for p in picked if p.is_file())


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.create_system = 3  # unix, so the permissions below are honoured
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data, compresslevel=6)


DEFAULT_FILE = "grader/gradescope/default_assignment.txt"
HIDDEN_DIR = "hidden"  # readable by root only once setup.sh has run
LABELS_FILE = f"{HIDDEN_DIR}/labels.csv"
SETTINGS_FILE = f"{HIDDEN_DIR}/settings.json"


def run_settings(assignment: str | None, labels: Path | None, cutoffs: tuple[float, float] | None) -> dict:
    """The settings the bundle's pack is graded with, checked now rather than on Gradescope.

    Raises ValueError (one line, for the TA) when the pack needs labels and none were
    given, when labels are given for a pack that has no use for them, or when the checks
    refuse them (an unreadable labels file, cutoffs out of order).
    """
    from grader.assignment import configured
    from grader.packs import DEFAULT, load_pack

    pack = load_pack(assignment or DEFAULT)
    settings = {k: v for k, v in (("labels", labels), ("cutoffs", cutoffs)) if v is not None}
    if "labels" in pack.settings_read and labels is None:
        raise ValueError(
            f"{pack.name} grades contest predictions against hidden labels: build the bundle with "
            "them (make gradescope ASSIGNMENT=" + pack.name + " LABELS=path/to/labels.csv)"
        )
    configured(pack, settings)  # unused settings and unusable labels raise SettingError, a ValueError
    return settings


def build(
    out: Path,
    repo: Path = REPO,
    assignment: str | None = None,
    labels: Path | None = None,
    cutoffs: tuple[float, float] | None = None,
) -> Path:
    """Write the bundle to ``out`` and return its path; ``assignment`` becomes its default pack.

    ``labels`` and ``cutoffs`` are the contest settings (see :func:`run_settings`).
    """
    settings = run_settings(assignment, labels, cutoffs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    missing = [p for p in (repo / "data" / "digits.npz", *solution_dirs(repo)) if not p.exists()]
    if missing:
        raise FileNotFoundError(f"cannot build the bundle without {', '.join(map(str, missing))}")
    reqs = requirements(repo / "pyproject.toml")
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for script in SCRIPTS:
            _add(archive, script, (HERE / script).read_bytes(), executable=True)
        _add(
            archive,
            "requirements.txt",
            (
                "# Generated from pyproject.toml by `python -m grader.gradescope build`.\n"
                + "".join(r + "\n" for r in reqs)
            ).encode(),
        )
        for name, path in source_files(repo):
            _add(archive, name, path.read_bytes())
        if assignment:
            from grader.packs import PACKS

            if assignment not in PACKS:
                raise KeyError(f"unknown assignment {assignment!r}; available: {', '.join(PACKS)}")
            _add(archive, DEFAULT_FILE, (assignment + "\n").encode())
        if settings:
            stored = {k: (LABELS_FILE if k == "labels" else list(v)) for k, v in settings.items()}
            if "labels" in settings:
                _add(archive, LABELS_FILE, Path(settings["labels"]).read_bytes())
            _add(archive, SETTINGS_FILE, (json.dumps(stored, sort_keys=True) + "\n").encode())
    tmp.replace(out)
    return out
