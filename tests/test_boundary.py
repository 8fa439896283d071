"""The grading child holds no answers: a file that implements nothing earns nothing.

Everything in a process that runs student code is the student's to read, so the boundary
is the process: the forkserver (and so every child) loads only the child side, and a
stand-in (a reference version of a graded name, for one bug, one loss) reaches a child only
when the name that uses it has its turn, after the grader stopped accepting anything
about the names it could answer. These tests attack that from the student's side:

* the thieves of ``fixtures/answer_thieves.py``, one file per task of every pack, look for
  answers by every path the grader's source suggests and earn 0 on every name, while an
  honest classmate in the same batch keeps full marks (on the code before this boundary
  they took 15 of task1's 20 points, get_resnet, get_lenet, assignment3's 30 and most of
  assignment4: see the fixture's docstring);
* forgers write to the result channel themselves, to answer a finished name with a
  stand-in that came later, or to start a name early;
* a file that fills its scratch space, and one that returns a 900 MB array.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from fixtures.answer_thieves import THIEVES

from grader.assignment import check_points
from grader.grading import standins
from grader.grading.runner import Options, Runner
from grader.intake.discovery import Student, SubmittedFile
from grader.outputs.batch import grade_folder
from grader.packs import load_pack
from grader.selfcheck import runner_options

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEMO_LABELS = REPO / "data" / "demo_labels" / "assignment3.csv"
TASK1 = (REPO / "solutions" / "task1.py").read_text()

# --- what the forkserver (and so every child) holds ---------------------------------------------

PROBE_THE_SERVER = '''
import gc, json, sys, types
import grader.sandbox.preload
modules = sorted(n for n in sys.modules if n.startswith(("grader", "solutions")) or "solution" in n)
functions = sorted({f"{o.__module__}.{o.__qualname__}" for o in gc.get_objects()
                    if isinstance(o, (types.FunctionType, type)) and str(getattr(o, "__module__", "")).startswith("grader")})
print(json.dumps({"modules": modules, "functions": functions}))
'''
CHILD_SIDE = ("grader.probing", "grader.sandbox", "grader.wire", "grader.notebook_source")


def _child_side(module: str) -> bool:
    parts = module.split(".")
    if module in ("grader", "grader.packs") or module.startswith(CHILD_SIDE):
        return True
    return parts[:2] == ["grader", "packs"] and (len(parts) == 3 or (len(parts) == 4 and parts[3] == "probes"))


def test_the_forkserver_loads_the_child_side_and_nothing_else():
    """Its preload imports the probes of every pack and no check, reference, solution or label:
    no module of the grader side, and no function or class of one, is in its memory."""
    import json

    run = subprocess.run([PYTHON, "-c", PROBE_THE_SERVER], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.splitlines()[-1])
    assert [m for m in found["modules"] if not _child_side(m)] == []
    assert {"grader.packs.assignment2.probes", "grader.packs.assignment3.probes",
            "grader.packs.assignment4.probes"} <= set(found["modules"])
    owners = {name.rsplit(".", 1)[0] for name in found["functions"]}
    assert [o for o in owners if not any(o.startswith(m) for m in found["modules"] if _child_side(m))] == []
    # by name, what the issue found reachable in a child: the oracles and reference classes
    for name in ("oracle_relu", "torch_forward", "ReferenceCharLSTM", "Residual", "get_resnet", "Relu", "Train"):
        assert not [f for f in found["functions"] if f.rsplit(".", 1)[-1] == name], name


# --- thieves, graded as a TA grades ---------------------------------------------------------------


def _honest_files(pack_name: str) -> dict[str, bytes]:
    pack = load_pack(pack_name)
    files = {f"{f.task}_honest.py": (REPO / "solutions" / f.solution).read_bytes() for f in pack.files if f.kind == "code"}
    if pack_name == "assignment3":
        files["predictions_honest.csv"] = DEMO_LABELS.read_bytes()      # every prediction right
    return files


@pytest.mark.parametrize("pack_name", sorted(THIEVES))
def test_a_file_that_implements_nothing_earns_nothing_and_an_honest_classmate_keeps_full_marks(tmp_path, pack_name):
    pack = load_pack(pack_name)
    folder = tmp_path / "class"
    folder.mkdir()
    for task, source in THIEVES[pack_name].items():
        (folder / f"{task}_thief.py").write_text(source)
    for name, data in _honest_files(pack_name).items():
        (folder / name).write_bytes(data)
    settings = {"labels": DEMO_LABELS} if pack_name == "assignment3" else {}
    result = grade_folder(folder, tmp_path / "out", pack, Options(jobs=2, settings=settings), resume=False,
                          progress=False)
    assert result.internal_errors == []
    by_id = {r.student_id: r for r in result.results}
    thief = by_id["thief"]
    stolen = {n.key: (n.score, n.reason[:200]) for n in thief.names if n.score > 0}
    assert stolen == {}, stolen
    honest = by_id["honest"]
    assert honest.score == pack.points, {n.key: (n.score, n.reason) for n in honest.names if n.score < n.points}


# --- forgers: the result channel is the student's to write to, as well ---------------------------

# Raw messages on the result pipe, as multiprocessing frames them (a 4-byte length, then the
# pickle): student code needs nothing of the grader to write one, only its file descriptors.
FORGER = '''
import os, pickle, struct, threading, time
import numpy as np

_seen_inputs = []


def _post(message):
    blob = pickle.dumps(message)
    frame = struct.pack("!i", len(blob)) + blob
    for fd in range(3, 64):
        try:
            os.write(fd, frame)
        except OSError:
            pass


def _plain(array):
    array = np.ascontiguousarray(array)
    return ("\\x00array", "ndarray", array.dtype.str, tuple(array.shape), array.tobytes(), False)


def relu(x):
    _seen_inputs.append(x)
    raise NotImplementedError


def _lurk():
    """Wait for a relu that is not this file's own (the stand-in DNNforward runs with), then
    answer relu's inputs with it, in the grader's own message format."""
    mine = relu
    while True:
        other = globals().get("relu")
        if other is not mine and callable(other):
            break
        time.sleep(0.0002)
    if not _seen_inputs:        # a child resumed after relu's turn has no input of relu to answer
        return
    ids = ["visible-0", "visible-1"] + [f"hidden-{i}" for i in range(5)]
    for case_id, x in zip(ids, _seen_inputs):
        _post(("case", "task1.relu", case_id, {"y": _plain(other(x)), "x_after": _plain(x)}, None, "", 0.0, []))
    _post(("end",))


threading.Thread(target=_lurk, daemon=True).start()
'''

EARLY_START = '''
import os, pickle, struct
import numpy as np


def relu(x):
    """Start DNNforward's turn early, take its stand-in relu from the inbox, answer with it."""
    blob = pickle.dumps(("start", "task1.DNNforward"))
    frame = struct.pack("!i", len(blob)) + blob
    for fd in range(3, 64):
        try:
            os.write(fd, frame)
        except OSError:
            pass
    for fd in range(3, 64):
        try:
            size = struct.unpack("!i", os.read(fd, 4))[0]
            turn = pickle.loads(os.read(fd, size))
        except Exception:
            continue
        for label, text, names in turn[3]:
            space = {}
            exec(text, space)
            return space["relu"](x)
    raise NotImplementedError
'''


def _grade_task1(source: str, timeout: float = 5.0) -> dict:
    pack = load_pack("assignment2")
    students = [Student("forger", {"task1": SubmittedFile("task1", "task1_forger.py", source.encode())}),
                Student("honest", {"task1": SubmittedFile("task1", "task1_honest.py", TASK1.encode())})]
    results: dict = {}
    options = Options(jobs=2, protected=runner_options(pack).protected,
                      only=tuple(n.key for n in pack.file("task1").names), timeout=timeout)
    assert Runner(pack, options).grade(students, lambda r: results.__setitem__(r.student_id, r)) == []
    return results


def test_a_stand_in_arrives_after_the_names_it_could_answer_are_closed():
    """A thread waits for the stand-in relu that DNNforward runs with and sends relu's answers
    with it: the grader refuses results for a name whose turn is over, and stops the child."""
    results = _grade_task1(TASK1 + FORGER)          # the solution, with relu replaced by the forger's
    forger = results["forger"]
    assert forger.name("task1.relu").score == 0
    assert "not implemented" in forger.name("task1.relu").reason
    # The forged message ends the child in a later name's turn (which one depends on timing):
    # refused as out of turn, or, when the thread's write lands inside one of the harness's
    # own large writes (a pipe keeps only writes of 4 KiB or less whole), as a broken channel.
    stopped = [key for key in ("task1.DNNforward", "task1.DNNbackward", "task1.train")
               if "tampered" in forger.name(key).reason or "stopped: the process" in forger.name(key).reason]
    assert stopped, "\n".join(f"{n.key}: {n.reason}" for n in forger.names)
    assert results["honest"].score == 20


def test_a_name_started_out_of_turn_gains_nothing():
    """relu asks for DNNforward's turn itself, to take its stand-in relu from the inbox: names
    start in their order only, so the child is stopped and relu earns nothing; the names after
    it are graded in a fresh child."""
    results = _grade_task1(TASK1 + EARLY_START)
    forger = results["forger"]
    relu = forger.name("task1.relu")
    assert relu.score == 0 and "tampered" in relu.reason, relu.reason
    assert forger.score == 20 - 3
    assert results["honest"].score == 20


# --- a full disk and a huge result --------------------------------------------------------------

FILLER = '''
import os


def relu(x):
    written, error = 0, None
    block = b"\\0" * (1 << 20)
    try:
        for number in range(400):                    # 400 MiB if nothing stops it
            with open(f"filler-{number}", "wb") as fh:
                fh.write(block)
            written += len(block)
    except OSError as exc:
        error = exc.strerror
    print("WROTE", written, "STOPPED", error)
    raise NotImplementedError
'''


def test_a_child_that_fills_its_scratch_space_stops_at_the_quota_and_the_disk_does_not_notice(tmp_path):
    from grader.sandbox import Sandbox
    from grader.sandbox.disk import QUOTA_BYTES

    layers = Sandbox([tmp_path]).self_test()
    if "disk" in layers.missing:
        pytest.skip(f"this machine lacks the disk layer: {layers.missing['disk']}")
    scratch_disk = Path(os.environ.get("TMPDIR", "/tmp"))
    lowest = [shutil.disk_usage(scratch_disk).free]
    before = lowest[0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            lowest.append(shutil.disk_usage(scratch_disk).free)
            done.wait(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        pack = load_pack("assignment2")
        students = [Student("filler", {"task1": SubmittedFile("task1", "task1_filler.py",
                                                              (TASK1 + FILLER).encode())})]
        results: list = []
        Runner(pack, runner_options(pack, ["task1.relu"])).grade(students, results.append)
    finally:
        done.set()
        watcher.join()
    output = results[0].name("task1.relu").output
    written = int(output.split("WROTE ")[1].split()[0])
    assert written <= QUOTA_BYTES and "No space left on device" in output, output
    # Nothing of it reached the machine's disk (the scratch space is memory, private to the child).
    assert before - min(lowest) < 16 * 1024**2


# Grades each folder named on the command line in turn, in one process, and prints the peak
# of its memory while grading that folder: the kernel's high-water mark, reset between
# folders (writing 5 to /proc/self/clear_refs).
MEMORY_RUN = '''
import sys
from pathlib import Path
from grader.outputs.batch import grade_folder
from grader.packs import load_pack
from grader.grading.runner import Options
for folder in sys.argv[1:]:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    result = grade_folder(Path(folder), Path(folder + "-out"), load_pack("assignment2"),
                          Options(jobs=2, only=("task1.relu", "task1.prelu")), resume=False, progress=False)
    status = open("/proc/self/status").read()
    print("PEAK", int(status.split("VmHWM:")[1].split()[0]) * 1024)
    print("SCORES", sorted((r.student_id, r.score) for r in result.results))
'''

HUGE = '''
def relu(x):
    return np.zeros(120_000_000)          # 960 MB for a 5-element input
'''


def _peaks(tmp_path: Path, classes: dict[str, dict[str, str]]) -> dict[str, tuple[int, str]]:
    """name -> (the grader's peak memory while grading that class, its scores), the classes
    graded one after another by one process."""
    for name, files in classes.items():
        (tmp_path / name).mkdir()
        for file_name, text in files.items():
            (tmp_path / name / file_name).write_text(text)
    script = tmp_path / "memory_run.py"
    script.write_text(MEMORY_RUN)
    run = subprocess.run([PYTHON, str(script), *(str(tmp_path / name) for name in classes)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    peaks = [int(line.split()[1]) for line in run.stdout.splitlines() if line.startswith("PEAK")]
    scores = [line for line in run.stdout.splitlines() if line.startswith("SCORES")]
    return dict(zip(classes, zip(peaks, scores)))


def test_a_huge_result_is_refused_in_the_child_and_the_grader_stays_its_usual_size(tmp_path):
    """A relu that returns 960 MB: refused where it is made, with a one-line reason; the
    grader's own peak memory stays within 64 MiB of a class without it."""
    honest = {f"task1_{i}.py": TASK1 for i in range(3)}
    peaks = _peaks(tmp_path, {"usual": honest, "bomb": {**honest, "task1_bomb.py": TASK1 + HUGE}})
    (usual, _), (with_bomb, scores) = peaks["usual"], peaks["bomb"]
    assert "('bomb', 2.0)" in scores, scores            # prelu kept; relu lost
    assert with_bomb - usual < 64 * 1024**2, (usual, with_bomb)
    out = tmp_path / "bomb-out" / "bomb" / "feedback.md"
    assert "larger than this check can use" in out.read_text()


# --- stand-ins: exactly what they need, and only after what they could answer ---------------------


def test_a_stand_in_is_extracted_with_what_it_uses_and_nothing_else(tmp_path):
    path = tmp_path / "references.py"
    path.write_text(textwrap.dedent('''
        import numpy as np
        import torch

        SCALE = 2.0
        UNUSED = 3.0


        def _helper(x):
            return x * SCALE


        def relu(x):
            prelu_of = _helper(x)          # a local that shares a top-level name
            return np.maximum(prelu_of, 0)


        def prelu_of(x, a):
            return torch.where(x > 0, x, a * x)
    '''))
    text = standins.extract(path, ("relu",))
    assert "def relu" in text and "def _helper" in text and "SCALE = 2.0" in text and "import numpy" in text
    assert "def prelu_of" not in text and "UNUSED" not in text and "torch" not in text
    space: dict = {}
    exec(text, space)
    assert list(space["relu"](__import__("numpy").array([-1.0, 1.0]))) == [0.0, 2.0]


def test_a_stand_in_may_not_import_the_grader(tmp_path):
    path = tmp_path / "references.py"
    path.write_text("from ..toolkit import case_rng\n\ndef relu(x):\n    return case_rng(x)\n")
    with pytest.raises(standins.StandInError, match="may not import"):
        standins.extract(path, ("relu",))


def test_a_stand_in_for_a_name_graded_later_is_a_declaration_bug():
    import dataclasses

    pack = load_pack("assignment2")
    task1 = pack.file("task1")
    relu, prelu = task1.names[0], task1.names[1]

    class Early(type(relu.check)):
        stand_ins = {"prelu": "references"}

    early = dataclasses.replace(relu, check=Early())
    broken = dataclasses.replace(pack, files=(dataclasses.replace(task1, names=(early, prelu)),))
    with pytest.raises(ValueError, match="must be graded before it"):
        check_points(broken)
