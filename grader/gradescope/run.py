"""Grade one Gradescope submission with the batch grader; always leave a results.json.

Layout (https://gradescope-autograders.readthedocs.io/en/latest/specs/), under
``$AUTOGRADER_ROOT`` (default ``/autograder``):

    source/       this bundle, unzipped; the grader runs from here
    submission/   the student's upload (read only: it is copied first)
    results/      results.json is written here

The upload is copied to a fresh folder, staged as one student (:mod:`.stage`) and graded
by :func:`grader.outputs.batch.grade_folder`, exactly as ``make grade`` would grade that student.
If anything in the grader fails, results.json still appears, with score 0 and a message
that tells staff what went wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from grader.grading.runner import Options
from grader.outputs.report import VISIBILITIES, Visibility, write_atomic


@dataclass
class Settings:
    root: Path
    visibility: Visibility
    timeout: float | None = None
    jobs: int = 2
    memory_mb: int = 3072
    assignment: str | None = None
    sandbox: str = "best"

    @property
    def submission(self) -> Path:
        return self.root / "submission"

    @property
    def results(self) -> Path:
        return self.root / "results"


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from environment variables, so Gradescope needs no command-line arguments.

    AUTOGRADER_ROOT (default /autograder), GRADESCOPE_VISIBILITY (scored tests, default
    visible), GRADESCOPE_HIDDEN_VISIBILITY (hidden-input details, default after_published),
    GRADER_TIMEOUT (seconds per graded name; default: each name's own limit), GRADER_JOBS
    (default: CPU count), GRADER_MEMORY_MB (default 3072), GRADER_ASSIGNMENT (default: the pack
    the bundle was built for, else the grader's default pack), GRADER_SANDBOX (best or require,
    default best).
    """
    env = os.environ if env is None else env
    timeout = env.get("GRADER_TIMEOUT")
    return Settings(
        root=Path(env.get("AUTOGRADER_ROOT", "/autograder")),
        visibility=Visibility(
            env.get("GRADESCOPE_VISIBILITY", "visible"), env.get("GRADESCOPE_HIDDEN_VISIBILITY", "after_published")
        ),
        timeout=float(timeout) if timeout else None,
        jobs=int(env.get("GRADER_JOBS") or os.cpu_count() or 1),
        memory_mb=int(env.get("GRADER_MEMORY_MB") or 3072),
        assignment=env.get("GRADER_ASSIGNMENT") or None,
        sandbox=env.get("GRADER_SANDBOX") or "best",
    )


def run(env: Mapping[str, str] | None = None) -> int:
    """Grade the submission and write results.json; 0 when graded, 1 when the grader failed."""
    started = time.monotonic()
    env = os.environ if env is None else env
    results = Path(env.get("AUTOGRADER_ROOT", "/autograder")) / "results"
    try:
        data = grade_submission(settings_from_env(env))
        status = 0
    except BaseException as exc:  # noqa: BLE001 - whatever happened, Gradescope gets a result
        details = traceback.format_exc()
        print("The grader failed; writing a zero score.\n" + details, flush=True)
        data = failure_results(exc, details, time.monotonic() - started)
        status = 1
    data["execution_time"] = round(time.monotonic() - started, 2)
    write_atomic(results / "results.json", json.dumps(data, indent=1))
    print(f"wrote {results / 'results.json'}: score {data['score']:g} in {data['execution_time']:.1f} s", flush=True)
    return status


def grade_submission(settings: Settings) -> dict:
    from grader.gradescope.stage import restore_names, stage
    from grader.judging.reference import REPO
    from grader.outputs.batch import grade_folder
    from grader.packs import DEFAULT, load_pack
    from grader.sandbox import python_world_readable

    for value in (settings.visibility.tests, settings.visibility.hidden_inputs):
        if value not in VISIBILITIES:
            raise ValueError(f"visibility {value!r} is not one of {', '.join(VISIBILITIES)}")
    if not settings.submission.is_dir():
        raise FileNotFoundError(f"no submission folder at {settings.submission}")
    assignment = load_pack(settings.assignment or bundled_assignment() or DEFAULT)
    # The sandbox's own rule (grader.sandbox.Sandbox): as root, with a Python every user can
    # read (setup.sh makes it so), each child drops to its own unprivileged uid.
    as_root = os.getuid() == 0
    isolated = as_root and python_world_readable()
    print(
        f"grader source: {REPO}\nassignment: {assignment.name}\nstudent code runs as: "
        + (
            "separate unprivileged uids, one per child"
            if isolated
            else "the grader's own user" + (" (the Python installation is not world-readable)" if as_root else "")
        ),
        flush=True,
    )

    work = Path(tempfile.mkdtemp(prefix="gradescope-"))
    try:
        upload = work / "upload"
        shutil.copytree(settings.submission, upload, symlinks=True)
        staged = stage(upload, work / "students", assignment)
        options = Options(
            jobs=max(1, settings.jobs),
            timeout=settings.timeout,
            memory_mb=settings.memory_mb,
            protected=(settings.results, settings.submission, upload),
            sandbox=settings.sandbox,
            settings=bundled_settings(assignment),
        )
        batch = grade_folder(
            staged.folder,
            work / "out",
            assignment,
            options,
            resume=False,
            progress=False,
            visibility=settings.visibility,
            announce=lambda line: print(line, flush=True),
        )
        for error in batch.internal_errors:
            print("grader error: " + error, flush=True)
        path = work / "out" / staged.student_id / "results.json"
        if not path.exists():
            raise RuntimeError(
                f"the grader wrote no result for the submission; internal errors: "
                f"{batch.internal_errors or 'none'}; folder problems: {batch.folder_problems}"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    for test in data["tests"]:
        test["output"] = restore_names(test["output"], staged.renamed)
    output = restore_names(data["output"], staged.renamed)
    notes = staged.notes + [restore_names(p, staged.renamed) for p in batch.folder_problems]
    if notes:
        output += "\nHow your upload was read:\n" + "\n".join(f"- {n}" for n in notes)
    if batch.internal_errors:
        output += (
            "\nThe grader hit an internal error on part of this submission; the points concerned may "
            "be wrong. Please tell the course staff (details are in the autograder output)."
        )
    data["output"] = output
    board = gradescope_leaderboard(batch.results, assignment)
    if board:
        data["leaderboard"] = board
    return data


def bundled_settings(assignment, folder: Path | None = None) -> dict:
    """The run settings built into the bundle (``hidden/settings.json``) that ``assignment`` reads.

    A bundle built for the contest carries its labels; a run that grades another pack
    (``GRADER_ASSIGNMENT``) leaves them out rather than failing on a setting it has no use for.
    """
    from grader.gradescope.bundle import SETTINGS_FILE
    from grader.judging.reference import REPO

    root = folder or REPO
    path = root / SETTINGS_FILE
    if not path.is_file():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    settings = {}
    for key, value in stored.items():
        if key in assignment.settings_read:
            settings[key] = root / value if key == "labels" else tuple(value)
    return settings


def gradescope_leaderboard(results, assignment) -> list[dict]:
    """Gradescope's own leaderboard entry: the public-part accuracy, as a classroom contest shows it."""
    from grader.outputs.leaderboard import contest_name, entries

    name = contest_name(assignment)
    board = entries(results, name.key) if name is not None else []
    if not board:
        return []
    return [{"name": "Accuracy (public ids)", "value": round(board[0].public_accuracy, 4), "order": "desc"}]


def bundled_assignment(folder: Path | None = None) -> str | None:
    """The pack a bundle was built for (``default_assignment.txt`` next to this file), if any."""
    path = (folder or Path(__file__).resolve().parent) / "default_assignment.txt"
    return path.read_text(encoding="utf-8").strip() or None if path.is_file() else None


def failure_results(exc: BaseException, details: str, seconds: float) -> dict:
    """A valid results.json for a submission the grader could not grade."""
    return {
        "score": 0,
        "execution_time": round(seconds, 2),
        "output": (
            "The autograder could not grade this submission because it failed itself. This is a problem "
            "with the autograder, not with your files, and 0 is not your grade: please tell the course "
            f"staff.\n\nFor staff: {type(exc).__name__}: {exc}".rstrip()
            + "\n(the full traceback is in the autograder output and in extra_data)"
        ),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
        "extra_data": {"grader_failure": details[-8000:]},
    }
