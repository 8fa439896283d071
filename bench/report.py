"""BENCHMARKS.md: the figures of one run, each next to its target."""
from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass, field

from .breakdown import TRAINING_NAMES, ReportWriting, Startup, mean_per_student
from .kernels import Comparison
from .selfcheck_latency import READING_SECONDS, Latency
from .throughput import Throughput

# Targets (issue 6, tightened by issue 15).
SECONDS_PER_STUDENT = 0.6      # grading with --jobs 2
NAIVE_RATIO = 5.0              # the grader at least this many times faster than the naive harness
SPEEDUP = 1.8                  # "near-linear" from 1 to 2 jobs: at least 90% of 2x
KERNEL_RATIO = 2.0             # reference Conv1D at most this many times slower than torch
SELFCHECK_SECONDS = 3.0        # check_all of one task, and the command-line check
SANDBOX_SETUP_MS = 20.0        # putting every sandbox layer up in one child (issue 12)
SANDBOX_OVERHEAD = 0.05        # grading with the sandbox at most 5 % slower than without
PACK_SECONDS = {"assignment4": 1.0}   # a full submission of the pack with --jobs 2 (issue 17)


@dataclass
class Run:
    """Everything one benchmark run measured (sections that did not run are None)."""

    command: str
    machine: dict[str, str]
    single_threaded: bool
    loads: list[tuple[float, float, float]] = field(default_factory=list)
    throughput: Throughput | None = None
    startup: Startup | None = None
    interface_s: float | None = None
    writing: ReportWriting | None = None
    kernels: list[Comparison] | None = None
    selfcheck: list[Latency] | None = None
    sandbox_setup: object | None = None          # bench.sandbox.SetupCost
    sandbox_throughput: object | None = None     # bench.sandbox.Throughput
    against: object | None = None                # bench.against.Against
    packs: list | None = None                    # bench.packs.PackRun, one per pack


def verdict(ok: bool) -> str:
    return "yes" if ok else "**no**"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def render(run: Run) -> str:
    out = io.StringIO()
    w = out.write
    w("# Benchmarks\n\n")
    w("Figures of the latest `make bench` run, written by `bench/run.py` (do not edit by hand). "
      "The machine is shared, so absolute seconds drift from run to run; every comparison below is a "
      "ratio of runs made side by side in the same benchmark run.\n\n")
    w(f"Reproduce: `{run.command}` (options: `make bench STUDENTS=40 NAIVE=10`; more in "
      "`.venv/bin/python bench/run.py --help`).\n\n")
    w(table(["", ""], [[k, f"`{v}`" if k in ("python", "numpy", "torch") else v] for k, v in run.machine.items()]))
    if run.loads:
        w("\nLoad average (1 min) while measuring: "
          + ", ".join(f"{load[0]:.1f}" for load in run.loads)
          + f" (on {run.machine.get('cores', '?').split()[0]} cores). Other work on the machine slows whichever mode is "
            "running at the time; the *free cores* column below says how much CPU each grader run had.\n")
    w("\n## Summary\n\n")
    w(table(["figure", "measured", "target", "met"], summary_rows(run)))
    if run.throughput is not None:
        w("\n" + throughput_section(run))
    if run.sandbox_setup is not None:
        w("\n" + sandbox_section(run))
    if run.packs:
        w("\n" + packs_section(run.packs))
    if run.kernels is not None:
        w("\n" + kernels_section(run))
    if run.selfcheck is not None:
        w("\n" + selfcheck_section(run.selfcheck, run.startup))
    return out.getvalue()


def summary_rows(run: Run) -> list[list[str]]:
    rows = []
    t = run.throughput
    if t is not None:
        top = max(t.grader)
        per = t.grader[top].per_student
        default_runs = [per] + (run.sandbox_throughput.per_student["best"]
                                if run.sandbox_throughput is not None and top == 2 else [])
        if len(default_runs) > 1:
            # The sandbox section graded the same class with the same command (the default
            # sandbox) again: on a shared machine the median of all those runs is the figure.
            typical = statistics.median(default_runs)
            rows.append([f"grading, `--jobs {top}`",
                         f"{typical:.2f} s per student (median of {len(default_runs)} runs: "
                         + ", ".join(f"{v:.2f}" for v in default_runs) + ")",
                         f"< {SECONDS_PER_STUDENT:g} s", verdict(typical < SECONDS_PER_STUDENT)])
        else:
            rows.append([f"grading, `--jobs {top}`", f"{per:.2f} s per student",
                         f"< {SECONDS_PER_STUDENT:g} s", verdict(per < SECONDS_PER_STUDENT)])
        floor_cpu, floor_wall = physical_floor(t)
        rows.append([f"physical floor, `--jobs {top}`: the checks' own computations on "
                     f"{min(top, t.grader[top].free_cores):.1f} cores",
                     f"{floor_wall:.2f} s per student ({floor_cpu:.2f} CPU s); the grader takes {per / floor_wall:.1f}x",
                     "(none)", ""])
        naive = t.naive.per_student / per
        rows.append([f"naive harness / grader `--jobs {top}`", f"{naive:.1f}x",
                     f">= {NAIVE_RATIO:g}x", verdict(naive >= NAIVE_RATIO)])
        if 1 in t.grader and top != 1:
            speedup = t.grader[1].per_student / per
            rows.append([f"speed-up `--jobs 1` -> `--jobs {top}`",
                         f"{speedup:.2f}x (ceiling {speedup_ceiling(t):.2f}x; {t.grader[top].free_cores:.1f} free cores)",
                         f">= {SPEEDUP:g}x (near-linear)", verdict(speedup >= SPEEDUP)])
        rows.append(["scores: naive harness and every grader run agree",
                     "yes" if not t.disagreements else f"{len(t.disagreements)} differences", "all agree",
                     verdict(not t.disagreements)])
    if run.sandbox_setup is not None:
        s = run.sandbox_setup
        median = s.median(s.enter_ms)
        rows.append(["sandbox set-up per child (every layer, median)", f"{median:.1f} ms",
                     f"< {SANDBOX_SETUP_MS:g} ms", verdict(median < SANDBOX_SETUP_MS)])
    if run.sandbox_throughput is not None:
        t2 = run.sandbox_throughput
        rows.append(["grading with the sandbox / without, `--jobs 2`", f"{100 * t2.overhead:+.1f} %",
                     f"within {100 * SANDBOX_OVERHEAD:g} %", verdict(t2.overhead <= SANDBOX_OVERHEAD)])
    if run.against is not None:
        a = run.against
        rows.append([f"grading against `{a.ref}` ({a.commit}), `--jobs 2`",
                     f"{100 * a.change:+.1f} % ({a.median('now'):.2f} s against {a.median('then'):.2f} s per student)",
                     "(none)", ""])
    for p in run.packs or []:
        target = PACK_SECONDS.get(p.pack)
        rows.append([f"grading {p.pack}, every file a reference solution, `--jobs 2`", f"{p.per_student:.2f} s per student",
                     f"< {target:g} s" if target else "(none)", verdict(p.per_student < target) if target else ""])
    if run.kernels:
        convs = [c for c in run.kernels if c.what.startswith("Conv1D")]
        for dtype in sorted({c.dtype for c in convs}, reverse=True):
            worst = max((c for c in convs if c.dtype == dtype), key=lambda c: c.ratio)
            floor = f" (NumPy's matrix products alone: {worst.floor_ratio:.2f}x)" if worst.floor_ratio else ""
            rows.append([f"Conv1D / torch, {dtype}, worst shape ({worst.what.split(':')[0][7:]})",
                         f"{worst.ratio:.2f}x{floor}", f"<= {KERNEL_RATIO:g}x", verdict(worst.ratio <= KERNEL_RATIO)])
        for c in run.kernels:
            if c.what.startswith("task1"):
                rows.append([f"task1 forward+backward / torch, {c.dtype}", f"{c.ratio:.2f}x", "(none)", ""])
    if run.selfcheck:
        first = max(run.selfcheck, key=lambda s: s.first_s)
        later = max(run.selfcheck, key=lambda s: s.second_s)
        rows.append([f"`check_all`, first call in a fresh kernel, slowest task ({first.task})",
                     f"{first.first_s:.1f} s", f"< {SELFCHECK_SECONDS:g} s", verdict(first.first_s < SELFCHECK_SECONDS)])
        warmed = max(run.selfcheck, key=lambda s: s.after_warm_up_s)
        rows.append([f"`check_all`, first call in a notebook (after its setup cell's `warm_up` and "
                     f"{READING_SECONDS:g} s of reading), slowest task ({warmed.task})",
                     f"{warmed.after_warm_up_s:.1f} s", f"< {SELFCHECK_SECONDS:g} s",
                     verdict(warmed.after_warm_up_s < SELFCHECK_SECONDS)])
        rows.append([f"`check_all`, later calls, slowest task ({later.task})",
                     f"{later.second_s:.1f} s", f"< {SELFCHECK_SECONDS:g} s", verdict(later.second_s < SELFCHECK_SECONDS)])
        cli = max(run.selfcheck, key=lambda s: s.cli_s)
        rows.append([f"`python -m grader check FILE`, whole command, slowest task ({cli.task})",
                     f"{cli.cli_s:.1f} s", f"< {SELFCHECK_SECONDS:g} s", verdict(cli.cli_s < SELFCHECK_SECONDS)])
    return rows


def throughput_section(run: Run) -> str:
    t = run.throughput
    assert t is not None
    out = io.StringIO()
    w = out.write
    kinds = Counter(m.kind for m in t.members)
    w("## 1. Grading throughput\n\n")
    w(f"A class of {len(t.members)} students ({kinds['correct']} correct, {kinds['wrong']} with one classic bug, "
      f"{kinds['alternative']} with a correct alternative in another style; the bugs and alternatives are the "
      "fixtures of `tests/fixtures/students.py`, one file replaced per student). The grader runs as "
      "`python -m grader grade FOLDER --out OUT --jobs N --no-resume --quiet`; the naive harness starts one "
      "fresh interpreter per student file (`bench/naive_one.py`), one after another, and runs the same checks "
      f"in it, on {len(t.naive_members)} students spread evenly over the class (its cost per student does not "
      "depend on the class size). Wall time is the whole command, start-up included; CPU time adds up the "
      "process and every process it started.\n\n")
    rows = []
    top = max(t.grader)
    for jobs in sorted(t.grader, reverse=True):
        g = t.grader[jobs]
        rows.append([f"grader `--jobs {jobs}`", str(g.students), f"{g.wall:.1f}", f"**{g.per_student:.2f}**",
                     f"{g.cpu / g.students:.2f}",
                     f"{g.parent_cpu / g.students:.2f} / {(g.cpu - g.parent_cpu) / g.students:.2f}",
                     f"{g.free_cores:.2f}", f"{g.per_student / t.grader[top].per_student:.2f}"])
    n = t.naive
    rows.append(["naive harness", str(n.students), f"{n.wall:.1f}", f"**{n.per_student:.2f}**",
                 f"{n.cpu / n.students:.2f}", "", "", f"{n.per_student / t.grader[top].per_student:.2f}"])
    w(table(["mode", "students", "wall s", "s per student", "CPU s per student",
             "of which grader process / forkserver + children", "free cores", f"/ `--jobs {top}`"], rows))
    w("\n*Free cores*: how many cores two CPU-bound processes got together, measured just before and after each "
      "grader run (2.00 on an idle two-core machine). A speed-up from 1 to 2 jobs cannot exceed it.\n")
    if 1 in t.grader and top != 1:
        one, many = t.grader[1], t.grader[top]
        speedup = one.per_student / many.per_student
        ceiling = speedup_ceiling(t)
        w(f"\nSpeed-up from 1 to {top} jobs: {speedup:.2f}x with {many.free_cores:.2f} free cores. `--jobs 1` is not "
          f"a one-core baseline: the grader's own process judges while the child runs, so it already kept "
          f"{one.cpu / one.wall:.2f} cores busy; with the CPU time the `--jobs {top}` run needed, "
          f"{min(top, many.free_cores):.2f} cores could at best have made it {ceiling:.2f}x faster, and it reached "
          f"{speedup / ceiling:.0%} of that. "
          f"CPU per student: {one.cpu / one.students:.2f} s with 1 job, {many.cpu / many.students:.2f} s with {top}, "
          f"so on {top} free cores the wall time per student could not go below "
          f"{many.cpu / many.students / top:.2f} s. ")
        w("Inside `grade_folder` (without the grader's own interpreter start-up and imports): "
          + ", ".join(f"`--jobs {j}` {g.inside:.1f} s" for j, g in sorted(t.grader.items())) + ".\n")
    if t.disagreements:
        w("\nScores that differ between runs (should not happen):\n\n")
        w("".join(f"- {d}\n" for d in t.disagreements[:20]))
    else:
        names = sum(len(v) for v in n.scores.values())
        w(f"\nThe naive harness gave the same score as the grader on all {names} graded names it ran, and "
          "every grader run gave the same scores.\n")
    w("\n" + where_time_goes(run) + "\n" + per_name_table(t))
    return out.getvalue()


def physical_floor(t: Throughput) -> tuple[float, float]:
    """(CPU seconds, wall seconds) per student that the checks' own computations need.

    The CPU is the student's code under the checks (child seconds of the widest grader
    run), the judging of its answers, and the references, which one run needs once for
    the whole class (the naive harness's per-student figures, references spread over the
    class). The wall figure spreads that CPU over the cores the widest run had: no grader
    running these checks could go below it on this machine.
    """
    top = max(t.grader)
    g = t.grader[top]
    student_code = sum(mean_per_student(v) for v in g.child_seconds.values())
    judging = sum(mean_per_student(v["judge_s"]) for v in t.naive.names.values())
    references = sum(mean_per_student(v["reference_s"]) for v in t.naive.names.values()) / len(t.members)
    cpu = student_code + judging + references
    return cpu, cpu / max(1.0, min(top, g.free_cores))


def speedup_ceiling(t: Throughput) -> float:
    """The largest speed-up the CPU time allows: the --jobs N run cannot take less wall time than
    its CPU seconds spread over min(N, free cores) cores."""
    top = max(t.grader)
    many, one = t.grader[top], t.grader[1]
    return one.wall / (many.cpu / max(1.0, min(top, many.free_cores)))


def where_time_goes(run: Run) -> str:
    t = run.throughput
    assert t is not None
    top = max(t.grader)
    g = t.grader[top]
    students = len(t.members)
    child = {key: mean_per_student(v) for key, v in g.child_seconds.items()}
    naive = t.naive
    per_naive_student = {what: sum(mean_per_student(v[what]) for v in naive.names.values())
                         for what in ("probe_s", "reference_s", "judge_s")}
    training = sum(child.get(k, 0.0) for k in TRAINING_NAMES)
    training_judge = sum(mean_per_student(naive.names[k]["judge_s"]) for k in TRAINING_NAMES if k in naive.names)
    files = max(1, round(naive.files / max(1, naive.students)))
    rows = []
    s = run.startup
    if s is not None:
        rows.append(["interpreter start-up (`python -c pass`)", f"{s.python_s:.2f}", "per process"])
        rows.append(["interpreter + torch import (`python -c \"import torch\"`)", f"{s.torch_s:.2f}",
                     f"per process: the naive harness pays it {files}x per student, the grader twice per run "
                     "(its own process and the forkserver)"])
        rows.append(["forkserver preload (`python -c \"import grader.sandbox.preload\"`)", f"{s.preload_s:.2f}",
                     f"once per run: {s.preload_s / students:.3f} s per student here"])
    if run.interface_s is not None:
        rows.append(["static interface checks (`inspect_file`, all files)", f"{run.interface_s / students:.4f}",
                     "per student"])
    rows.append([f"CPU of the grader's own process (`--jobs {top}`)", f"{g.parent_cpu / students:.2f}",
                 "per student: its start-up and imports, scheduling, references, judging, reports"])
    rows.append([f"CPU of the forkserver and the children (`--jobs {top}`)", f"{(g.cpu - g.parent_cpu) / students:.2f}",
                 "per student: preload, forks, student code under the checks, sending results"])
    rows.append(["student code under the checks (child seconds, all names)", f"{sum(child.values()):.2f}",
                 f"per student, mean over the class, `--jobs {top}` run"])
    rows.append(["... of which training checks (" + ", ".join(f"`{k}`" for k in TRAINING_NAMES) + ")",
                 f"{training:.2f}", "per student"])
    rows.append(["references (naive harness: every process computes them again)",
                 f"{per_naive_student['reference_s']:.2f}",
                 "per student in the naive harness; the grader computes them once per run"])
    rows.append(["judging in the parent (naive harness figure)", f"{per_naive_student['judge_s']:.2f}",
                 f"per student, of which training replays {training_judge:.2f}"])
    if run.writing is not None:
        html = " + report.html" if run.writing.html else ""
        rows.append(["report writing: feedback.md + results.json", f"{run.writing.per_student_s:.4f}", "per student"])
        rows.append([f"report writing: gradebook.csv + summary.md{html}", f"{run.writing.batch_s:.2f}",
                     f"once per run: {run.writing.batch_s / students:.3f} s per student here"])
    inside_naive = mean_per_student(naive.in_process) * files
    rows.append(["naive harness, inside its processes", f"{inside_naive:.2f}",
                 f"per student ({files} processes); the rest of its {naive.per_student:.2f} s is interpreter start-up"])
    floor_cpu, floor_wall = physical_floor(t)
    rows.append(["physical floor: student code + judging + references once per run", f"{floor_cpu:.2f}",
                 f"CPU per student; on {min(top, g.free_cores):.2f} free cores at best {floor_wall:.2f} s wall"])
    rows.append([f"grader `--jobs {top}`, wall", f"{g.per_student:.2f}",
                 f"per student, everything included: {g.per_student / floor_wall:.1f}x the physical floor"])
    out = "### Where the time goes\n\nSeconds; each row says what it is per.\n\n"
    return out + table(["what", "seconds", "per"], rows)


def per_name_table(t: Throughput) -> str:
    tasks = {task for member in t.members for task in member.files}
    top = t.grader[max(t.grader)]
    keys = [key for key in top.child_seconds if key.split(".")[0] in tasks]
    rows = []
    for key in keys:
        row = [f"`{key}`"]
        for jobs in sorted(t.grader, reverse=True):
            row.append(f"{mean_per_student(t.grader[jobs].child_seconds.get(key, [])):.3f}")
        figures = t.naive.names.get(key, {})
        row += [f"{mean_per_student(figures.get(what, [])):.3f}" for what in ("probe_s", "reference_s", "judge_s")]
        rows.append(row)
    header = ["graded name"] + [f"child s, `--jobs {j}`" for j in sorted(t.grader, reverse=True)]
    header += ["naive: student code s", "naive: references s", "naive: judging s"]
    return ("### Per graded name\n\nMean seconds per student. Child seconds are the `seconds` of each name in "
            "`results.json` (the student's code running under the checks, in the child). The naive columns are "
            "the same work done in one fresh process per file, plus the references and judging it repeats for "
            "every student.\n\n" + table(header, rows))


def kernels_section(run: Run) -> str:
    kernels = run.kernels or []
    rows = []
    for c in kernels:
        is_conv = c.what.startswith("Conv1D")
        met = verdict(c.ratio <= KERNEL_RATIO) if is_conv else ""
        floor = f"{c.floor_ratio:.2f}" if c.floor_ratio is not None else ""
        rows.append([c.what, c.dtype, f"{c.ours.best * 1e3:.2f}", f"{c.torch.best * 1e3:.2f}", f"**{c.ratio:.2f}**",
                     f"{c.median_ratio:.2f}", floor, met])
    repeats = len(kernels[0].ours.times) if kernels else 0
    threads = ("NumPy's BLAS and torch both on one thread" if run.single_threaded else
               "torch on one thread; NumPy's BLAS threads could not be pinned (NumPy was imported first)")
    return ("## 2. Kernels: reference solutions against PyTorch\n\n"
            f"Forward + backward of `solutions/layers.py` Conv1D against `torch.nn.Conv1d` (autograd), and of "
            "`solutions/task1.py` DNNforward + DNNbackward against the same network in PyTorch (forward, mean "
            f"cross-entropy, autograd backward); {threads}. Each pair is checked to agree, then timed {repeats} "
            "times, taking turns; the ratio is ours / torch on the best time of each (the median ratio is beside "
            "it). Milliseconds.\n\n"
            "*GEMM floor*: the three matrix products a Conv1D forward + backward comes down to (output, dW, dx, each "
            "a (out_channels, in_channels x kernel) by (in_channels x kernel, batch x out_width) product or its "
            "transpose), on ready-made contiguous operands with NumPy's BLAS, timed in the same rounds, divided by "
            "torch's time. No NumPy Conv1D can go below it: where it is near or above 2, the target is out of reach "
            "for NumPy on this machine (torch's float32 convolutions use oneDNN kernels, not a BLAS product).\n\n"
            + table(["what", "dtype", "ours ms", "torch ms", "ratio", "median ratio", "GEMM floor / torch",
                     f"<= {KERNEL_RATIO:g}x"], rows))


def selfcheck_section(latencies: list[Latency], startup: Startup | None = None) -> str:
    rows = [[f"`{s.task}`", f"{s.import_s:.2f}", f"**{s.first_s:.2f}**", f"{s.warm_up_s:.2f}",
             f"**{s.after_warm_up_s:.2f}**",
             f"**{s.second_s:.2f}**", f"**{s.cli_s:.2f}**", f"{s.score:g}/{s.max_score:g}",
             verdict(max(s.first_s, s.second_s, s.cli_s) < SELFCHECK_SECONDS)]
            for s in latencies]
    return ("## 3. Self-check latency\n\n"
            "`grader.selfcheck.check_all(task, path=solutions/<task>.py)` in a fresh interpreter per task, as in a new "
            "notebook kernel: the import, the first call (which starts the forkserver and imports torch), and a "
            "second call in the same kernel; in another fresh interpreter, the order of the notebooks: their setup "
            "cell (the import and `warm_up(file)`, which loads the checks and imports torch in the kernel while "
            f"the checking process starts), {READING_SECONDS:g} s of reading, then the first call; and the whole command "
            "`python -m grader check solutions/<task>.py` (interpreter start-up, imports, the check and exit). "
            "Seconds. The last column judges the cold figures (first call, later call, CLI).\n\n"
            + table(["task", "import s", "first call s", "notebook: setup cell s", "notebook: first call s",
                     "second call s",
                     "CLI `check` s", "score", f"< {SELFCHECK_SECONDS:g} s"], rows)
            + ("" if startup is None else
               f"\nFor scale, in this run: `python -c \"import torch\"` alone took {startup.torch_s:.2f} s. A first check "
               "cannot take less (the checks and the student's code need torch). torch's compiler (`torch._dynamo`, "
               "which the first optimizer would import for another second or so) stays unloaded in the warm server "
               "(`grader/sandbox/dynamo_deferral.py`).\n"))


def packs_section(runs: list) -> str:
    rows = [[p.pack, str(p.students), str(p.files_per_student), f"{p.wall:.1f}", f"{p.inside:.1f}",
             f"**{p.per_student:.2f}**", f"{p.full_marks}/{p.students}"] for p in runs]
    return ("## The other packs\n\n"
            "Each student hands in the reference solution of every file of the pack (assignment3's contest file: "
            "the demo's labels, graded with `--labels`), so every check runs to its end: the slowest a class of "
            "that pack can be. `python -m grader grade FOLDER --assignment PACK --jobs 2 --no-resume --quiet`, "
            "timed whole.\n\n"
            + table(["pack", "students", "files each", "wall s", "inside grade_folder s", "s per student",
                     "full marks"], rows))


def sandbox_section(run: Run) -> str:
    s = run.sandbox_setup
    out = ["## The kernel sandbox\n",
           f"Set-up: {s.children} children forked one after another from a process that imported what the "
           "forkserver imports; each put up every layer (closing inherited descriptors, namespaces, Landlock, "
           "Landlock scoping, seccomp, limits) and timed it from the inside. The parent also timed the whole "
           "fork + layers + report + exit, beside the same number of children that skipped the kernel layers "
           "(interleaved); then both again once the parent had moved its memory onto huge pages, as the "
           "batch forkserver does.\n"]
    if s.missing:
        out.append(f"Layers missing on this machine during the run: {', '.join(s.missing)}.\n")
    out.append(table(["", "median", "90th percentile", "max"], [
        ["putting every layer up (inside the child)", f"{s.median(s.enter_ms):.1f} ms", f"{s.p90(s.enter_ms):.1f} ms",
         f"{max(s.enter_ms):.1f} ms"],
        ["fork + layers + exit (from the parent)", f"{s.median(s.round_trip_ms):.1f} ms",
         f"{s.p90(s.round_trip_ms):.1f} ms", f"{max(s.round_trip_ms):.1f} ms"],
        ["fork + exit without the kernel layers", f"{s.median(s.baseline_round_trip_ms):.1f} ms",
         f"{s.p90(s.baseline_round_trip_ms):.1f} ms", f"{max(s.baseline_round_trip_ms):.1f} ms"]]
        + [[f"{what}, the parent's memory on huge pages (the batch server)", f"{s.median(values):.1f} ms",
            f"{s.p90(values):.1f} ms", f"{max(values):.1f} ms"]
           for what, values in (("fork + layers + exit", s.huge_round_trip_ms),
                                ("fork + exit without the kernel layers", s.huge_baseline_round_trip_ms))
           if values]))
    t = run.sandbox_throughput
    if t is not None:
        out.append(f"\nThroughput: the benchmark class ({t.students} students) graded with `--jobs 2`, "
                   f"{len(t.per_student['off'])} rounds of one run per setting, back to back (the order "
                   "alternating between rounds).\n")
        out.append(table(["setting", "seconds per student (each round)", "median"], [
            ["`--sandbox off` (no kernel layers)", ", ".join(f"{v:.2f}" for v in t.per_student["off"]),
             f"{t.median('off'):.2f}"],
            ["`--sandbox best` (every layer here)", ", ".join(f"{v:.2f}" for v in t.per_student["best"]),
             f"{t.median('best'):.2f}"],
            ["ratio best / off", ", ".join(f"{v:.3f}" for v in t.pair_ratios), f"{t.overhead + 1:.3f}"]]))
        out.append(f"\nWith the sandbox, grading is {100 * t.overhead:+.1f} % slower per student (the median of "
                   "the rounds' ratios; the start-up self-test included). From the set-up table, the kernel "
                   "layers add about "
                   + (f"{s.median(s.huge_round_trip_ms) - s.median(s.huge_baseline_round_trip_ms):.1f} ms"
                      if s.huge_round_trip_ms else "a few ms")
                   + " of CPU per child, one child per file.\n")
    a = run.against
    if a is not None:
        out.append(f"\nAgainst an earlier version: the same class graded by the grader at `{a.ref}` (commit "
                   f"{a.commit}, a git worktree, this checkout's environment) and by this checkout, "
                   f"{len(a.per_student['now'])} rounds, the order alternating.\n")
        out.append(table(["grader", "seconds per student (each round)", "median"], [
            [f"`{a.ref}` ({a.commit})", ", ".join(f"{v:.2f}" for v in a.per_student["then"]), f"{a.median('then'):.2f}"],
            ["this checkout", ", ".join(f"{v:.2f}" for v in a.per_student["now"]), f"{a.median('now'):.2f}"],
            ["ratio now / then", ", ".join(f"{v:.3f}" for v in a.pair_ratios), f"{a.change + 1:.3f}"]]))
    return "\n".join(out)
