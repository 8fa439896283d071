"""The third pack, "assignment4": CNN arithmetic, VGG-11, a character LSTM and a VAE.

What every pack gets (fixtures lose what they should, solutions full marks, templates and
visible references in sync) is in tests/test_packs.py; here what is particular to this pack:

* The declaration: its names, points and import rules.
* The reference values of the cnn checks come from PyTorch, and agree with the formulas.
* Templates and the shipped visible references are in sync with the solutions; the
  visible checks work without the solutions.
* The notebooks are what their builder writes, and run end to end against the solutions
  (full marks) and the templates (0, no error).
* The demo class is what its script builds and grades as documented with
  ``python -m grader grade``; the Gradescope bundle built for the pack grades it by default
  and carries its data; the shipped tweets are the recorded file and can be rebuilt.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from fixtures.notebooks import assert_committed_as_built, cell_text, load_builder, solutions_and_templates

from grader.authoring.templates import generate
from grader.grading import visible_references as kit
from grader.grading.runner import Options, Runner
from grader.intake.discovery import Student, SubmittedFile
from grader.outputs.batch import grade_folder
from grader.packs import load_pack

REPO = Path(__file__).resolve().parent.parent
PACK = load_pack("assignment4")
TASKS = [f.task for f in PACK.files]
KEYS = [n.key for n in PACK.names]
FULL = {"cnn": 15, "vgg": 15, "lstm": 15, "vae": 15}


def file_of(folder: str, task: str) -> bytes:
    name = PACK.file(task).solution if folder == "solutions" else PACK.file(task).template
    return (REPO / folder / name).read_bytes()


def student(sid: str, files: dict[str, bytes]) -> Student:
    return Student(sid, {task: SubmittedFile(task, f"{task}_{sid}.py", data) for task, data in files.items()})


def grade(students: list[Student], options: Options, pack=PACK) -> dict:
    results = {}
    errors = Runner(pack, options).grade(students, lambda r: results.__setitem__(r.student_id, r))
    assert errors == []
    return results


# --- the declaration -----------------------------------------------------------------------------

def test_declaration():
    assert PACK.points == 60
    assert {task: PACK.file(task).points for task in TASKS} == FULL
    assert KEYS == ["cnn.conv_output_size", "cnn.same_padding", "cnn.receptive_field", "cnn.conv_params",
                    "cnn.residual_block_params", "cnn.bn_stat_shape", "vgg.get_vgg11", "vgg.train_vgg",
                    "lstm.one_hot_ascii", "lstm.CharLSTM", "lstm.train_lstm", "vae.kl_divergence",
                    "vae.reparameterize", "vae.bernoulli_nll", "vae.VAE", "vae.elbo_loss"]
    cnn = PACK.file("cnn")
    assert cnn.import_allowed("math") and not cnn.import_allowed("numpy") and not cnn.import_allowed("torch")
    assert all(PACK.file(t).import_allowed("torch") and not PACK.file(t).import_allowed("torchvision")
               for t in ("vgg", "lstm", "vae"))


@pytest.mark.parametrize("layers, formula", [
    ([(3, 1)], 3), ([(3, 1), (3, 1)], 5), ([(3, 1), (5, 3), (2, 2), (3, 1)], 22), ([(2, 2)] * 5, 32),
    ([(11, 4), (3, 2), (5, 1)], 51), ([(7, 2), (3, 2), (3, 2)], 19),
])
def test_receptive_fields_from_autograd_agree_with_the_formula(layers, formula):
    from grader.packs.assignment4.references import receptive_field
    assert receptive_field(layers) == formula


def test_cnn_references_come_from_pytorch_and_match_the_handouts_numbers():
    from grader.packs.assignment4.references import (
        conv_params,
        count,
        output_size,
        residual_block,
        same_padding,
        stat_shape,
    )
    assert [output_size(256, 3), output_size(254, 5, 3), output_size(4, 5)] == [254, 84, None]
    assert [same_padding(k) for k in (1, 3, 5, 4)] == [0, 1, 2, None]
    assert conv_params(3, 100, 3) == 2800 and conv_params(100, 50, (5, 3), bias=False) == 75000
    # Seed 004: a basic block at 32 channels, a bottleneck block at 128.
    assert count(residual_block(32, False)) == 2 * (9 * 32 * 32 + 64) == 18_560
    assert count(residual_block(128, True)) == 128 * 32 + 64 + 9 * 32 * 32 + 64 + 32 * 128 + 256 == 17_792
    assert stat_shape((8, 5), "NC") == (5,) and stat_shape((2, 4, 6, 3), "NHWC") == (3,)
    assert stat_shape((2, 3, 4), "NCHW") is None and stat_shape((2, 3), "CN") is None


def test_vgg11_parameter_count_of_the_solution(load_solution):
    from grader.packs.assignment4.vgg import count_on_meta
    assert count_on_meta(load_solution("vgg"), {}) == 28_142_858
    assert count_on_meta(load_solution("vgg"), {"fc_width": 64}) == 9_256_970


# --- sources and their generated files are in sync ------------------------------------------------------

def test_templates_are_generated_from_the_solutions():
    assert generate(PACK, check_only=True) == [], "run `make templates ASSIGNMENT=assignment4`"
    for task in TASKS:
        text = file_of("templates", task).decode()
        compile(text, PACK.file(task).template, "exec")
        assert "BEGIN SOLUTION" not in text and "not implemented yet" in text


def test_visible_checks_run_without_the_solutions(tmp_path):
    without = dataclasses.replace(PACK, solutions_dir=str(tmp_path / "no-solutions"))
    assert not kit.solutions_available(without)
    results = grade([student("right", {t: file_of("solutions", t) for t in TASKS}),
                     student("blank", {t: file_of("templates", t) for t in TASKS})],
                    Options(jobs=2, visible_only=True), pack=without)
    assert results["right"].score == 60
    assert results["blank"].score == 0


# --- the demo class, the Gradescope bundle, the data ------------------------------------------------------

def test_demo_class_is_what_its_script_builds_and_grades_as_documented(tmp_path):
    spec = importlib.util.spec_from_file_location("build_demo", REPO / "data" / "build_demo.py")
    build_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_demo)
    shipped = {p.name: p.read_bytes() for p in (REPO / "data" / "demo_assignment4").iterdir()}
    assert shipped == build_demo.files_assignment4(), "run `make demo` to rebuild data/demo_assignment4"
    # What `make grade ASSIGNMENT=assignment4` runs, in this process (its warm server is already up).
    batch = grade_folder(REPO / "data" / "demo_assignment4", tmp_path, PACK, Options(jobs=2), resume=False,
                         progress=False)
    assert batch.internal_errors == []
    with open(tmp_path / "gradebook.csv", newline="") as fh:
        totals = {row["student_id"]: float(row["total"]) for row in csv.DictReader(fh)}
    # 2001 the solutions, 2002 one bug per file, 2003 the templates, 2004 broken files and no vae.
    assert totals == {"2001": 60, "2002": 51.5, "2003": 0, "2004": 9}
    feedback = (tmp_path / "2004" / "feedback.md").read_text()
    assert "disallowed import" in feedback and "sys.exit" in feedback and "no file for vae" in feedback


def test_gradescope_bundle_for_this_pack(tmp_path):
    from grader.gradescope.bundle import DEFAULT_FILE, build
    from grader.gradescope.run import bundled_assignment
    path = build(tmp_path / "autograder.zip", assignment="assignment4")
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert archive.read(DEFAULT_FILE).decode().strip() == "assignment4"
        archive.extract(DEFAULT_FILE, tmp_path / "source")
    assert {"data/tweets.tsv.gz", "data/digits.npz", "grader/packs/assignment4/visible_references.bin",
            *(f"solutions/{f.solution}" for f in PACK.files)} <= names
    assert bundled_assignment((tmp_path / "source" / DEFAULT_FILE).parent) == "assignment4"
    assert bundled_assignment(tmp_path) is None          # a bundle built without --assignment


def test_shipped_tweets_are_the_recorded_file_and_rebuild_from_the_sdist(tmp_path):
    from grader.data import TWEETS_FILE, TWEETS_SHA256, load_tweets
    assert hashlib.sha256(TWEETS_FILE.read_bytes()).hexdigest() == TWEETS_SHA256
    texts, labels = load_tweets("train")
    test_texts, test_labels = load_tweets("test")
    assert (len(texts), len(test_texts)) == (2746, 686) and set(labels) == set(test_labels) == {0, 1}
    assert texts[1] == "Yay. Another good phone interview." and labels[1] == 1
    download = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                               "vadersentiment==3.3.2", "--dest", str(tmp_path)], capture_output=True, text=True)
    if download.returncode != 0:
        pytest.skip("the vaderSentiment sdist cannot be fetched here (no package registry)")
    out = tmp_path / "tweets.tsv.gz"
    subprocess.run([sys.executable, str(REPO / "data" / "build_tweets.py"), "--sdist",
                    str(tmp_path / "vaderSentiment-3.3.2.tar.gz"), "--output", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == TWEETS_FILE.read_bytes()


# --- the notebooks ----------------------------------------------------------------------------------------------

TOTAL_LINE = "Total of visible checks:"
BUILD = load_builder("build_assignment4.py")


def test_committed_notebooks_are_what_the_builder_writes():
    assert sorted(BUILD.NOTEBOOKS) == sorted(f"{task}_run.ipynb" for task in TASKS)
    assert BUILD.TOTAL_LINE == TOTAL_LINE
    assert_committed_as_built(BUILD, "run `make notebooks`")


def test_every_graded_name_has_an_explanation_with_its_points_and_a_check_cell():
    for task in TASKS:
        cells = BUILD.NOTEBOOKS[f"{task}_run.ipynb"].cells
        sources = [c.source for c in cells]
        for graded_name in PACK.file(task).names:
            index = sources.index(f'check("{graded_name.key}", STUDENT_FILE, assignment="assignment4")')
            assert cells[index - 1].cell_type == "markdown"
            assert f"({graded_name.points:g} point" in cells[index - 1].source, graded_name.key
        assert any(f'check_all("{task}", STUDENT_FILE, assignment="assignment4")' in s for s in sources)


def notebook_plan(tmp: Path) -> dict:
    """Each notebook against the solution and against the template (fixtures/notebooks.py)."""
    return solutions_and_templates(PACK, TASKS, REPO)


@pytest.fixture(scope="module")
def notebook_runs(notebook_pool):
    """(executed notebook, seconds) of each run of ``notebook_plan`` (two kernels shared with the
    other modules)."""
    return notebook_pool.runs(sys.modules[__name__])


def _texts(nb: nbformat.NotebookNode) -> list[str]:
    return [cell_text(cell) for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("task", TASKS)
def test_notebook_gives_the_solution_full_marks(notebook_runs, task):
    nb, seconds = notebook_runs[task, "solutions"]
    texts = _texts(nb)
    assert not any("ERROR" in t or "Traceback" in t for t in texts), texts
    assert f"{TOTAL_LINE} {FULL[task]}/{FULL[task]} points" in texts[-1]
    assert not any("first, then run this cell again" in t for t in texts)
    assert seconds < 90, f"{task}_run.ipynb took {seconds:.0f} s (a few seconds alone; 90 allows a loaded machine)"


@pytest.mark.parametrize("task", TASKS)
def test_notebook_gives_the_template_zero_without_errors(notebook_runs, task):
    nb, _ = notebook_runs[task, "templates"]
    texts = _texts(nb)
    assert not any("ERROR" in t or "Traceback" in t for t in texts), texts
    assert f"{TOTAL_LINE} 0/{FULL[task]} points" in texts[-1]
    checks = [t for t in texts if t.startswith("Self-check of") or "<table" in t]
    assert checks and all("not implemented yet" in t for t in checks)
    assert any("first, then run this cell again" in t for t in texts)      # experiments say what is missing


def test_notebooks_show_the_plots_the_handouts_ask_for(notebook_runs):
    """VGG's four curves, the LSTM's accuracy curve, VAE reconstructions and a latent scatter."""
    def images(task: str) -> int:
        nb, _ = notebook_runs[task, "solutions"]
        return sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.outputs)
    assert images("vgg") >= 1 and images("lstm") >= 1 and images("vae") >= 2
    vgg_text = "\n".join(_texts(notebook_runs["vgg", "solutions"][0]))
    for curve in ("train_loss", "train_acc", "test_loss", "test_acc"):
        assert curve in vgg_text


def test_dropout_masks_come_from_torch_rand_and_torch_is_restored_afterwards():
    """The VGG dropout part is judged with portable masks (torch's bernoulli stream changed
    between the versions the kit accepts); outside the block torch's dropout is untouched."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from grader.probing.nets import portable_dropout

    x = torch.ones(3, 40)
    torch.manual_seed(5)
    expected = (torch.rand(3, 40) >= 0.25).float() / 0.75
    for call in (lambda: nn.Dropout(0.25).train()(x.clone()), lambda: F.dropout(x.clone(), 0.25),
                 lambda: nn.Dropout(0.25, inplace=True).train()(x.clone()), lambda: torch.dropout(x.clone(), 0.25, True)):
        with portable_dropout():
            torch.manual_seed(5)
            assert torch.equal(call(), expected)
    with portable_dropout():
        assert torch.equal(F.dropout(x, 0.25, training=False), x)
    torch.manual_seed(5)
    native = F.dropout(x, 0.25)
    torch.manual_seed(5)
    assert torch.equal(native, F.dropout(x, 0.25)) and not torch.equal(native, expected)
