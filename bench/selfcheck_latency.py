"""How long a student waits for ``check_all(task)`` (grader.selfcheck).

Each task runs in a fresh interpreter, as in a new notebook kernel: the import of
``grader.selfcheck``, a first ``check_all`` (which starts the warm forkserver), and a
second one (what every later check in the same kernel costs). Then, in another fresh
interpreter, the notebooks' own order: the setup cell's ``warm_up``, a pause for reading
(:data:`READING_SECONDS`), the first ``check_all``. The command-line ``python -m grader
check FILE`` is timed too, whole, interpreter start-up included.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from . import timing
from .classgen import TASKS
from .env import PYTHON, REPO, child_env

SCRIPT = """
import json, sys, time
started = time.perf_counter()
from grader.selfcheck import check_all
imported = time.perf_counter()
first = check_all(sys.argv[1], path=sys.argv[2])
after_first = time.perf_counter()
second = check_all(sys.argv[1], path=sys.argv[2])
after_second = time.perf_counter()
print("SELFCHECK " + json.dumps({"import_s": imported - started, "first_s": after_first - imported,
      "second_s": after_second - after_first, "score": first.score, "max_score": first.max_score,
      "same": first.score == second.score}))
"""


# A notebook's setup cell calls warm_up; the first check comes after the student has read
# (and run) the cells in between. This pause stands for that reading.
READING_SECONDS = 5.0

NOTEBOOK_SCRIPT = """
import json, sys, time
started = time.perf_counter()
from grader.selfcheck import check_all, warm_up
warm_up()
set_up = time.perf_counter() - started
time.sleep(float(sys.argv[3]))
started = time.perf_counter()
first = check_all(sys.argv[1], path=sys.argv[2])
print("SELFCHECK " + json.dumps({"first_s": time.perf_counter() - started, "setup_s": set_up,
                                 "score": first.score}))
"""


@dataclass
class Latency:
    task: str
    import_s: float
    first_s: float          # first check_all in a fresh kernel (starts the forkserver)
    second_s: float         # the next one in the same kernel
    process_s: float        # the whole interpreter, start to exit
    cli_s: float            # `python -m grader check solutions/<task>.py`, start to exit
    score: float
    max_score: float
    after_warm_up_s: float = float("nan")   # first check_all READING_SECONDS after the setup cell's warm_up
    warm_up_s: float = float("nan")         # the import and warm_up of that setup cell


def measure(tasks: tuple[str, ...] = TASKS, log=print) -> list[Latency]:
    results = []
    for task in tasks:
        log(f"check_all({task!r}) ...")
        path = REPO / "solutions" / f"{task}.py"
        done = timing.run([PYTHON, "-c", SCRIPT, task, str(path)], env=child_env(), cwd=REPO)
        data = _reported(done, f"check_all({task!r})")
        if not data["same"]:
            raise RuntimeError(f"check_all({task!r}) gave different scores on two calls")
        cli = timing.run([PYTHON, "-m", "grader", "check", str(path)], env=child_env(), cwd=REPO)
        if cli.returncode != 0:
            raise RuntimeError(f"grader check {path.name} failed:\n{cli.stdout[-2000:]}\n{cli.stderr[-3000:]}")
        notebook = timing.run([PYTHON, "-c", NOTEBOOK_SCRIPT, task, str(path), str(READING_SECONDS)],
                              env=child_env(), cwd=REPO)
        warmed = _reported(notebook, f"check_all({task!r}) after warm_up")
        if warmed["score"] != data["score"]:
            raise RuntimeError(f"check_all({task!r}) after warm_up gave another score")
        results.append(Latency(task, data["import_s"], data["first_s"], data["second_s"], done.wall,
                               cli.wall, data["score"], data["max_score"], warmed["first_s"], warmed["setup_s"]))
    return results


def _reported(done, what: str) -> dict:
    """The figures a script printed on its ``SELFCHECK`` line; raises if it failed."""
    lines = [line for line in done.stdout.splitlines() if line.startswith("SELFCHECK ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{what} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].split(" ", 1)[1])
