"""The kernel sandbox: native-code attacks fail, every layer is tested on its own, and the
grader degrades (and says so) where a layer is missing.

The hostile class (``fixtures/native_attacks.py``) is graded the way a TA grades, with
``python -m grader grade`` in a subprocess started as its own process-group leader, so an
attack that kills the grader kills only that subprocess and shows up as a failed run.
Where this machine lacks a layer, that layer's tests skip with the reason.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fixtures.cli import run_grader_series
from fixtures.native_attacks import Bait, attackers, build_class

from grader.grading.runner import Options
from grader.packs import load_pack
from grader.sandbox import LayerReport, Sandbox, SandboxError
from grader.sandbox.probe import REFUSED, judge_probe

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


# --- which layers this machine has (one probe for the whole module) ------------------------

@pytest.fixture(scope="module")
def machine_layers(tmp_path_factory) -> LayerReport:
    sandbox = Sandbox([tmp_path_factory.mktemp("protected")])
    try:
        return sandbox.self_test()
    finally:
        sandbox.close()


def need(layers: LayerReport, *names: str) -> None:
    missing = [f"{n}: {layers.missing[n]}" for n in names if n in layers.missing]
    if missing:
        pytest.skip("this machine lacks " + "; ".join(missing))


# --- the hostile class, graded as a TA would ------------------------------------------------

class _Server:
    """A TCP server on localhost that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, machine_layers):
    root = tmp_path_factory.mktemp("native")
    folder = root / "submissions"
    out = root / f"results-{secrets.token_hex(6)}"      # unique: must never show up in a student's output
    outside = root / "elsewhere"
    outside.mkdir()
    bait = Bait(classmate_file=folder / "task1_honest.py", classmate_marker=f"HONEST-{secrets.token_hex(8)}",
                secret_file=outside / "secret.txt", secret=f"SECRET-{secrets.token_hex(8)}",
                shell_marker=outside / "shell-was-here", port=0)
    bait.secret_file.write_text(bait.secret)
    server = _Server()
    bait.port = server.port
    build_class(folder, bait)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    env = {**os.environ, "GRADER_TEST_ENV_SECRET": bait.secret}
    try:
        run = subprocess.run([PYTHON, "-m", "grader", "grade", str(folder), "--out", str(out), "--jobs", "2",
                              "--timeout", "20", "--quiet"], cwd=REPO, env=env, capture_output=True, text=True,
                             timeout=600, start_new_session=True)
    finally:
        server.close()
    return {"run": run, "folder": folder, "out": out, "bait": bait, "before": before,
            "connections": server.connections, "layers": machine_layers}


def _all_output_text(out: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(out.rglob("*")) if p.is_file()
                     and p.suffix in (".md", ".json", ".csv", ".html"))


def test_the_grader_survives_and_writes_every_result(hostile):
    run = hostile["run"]
    assert run.returncode == 0, f"grader exited with {run.returncode}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"
    students = set(attackers(hostile["bait"])) | {"honest"}
    for sid in students:
        data = json.loads((hostile["out"] / sid / "results.json").read_text())
        assert data["tests"], sid
    assert len((hostile["out"] / "gradebook.csv").read_text().splitlines()) == 1 + len(students)


def test_the_first_line_of_the_run_names_the_sandbox_layers(hostile):
    first = hostile["run"].stdout.splitlines()[0]
    assert first.startswith("sandbox: "), first
    assert first == hostile["layers"].line()


def test_an_honest_classmate_keeps_full_marks_and_an_unchanged_file(hostile):
    need(hostile["layers"], "files")
    folder = hostile["folder"]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == hostile["before"]
    honest = json.loads((hostile["out"] / "honest" / "results.json").read_text())["extra_data"]["result"]
    scores = {n["key"]: n["score"] for n in honest["names"]}
    assert sum(v for k, v in scores.items() if k.startswith(("task1.", "task2."))) == 30


def test_no_secret_and_no_classmate_code_reaches_any_result(hostile):
    need(hostile["layers"], "files")
    text = _all_output_text(hostile["out"])
    assert hostile["bait"].secret not in text
    assert hostile["bait"].classmate_marker not in text


def test_the_grader_command_line_and_environment_stay_hidden(hostile):
    need(hostile["layers"], "files")
    snoop = (hostile["out"] / "snoop" / "feedback.md").read_text()
    assert hostile["out"].name not in snoop
    assert "refused" in snoop


def test_no_shell_starts(hostile):
    need(hostile["layers"], "syscalls")
    assert not hostile["bait"].shell_marker.exists()


def test_no_connection_reaches_a_server_on_the_grading_machine(hostile):
    need(hostile["layers"], "network")
    assert hostile["connections"] == 0


def test_attackers_are_still_graded_on_their_code(hostile):
    # Every attacker's file is otherwise the reference: the refused attack costs nothing
    # else, and the attacker's own output shows the refusal.
    for sid, (task, _) in attackers(hostile["bait"]).items():
        result = json.loads((hostile["out"] / sid / "results.json").read_text())["extra_data"]["result"]
        scores = {n["key"]: n["score"] for n in result["names"] if n["key"].startswith(task + ".")}
        assert sum(scores.values()) == (20 if task == "task1" else 10), (sid, scores)


# --- each layer on its own: the start-up probe's verdicts -----------------------------------

@pytest.mark.parametrize("layer", ["files", "network", "disk", "signals", "syscalls"])
def test_probe_finds_each_layer_refusing_its_attacks(machine_layers, tmp_path, layer):
    need(machine_layers, layer)
    sandbox = Sandbox([tmp_path])
    try:
        from grader.sandbox.probe import ProbeSpec, _run_probe  # the raw verdicts, not just the summary
        outside = tmp_path / "bait"
        outside.mkdir()
        (outside / "secret.txt").write_text("s")
        (outside / "victim.txt").write_text("intact")
        scratch = sandbox.scratch_root / "probe-test"
        scratch.mkdir()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        spec = ProbeSpec(str(scratch), str(outside), str(outside / "secret.txt"), str(outside / "victim.txt"),
                         listener.getsockname()[1], os.getpid(), [str(outside)])
        message = _run_probe(sandbox._start_process, spec)
        listener.close()
    finally:
        sandbox.close()
    assert message[0] == "probe", message
    verdicts = message[2][layer]
    assert verdicts and all(v.startswith(REFUSED) for v in verdicts.values()), verdicts
    assert message[3] is None, f"ordinary work failed inside the sandbox: {message[3]}"


def _probe_message(on: dict, missing: dict, verdicts: dict, ordinary=None) -> tuple:
    return ("probe", {"on": on, "missing": missing, "platform": "linux"}, verdicts, ordinary)


def test_a_layer_that_claims_to_be_on_but_lets_the_probe_through_stops_the_run():
    message = _probe_message({"files": "Landlock ABI 7"}, {},
                             {"files": {"read a file outside its scratch folder": "allowed"}})
    with pytest.raises(SandboxError, match="filesystem layer reports on .* could read a file outside"):
        judge_probe(message, connected=False, overwritten=False, mode="best")
    # and the honest version of the same report passes
    honest = _probe_message({"files": "Landlock ABI 7"}, {},
                            {"files": {"read a file outside its scratch folder": "refused (EACCES)"}})
    assert judge_probe(honest, connected=False, overwritten=False, mode="best").on == {"files": "Landlock ABI 7"}


def test_a_disk_layer_whose_files_reach_the_grader_stops_the_run():
    message = _probe_message({"disk": "private tmpfs"}, {}, {"disk": {}})
    with pytest.raises(SandboxError, match="disk layer reports on but a file the probe wrote reached"):
        judge_probe(message, connected=False, overwritten=False, mode="best", visible=True)
    assert judge_probe(message, connected=False, overwritten=False, mode="best").on == {"disk": "private tmpfs"}


def test_a_connection_that_arrives_despite_the_network_layer_stops_the_run():
    message = _probe_message({"network": "user + network namespace"}, {}, {"network": {}})
    with pytest.raises(SandboxError, match="connection reached"):
        judge_probe(message, connected=True, overwritten=False, mode="best")


def test_require_mode_refuses_a_machine_with_a_missing_layer_and_best_mode_grades():
    message = _probe_message({"files": "Landlock ABI 7"}, {"syscalls": "libseccomp is not installed"}, {})
    with pytest.raises(SandboxError, match="--sandbox require: this machine lacks system calls"):
        judge_probe(message, connected=False, overwritten=False, mode="require")
    report = judge_probe(message, connected=False, overwritten=False, mode="best")
    assert "MISSING system calls (libseccomp is not installed)" in report.line()


def test_broken_ordinary_work_inside_the_sandbox_stops_the_run():
    message = _probe_message({}, {}, {}, ordinary="RuntimeError: no threads")
    with pytest.raises(SandboxError, match="could not run normally"):
        judge_probe(message, connected=False, overwritten=False, mode="best")


# --- the parent never trusts what it finds in a scratch folder -----------------------------

def test_release_does_not_follow_a_link_planted_in_scratch(tmp_path):
    sandbox = Sandbox([])
    try:
        secret = tmp_path / "secret.txt"
        secret.write_text("do not show me")
        for kind in ("symlink", "hardlink"):
            scratch = sandbox.scratch_root / kind
            scratch.mkdir()
            target = scratch / "native-output.txt"
            os.symlink(secret, target) if kind == "symlink" else os.link(secret, target)
            assert sandbox.release(str(scratch)) == "", kind
            assert not scratch.exists()
    finally:
        sandbox.close()


# --- degrading on machines without a layer --------------------------------------------------

# Makes this process (and the grader it runs) look like an older kernel or a locked-down
# container: Landlock's system calls do not exist and user namespaces are refused. The
# filter is installed before the grader starts, so every child inherits it.
OLDER_KERNEL = '''
import errno
import pyseccomp as s
rules = s.SyscallFilter(s.ALLOW)
for name in ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self"):
    rules.add_rule(s.ERRNO(errno.ENOSYS), name)
rules.add_rule(s.ERRNO(errno.EPERM), "unshare")
rules.load()
'''


@pytest.fixture(scope="module")
def older_kernel(tmp_path_factory, machine_layers):
    """One interpreter behind the filter above runs the three commands below in turn
    (fixtures/cli.py): ``grade`` in best mode, ``check``, and ``grade --sandbox require``."""
    need(machine_layers, "syscalls")     # the simulation itself needs seccomp
    root = tmp_path_factory.mktemp("older-kernel")
    folder = root / "class"
    folder.mkdir()
    (folder / "task1_7.py").write_text((REPO / "solutions" / "task1.py").read_text())
    best, check, require = run_grader_series(
        [["grade", str(folder), "--out", str(root / "best"), "--quiet"],
         ["check", "solutions/task1.py", "--name", "task1.relu"],
         ["grade", str(folder), "--out", str(root / "require"), "--quiet", "--sandbox", "require"]],
        cwd=REPO, prelude=OLDER_KERNEL)
    return {"best": (best, root / "best"), "check": check, "require": (require, root / "require")}


def test_best_mode_grades_with_the_layers_that_exist_and_says_which_are_missing(older_kernel):
    run, out = older_kernel["best"]
    assert run.returncode == 0, run.stderr[-2000:]
    first = run.stdout.splitlines()[0]
    assert first.startswith("sandbox: MISSING filesystem") and "network" in first and "system calls (" in first
    assert "MISSING filesystem" in (out / "summary.md").read_text()
    assert "MISSING filesystem" in (out / "report.html").read_text()
    data = json.loads((out / "7" / "results.json").read_text())
    assert "MISSING filesystem" in data["extra_data"]["sandbox"]
    assert data["extra_data"]["result"]["names"][0]["score"] == 3      # still graded: relu 3/3


def test_self_check_on_a_machine_with_missing_layers_says_so_under_its_title(older_kernel):
    run = older_kernel["check"]
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    notes = [line for line in lines if "sandbox:" in line]
    assert len(notes) == 1 and notes[0].startswith("Note: sandbox: MISSING filesystem"), lines[:5]
    assert lines.index(notes[0]) < next(i for i, line in enumerate(lines) if line.startswith("Self-check of"))
    assert any("task1.relu" in line and "3/3" in line for line in lines)


def test_require_mode_refuses_to_grade_without_every_layer(older_kernel):
    run, out = older_kernel["require"]
    assert run.returncode == 2
    assert "--sandbox require: this machine lacks filesystem" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (out / "7" / "results.json").exists()


# --- inside the child ----------------------------------------------------------------------

PEEK = '''
import os
def relu(x):
    print("FDS", sorted(int(f) for f in os.listdir("/proc/self/fd")))
    print("ENV", sorted(os.environ))
    raise NotImplementedError
'''


def test_children_inherit_no_descriptors_and_no_environment(tmp_path):
    from grader.grading.runner import Runner
    from grader.intake.discovery import Student, SubmittedFile
    from grader.selfcheck import runner_options

    pack = load_pack("assignment2")
    student = Student("peek", {"task1": SubmittedFile("task1", "task1_peek.py", PEEK.encode())})
    results = []
    os.environ["GRADER_TEST_ENV_SECRET"] = "leak-me"
    try:
        Runner(pack, runner_options(pack, ["task1.relu"])).grade([student], results.append)
    finally:
        del os.environ["GRADER_TEST_ENV_SECRET"]
    printed = results[0].name("task1.relu").output
    fds = eval(printed.split("FDS ")[1].splitlines()[0])   # noqa: S307 - our own list of ints
    # stdio, the result channel, the inbox (each name's turn), and the descriptor os.listdir holds open
    assert len(fds) <= 6, fds
    env = printed.split("ENV ")[1].splitlines()[0]
    assert "GRADER_TEST_ENV_SECRET" not in env and "'HOME'" in env


def test_spawn_start_method_still_self_checks(tmp_path):
    # Windows has no forkserver; the same code path is forced here with GRADER_START_METHOD.
    env = {**os.environ, "GRADER_START_METHOD": "spawn"}
    run = subprocess.run([PYTHON, "-m", "grader", "check", "templates/task1_template.py", "--name", "task1.relu"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr[-2000:]          # the template's relu fails its visible checks
    assert "task1.relu" in run.stdout and "0/3" in run.stdout


def test_options_default_to_the_best_effort_sandbox():
    assert Options().sandbox == "best" and Options().self_test


def test_threaded_numeric_libraries_in_the_caller_do_not_cost_the_network_layer(machine_layers, tmp_path):
    """A notebook imports grader.selfcheck with no thread settings (OpenBLAS then starts a pool
    in every forked child, and the kernel refuses a user namespace to a threaded process)."""
    need(machine_layers, "network")
    if subprocess.run(["unshare", "-Urn", "true"], capture_output=True).returncode != 0:
        pytest.skip("this machine gives no user namespace to an unprivileged process")
    script = ("import os, tempfile\nfrom grader.sandbox import Sandbox\n"
              "s = Sandbox([tempfile.mkdtemp()])\nr = s.self_test()\ns.close()\n"
              "print(r.on.get('network'), os.environ.get('OPENBLAS_NUM_THREADS'))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    env["OPENBLAS_NUM_THREADS"] = "4"
    done = subprocess.run([PYTHON, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    # the full layer (not the root-only fallback), and the caller's own setting left as it was
    assert done.stdout.split("\n")[0] == "user + network namespace 4"


def test_server_environment_is_set_for_the_server_only(monkeypatch):
    from grader.sandbox.parent import MALLOC_TUNABLES, server_environment

    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    with server_environment():
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["OMP_NUM_THREADS"] == "1"
        assert os.environ["GLIBC_TUNABLES"] == MALLOC_TUNABLES
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4" and "GLIBC_TUNABLES" not in os.environ
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")     # the caller's own: kept
    with server_environment():
        assert os.environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2"


# --- set-up done once in the warm server -----------------------------------------------------

def test_the_filter_compiled_once_is_libseccomps_own_program_for_each_pid():
    from grader.sandbox import syscalls
    if syscalls.available():
        pytest.skip(syscalls.available())
    compiled = syscalls.CompiledFilter.build()
    assert compiled is not None and compiled.pid_slots, "the program could not be patched"
    for pid in (2, 4321, 4_194_303):
        assert compiled.for_pid(pid) == syscalls._export(pid)[0]
    assert compiled.for_pid(4321) != compiled.for_pid(4322)


COMPILED_FILTER_CHILD = r'''
import errno, os, socket, sys
from grader.sandbox import syscalls
syscalls.prepare()
assert syscalls._compiled is not None
pid = os.fork()
if pid == 0:
    syscalls.restrict(os.getpid())
    verdicts = []
    for name, attempt in (("own pid", lambda: os.kill(os.getpid(), 0)),
                          ("grader", lambda: os.kill(os.getppid(), 0)),
                          ("socket", lambda: socket.socket()),
                          ("fork", lambda: os.fork())):
        try:
            attempt()
            verdicts.append(f"{name}:allowed")
        except OSError as exc:
            verdicts.append(f"{name}:{errno.errorcode[exc.errno]}")
    print(" ".join(verdicts), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
'''


def test_a_child_loading_the_compiled_filter_may_signal_itself_and_nothing_else():
    from grader.sandbox import syscalls
    if syscalls.available():
        pytest.skip(syscalls.available())
    done = subprocess.run([PYTHON, "-c", COMPILED_FILTER_CHILD], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "own pid:allowed grader:EPERM socket:EPERM fork:EPERM"


HUGE_PAGES_SCRIPT = r'''
junk = [bytearray(1 << 20) for _ in range(192)]        # 192 MB of private memory on 4 KiB pages
from grader.sandbox import hugepages
moved = hugepages.collapse()
huge = [int(l.split()[1]) for l in open("/proc/self/smaps_rollup") if l.startswith("AnonHugePages:")][0]
print(moved >> 20, huge >> 10)
'''


def _transparent_huge_pages() -> str:
    try:
        return Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return ""


def test_a_batch_server_moves_its_memory_onto_huge_pages_unless_told_not_to():
    if "[never]" in _transparent_huge_pages() or not _transparent_huge_pages():
        pytest.skip("this machine has transparent huge pages off")
    env = {k: v for k, v in os.environ.items() if k not in ("GRADER_HUGE_PAGES", "GLIBC_TUNABLES")}
    done = subprocess.run([PYTHON, "-c", HUGE_PAGES_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    moved_mb, huge_mb = map(int, done.stdout.split())
    if moved_mb == 0:
        pytest.skip("this kernel has no MADV_COLLAPSE (Linux 6.1+)")
    assert huge_mb >= 150, done.stdout
    env["GRADER_HUGE_PAGES"] = "0"
    done = subprocess.run([PYTHON, "-c", HUGE_PAGES_SCRIPT], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[0] == "0" and int(done.stdout.split()[1]) < 50, done.stdout


TEMPFILE_RELU = '''
import os, tempfile
import numpy as np

def relu(x):
    # a student who saves and reloads through a temporary file (a checkpoint, a cache)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "x.npy")
        np.save(path, np.maximum(x, 0))
        return np.load(path)
'''


def test_temporary_files_of_student_code_go_to_its_scratch_folder(tmp_path):
    """tempfile picked /tmp once in the server; in a child that folder is out of bounds, so
    the child's tempfile must use its own scratch folder (TMPDIR), where writing is allowed."""
    from grader import selfcheck

    path = tmp_path / "task1_3180101234.py"
    path.write_text(TEMPFILE_RELU, encoding="utf-8")
    result = selfcheck.check_file(path, name="task1.relu")
    assert (result.score, result.max_score) == (3, 3), result.text()
