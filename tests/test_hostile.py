"""Hostile and broken submissions: the batch finishes, only the guilty names lose points.

A whole class of hostile students is graded in one batch through ``grade_folder`` (as
``make grade`` does), with short time and memory limits so the test stays quick. Each
student hands in a task1 file: the reference solution with one definition overridden
(or a whole broken file), so every name the attack does not touch must keep full marks.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fixtures.procs import descendants, ppid

from grader.grading.runner import Options
from grader.outputs.batch import grade_folder
from grader.packs import load_pack

REPO = Path(__file__).resolve().parents[1]
# The files' import limit cut from 20 s to 6 s (so 3 s for top-level code): the students that
# hang while being imported are stopped in a third of the time, and burn a third of the CPU.
IMPORT_TIMEOUT = 6.0
PACK = dataclasses.replace(load_pack("assignment2"), files=tuple(
    dataclasses.replace(f, import_timeout=IMPORT_TIMEOUT) for f in load_pack("assignment2").files))
TASK1 = (REPO / "solutions" / "task1.py").read_text(encoding="utf-8")
TIMEOUT = 3.0
TASK1_NAMES = [n.key for n in PACK.file("task1").names]


@dataclass
class Hostile:
    id: str
    code: str                                   # appended to the solution, or the whole file
    expect: dict = field(default_factory=dict)  # key -> points; others keep full marks
    reason: dict = field(default_factory=dict)  # key -> words the reason must contain
    whole_file: bool = False
    raw: bytes | None = None                    # exact bytes of the file (broken encodings)

    def content(self, **names: str) -> bytes:
        """The file's bytes; ``names`` become module-level string constants (paths a test knows)."""
        if self.raw is not None:
            return self.raw
        constants = "".join(f"{key} = {value!r}\n" for key, value in names.items())
        return (self.code if self.whole_file else TASK1 + "\n\n" + constants + self.code.strip() + "\n").encode()


def zero_all(reason: str) -> tuple[dict, dict]:
    return {k: 0 for k in TASK1_NAMES}, {k: reason for k in TASK1_NAMES}


HOSTILE = [
    # --- hangs: killed at the limit, only that name lost -----------------------------------
    Hostile("busyloop", "def relu(x):\n    while True:\n        pass\n", {"task1.relu": 0}, {"task1.relu": "timed out"}),
    Hostile("sleeper", "import time\ndef prelu(x, a):\n    time.sleep(10_000)\n",
            {"task1.prelu": 0}, {"task1.prelu": "timed out"}),
    # a loop left at the top level is stopped after the file's time for top-level code, and skipped
    Hostile("importhang", "while True:\n    pass\n"),
    # one that catches every interrupt runs into the import's limit: the whole file is lost
    Hostile("importhangcatches", "while True:\n    try:\n        while True:\n            pass\n"
            "    except BaseException:\n        pass\n", *zero_all("timed out")),
    Hostile("nosigterm", '''
import sys
def relu(x):
    signal = sys.modules["signal"]
    for name in ("SIGTERM", "SIGALRM", "SIGINT", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    while True:
        pass
''', {"task1.relu": 0}, {"task1.relu": "timed out"}),
    # --- memory ------------------------------------------------------------------------------
    Hostile("membomb", '''
def relu(x):
    hoard = []
    while True:
        hoard.append(np.empty(25_000_000))   # 200 MB at a time, address space only
''', {"task1.relu": 0}, {"task1.relu": "memory"}),
    Hostile("bigarray", "def relu(x):\n    return np.ones((1 << 40,))\n", {"task1.relu": 0}, {"task1.relu": "memory"}),
    # --- exits and interrupts ----------------------------------------------------------------
    Hostile("sysexit", "import sys\ndef relu(x):\n    sys.exit(0)\n", {"task1.relu": 0}, {"task1.relu": "exit"}),
    Hostile("osexit", "import os\ndef prelu(x, a):\n    os._exit(3)\n", {"task1.prelu": 0}),
    Hostile("ctrlc", "def prelu(x, a):\n    raise KeyboardInterrupt\n", {"task1.prelu": 0}, {"task1.prelu": "KeyboardInterrupt"}),
    # --- an ordinary bug deep in the student's own helpers: the reason points at their line -----
    Hostile("deeperror", "def _inner(x):\n    raise ValueError('broken on purpose')\n\ndef relu(x):\n    return _inner(x)\n",
            {"task1.relu": 0}, {"task1.relu": "in _inner: raise ValueError('broken on purpose')"}),
    # an exit at the top level is skipped like any failing top-level line (tests/test_top_level_code.py)
    Hostile("exitatimport", "raise SystemExit(1)\n"),
    Hostile("closedstdout", '''
import os, sys
_correct_relu = relu
def relu(x):
    sys.stdout.close()
    sys.stderr.close()
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:      # already closed by an earlier case
            pass
    return _correct_relu(x)
'''),
    Hostile("recursion", "def relu(x):\n    return relu(x)\n", {"task1.relu": 0}, {"task1.relu": "recursion"}),
    Hostile("forker", '''
import os, time
def relu(x):
    if os.fork() == 0:
        time.sleep(10_000)
    return np.maximum(x, 0)
''', {"task1.relu": 0}, {"task1.relu": "not allowed"}),
    # --- output floods: the output shown with the failure is cut short ----------------------
    Hostile("flood", '''
_flooded = []
def relu(x):
    if not _flooded:          # one flood is enough to show the cut (and keeps the time limit out of it)
        _flooded.append(True)
        for _ in range(200_000):
            print("spam " * 20)
    return np.abs(x)
''', {"task1.relu": 1}),
    # --- cheating ----------------------------------------------------------------------------
    Hostile("patchnumpy", '''
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
def relu(x):
    return np.zeros_like(x)
''', {"task1.relu": 1}),
    Hostile("rigged", '''
class AlwaysEqual:
    def __eq__(self, other):
        return True
    shape = (5,)
    dtype = np.float64
def relu(x):
    return AlwaysEqual()
''', {"task1.relu": 0}),
    Hostile("nans", "def prelu(x, a):\n    return np.full_like(x, np.nan)\n", {"task1.prelu": 0}, {"task1.prelu": "NaN"}),
    Hostile("readsolutions", f'''
try:
    exec(open({str(REPO / "solutions" / "task1.py")!r}).read())
except Exception:
    pass
'''),
    Hostile("vandal", '''
import os, shutil
_correct_relu = relu
def relu(x):
    for target in (VANDAL_TARGET, VANDAL_OUT):     # filled in by the fixture
        if not target:
            continue
        for attempt in (lambda: open(os.path.join(target, "planted.py"), "w").write("x"),
                        lambda: os.remove(os.path.join(target, "task1_busyloop.py")),
                        lambda: shutil.rmtree(target)):
            try:
                attempt()
            except Exception:
                pass
    return _correct_relu(x)
'''),
    # --- broken files: that file scores 0 with the reason ------------------------------------
    Hostile("syntaxerror", "def relu(x)\n    return x\n", *zero_all("syntax error"), whole_file=True),
    Hostile("notutf8", "", *zero_all("UTF-8"), raw=b"def relu(x):\n    return x  # caf\xe9\n"),
    Hostile("emptyfile", "", *zero_all("empty"), whole_file=True),
    Hostile("importlibscipy", "import importlib\nsp = importlib.import_module('scipy')\n", *zero_all("import")),
    Hostile("dunderimport", "sp = __import__('scipy.signal')\n", *zero_all("import")),
]


def tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        h.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    folder, out = root / "submissions", root / "results"
    folder.mkdir()
    for student in HOSTILE:
        paths = {"VANDAL_TARGET": str(folder), "VANDAL_OUT": str(out)} if student.id == "vandal" else {}
        (folder / f"task1_{student.id}.py").write_bytes(student.content(**paths))
    # one student whose zip is a bomb next to a good loose file, one with ../ paths
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("task2_zipbomb.py", b"\0" * (300 * 1024 * 1024))
    (folder / "zipbomb_assignment2.zip").write_bytes(bomb.getvalue())
    (folder / "task1_zipbomb.py").write_text(TASK1)
    escape = io.BytesIO()
    with zipfile.ZipFile(escape, "w") as z:
        z.writestr("../../task1_escape.py", TASK1)
        z.writestr("task1_escape.py", TASK1)
    (folder / "escape_assignment2.zip").write_bytes(escape.getvalue())

    before = tree_digest(folder)
    started = time.monotonic()
    result = grade_folder(folder, out, PACK, Options(jobs=2, timeout=TIMEOUT, memory_mb=1024),
                          resume=False, progress=False)
    seconds = time.monotonic() - started
    return {"result": result, "folder": folder, "out": out, "before": before, "seconds": seconds,
            "by_id": {r.student_id: r for r in result.results}}


@pytest.mark.parametrize("student", HOSTILE, ids=[h.id for h in HOSTILE])
def test_only_the_attacked_names_lose_points(batch, student):
    result = batch["by_id"][student.id]
    for key in TASK1_NAMES:
        got = result.name(key)
        wanted = student.expect.get(key, PACK.graded(key).points)
        assert got.score == wanted, f"{key}: {got.score} != {wanted}: {got.reason}"
        if key in student.reason:
            assert student.reason[key].lower() in got.reason.lower(), got.reason


def test_the_batch_finishes_with_every_result_written(batch):
    out = batch["out"]
    assert batch["result"].internal_errors == []
    expected = {h.id for h in HOSTILE} | {"zipbomb", "escape"}
    assert {r.student_id for r in batch["result"].results} == expected
    for sid in expected:
        assert json.loads((out / sid / "results.json").read_text())["tests"]
        assert (out / sid / "feedback.md").read_text().strip()
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert len(rows) == 1 + len(expected)


def test_wall_time_is_bounded_by_the_timeouts(batch):
    # Every hang costs at most one timeout (plus a child restart); the busy students are
    # spread over two jobs. A generous bound that still fails if a hang were waited out.
    hangs = sum(1 for h in HOSTILE if any("timed out" in r for r in h.reason.values()))
    assert batch["seconds"] < 60 + hangs * (TIMEOUT + 10)


def test_no_process_outlives_the_grade(batch):
    # The warm forkserver (and multiprocessing's resource tracker) stay up for the next
    # batch, by design; no process forked for a student may remain.
    time.sleep(0.5)
    left = []
    for pid in descendants(os.getpid()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        helper = b"resource_tracker" in cmdline or b"forkserver" in cmdline
        forked_for_student = b"forkserver" in Path(f"/proc/{ppid(pid)}/cmdline").read_bytes()
        if state != "Z" and (forked_for_student or not helper):
            left.append((pid, cmdline[:200]))
    assert left == []


def test_submissions_are_never_written_and_results_not_planted(batch):
    assert tree_digest(batch["folder"]) == batch["before"]
    assert not (batch["out"] / "planted.py").exists()


def test_output_flood_is_truncated_in_the_feedback(batch):
    report = json.loads((batch["out"] / "flood" / "results.json").read_text())
    longest = max(len(t["output"]) for t in report["tests"])
    assert longest < 20_000
    feedback = (batch["out"] / "flood" / "feedback.md").read_text()
    assert len(feedback) < 50_000
    assert "more lines not shown" in feedback


def test_reading_the_solutions_is_refused_and_reported(batch):
    result = batch["by_id"]["readsolutions"]
    text = (batch["out"] / "readsolutions" / "feedback.md").read_text()
    assert "not allowed" in text or "opening" in text, text[:2000]
    # the solution text never reached the student module, so nothing was defined from it:
    # the file's own (reference) definitions are what earned the points
    assert result.score == 20


def test_zip_bomb_and_escaping_paths_are_problems_not_crashes(batch):
    zipbomb = batch["by_id"]["zipbomb"]
    assert zipbomb.name("task1.relu").score == 3          # the loose file is still graded
    assert any("zip" in p.lower() for p in zipbomb.problems)
    escape = batch["by_id"]["escape"]
    assert escape.name("task1.relu").score == 3
    assert any(".." in p for p in escape.problems)
    assert not (batch["folder"].parent / "task1_escape.py").exists()
