"""The similarity report (grader/similarity): planted copies found, independent work and
templates left alone, past terms as references, the same discovery as ``grade``, and a
small self-contained HTML page that a browser renders.

The class is ``tests/fixtures/similarity_class.py``: independent implementations of task1
and layers in different styles, a disguised copy of one of them for each disguise, and
students who handed in the untouched template.
"""
from __future__ import annotations

import ast
import csv
import io
import itertools
import re
import shutil
import subprocess
import tokenize
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fixtures import similarity_class as sc

from grader.cli import main as cli_main
from grader.packs import load_pack
from grader.similarity.compare import PAST_PREFIX, compare_folder
from grader.similarity.pairs import MIN_OWN

PACK = load_pack("assignment2")
TASKS = ("task1", "layers")
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
HIT_RGB = (0xFF, 0xD6, 0x5C)          # grader.similarity.page: .hit background


@pytest.fixture(scope="module")
def klass() -> sc.ClassFolder:
    return sc.make_class(TASKS)


@pytest.fixture(scope="module")
def folder(klass, tmp_path_factory) -> Path:
    return klass.write(tmp_path_factory.mktemp("class"))


@pytest.fixture(scope="module")
def comparison(folder):
    return compare_folder(folder, PACK)


def groups(klass: sc.ClassFolder, task: str) -> dict[str, str]:
    """Student id -> the independent student whose code they hand in (copies share a group)."""
    return {m.id: (m.copy_of or m.id) for m in klass.members if m.task == task and m.kind != "template"}


def scores(comparison, task: str) -> dict[frozenset[str], float]:
    return {frozenset((p.a.label, p.b.label)): p.similarity for p in comparison.pairs if p.task == task}


# --- the fixtures are what they claim ------------------------------------------------------

def _module(source: str, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


def _same_task1(module, reference, rng) -> None:
    x, a = rng.normal(size=(4, 5)), rng.normal(size=5)
    for got, want in ((module.relu(x), reference.relu(x)), (module.prelu(x, a), reference.prelu(x, a)),
                      (module.prelu(x, 0.1), reference.prelu(x, 0.1))):
        np.testing.assert_allclose(got, want)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, 6)
    params = {"W1": rng.normal(size=(4, 5)), "b1": rng.normal(size=5), "W2": rng.normal(size=(5, 3)),
              "b2": rng.normal(size=3)}
    logits, cache = module.DNNforward(X, params)
    np.testing.assert_allclose(logits, reference.DNNforward(X, params)[0])
    loss, grads = module.DNNbackward(y, params, cache)
    want_loss, want_grads = reference.DNNbackward(y, params, reference.DNNforward(X, params)[1])
    assert loss == pytest.approx(want_loss)
    for key in want_grads:
        np.testing.assert_allclose(grads[key], want_grads[key])
    trained, losses = module.train(X, y, params, 0.1, 5)
    want_trained, want_losses = reference.train(X, y, params, 0.1, 5)
    np.testing.assert_allclose(losses, want_losses)
    for key in want_trained:
        np.testing.assert_allclose(trained[key], want_trained[key])


def _same_layers(module, reference, rng) -> None:
    for n, cin, cout, width, k, stride in [(2, 3, 4, 11, 3, 2), (3, 2, 2, 9, 4, 1), (1, 1, 3, 10, 2, 3)]:
        ours, ref = module.Conv1D(cin, cout, k, stride), reference.Conv1D(cin, cout, k, stride)
        ours.W, ours.b = ref.W.copy(), ref.b.copy()
        x = rng.normal(size=(n, cin, width))
        np.testing.assert_allclose(ours.forward(x), ref.forward(x))
        delta = rng.normal(size=ref.forward(x).shape)
        np.testing.assert_allclose(ours.backward(delta), ref.backward(delta))
        np.testing.assert_allclose(ours.dW, ref.dW)
        np.testing.assert_allclose(ours.db, ref.db)


def test_every_student_and_every_copy_is_a_correct_implementation(klass, load_solution):
    rng = np.random.default_rng(14)
    checked = 0
    for m in klass.members:
        if m.kind == "template":
            continue
        module = _module(m.source, f"sim_{m.task}_{m.id}")
        (_same_task1 if m.task == "task1" else _same_layers)(module, load_solution(m.task), rng)
        checked += 1
    assert checked == sum(len(sc.STYLES[t]) + len(sc.DISGUISES) for t in TASKS)


def test_the_independent_styles_really_differ(klass):
    """Two independent students share at most two (long) lines of their own code, out of dozens."""
    for task in TASKS:
        template = {"".join(line.split()) for line in sc.template_source(task).splitlines()}
        own = {}
        for m in klass.members:
            if m.task == task and m.kind == "independent":
                lines = {"".join(line.split()) for line in sc.strip(m.source).splitlines()}
                own[m.id] = {line for line in lines - template if len(line) > 25}
        for a, b in itertools.combinations(own, 2):
            assert len(own[a] & own[b]) <= 2, f"{task}: {a} and {b} share {own[a] & own[b]}"
            assert min(len(own[a]), len(own[b])) >= 5


def _defs(source: str) -> list[str]:
    return [n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)]


def _has_comment_or_docstring(source: str) -> bool:
    if any(t.type == tokenize.COMMENT for t in tokenize.generate_tokens(io.StringIO(source).readline)):
        return True
    return any(ast.get_docstring(n) for n in ast.walk(ast.parse(source))
               if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef)))


def test_each_disguise_changes_what_it_says(klass):
    originals = {(m.task, m.id): m.source for m in klass.members if m.kind == "independent"}
    for m in klass.members:
        if m.kind != "copy":
            continue
        original = originals[m.task, m.copy_of]
        if m.disguise == "verbatim":
            assert m.source == original
            continue
        assert m.source != original, m.id
        if m.disguise in ("renamed", "combined"):
            before = {n.id for n in ast.walk(ast.parse(original)) if isinstance(n, ast.Name)}
            after = {n.id for n in ast.walk(ast.parse(m.source)) if isinstance(n, ast.Name)}
            assert len(before - after) >= 5, f"{m.id}: only {before - after} renamed"
        if m.disguise in ("reordered", "combined"):
            assert _defs(m.source) != _defs(original) and sorted(_defs(m.source)) == sorted(_defs(original))
        if m.disguise in ("stripped", "combined"):
            assert not _has_comment_or_docstring(m.source)
        if m.disguise == "stripped":
            assert _has_comment_or_docstring(original)
        if m.disguise == "reformatted":
            assert [line.strip() for line in m.source.splitlines() if line.strip()] != \
                   [line.strip() for line in original.splitlines() if line.strip()]
            assert ast.dump(ast.parse(m.source)) == ast.dump(ast.parse(original))   # layout only


# --- the ranking ---------------------------------------------------------------------------

def test_every_planted_pair_ranks_above_every_independent_pair(klass, comparison):
    for task in TASKS:
        group = groups(klass, task)
        ids = sorted(m.id for m in klass.members if m.task == task)
        got = scores(comparison, task)
        planted, other = [], []
        for a, b in itertools.combinations(ids, 2):
            same = a in group and b in group and group[a] == group[b]
            (planted if same else other).append((got.get(frozenset((a, b)), 0.0), a, b))
        assert len(planted) >= len(sc.DISGUISES)
        lowest, highest = min(planted), max(other)
        assert lowest[0] > highest[0], f"{task}: planted {lowest} does not beat independent {highest}"
        assert lowest[0] >= 0.8 and highest[0] <= 0.4, (task, lowest, highest)


def test_each_disguise_is_caught(klass, comparison):
    for task in TASKS:
        got = scores(comparison, task)
        for m in klass.members:
            if m.task == task and m.kind == "copy":
                assert got.get(frozenset((m.id, m.copy_of)), 0.0) >= 0.8, (task, m.disguise)


def test_untouched_templates_are_not_flagged(klass, comparison):
    for task in TASKS:
        templates = set(klass.ids(task, "template"))
        assert len(templates) == 3
        flagged = [p for p in comparison.pairs if p.task == task and {p.a.label, p.b.label} & templates]
        assert flagged == []
        assert comparison.tasks[task].template_only == 3
        assert comparison.tasks[task].dropped.template > 50


def test_pairs_are_same_task_and_ranked(comparison, klass):
    seen = set()
    for p in comparison.pairs:
        assert p.a.task == p.b.task == p.task and p.a.label != p.b.label
        assert 0 < p.similarity <= 1 and 0 <= p.share_a <= 1 and 0 <= p.share_b <= 1
        key = (p.task, frozenset((p.a.label, p.b.label)))
        assert key not in seen
        seen.add(key)
    values = [p.similarity for p in comparison.pairs]
    assert values == sorted(values, reverse=True)


def test_all_pairs_at_once_equals_pair_by_pair(folder):
    """score_task's vectorised coverage gives exactly what scoring each pair alone gives."""
    from grader.intake.discovery import discover
    from grader.similarity import compare as cmp
    from grader.similarity.boilerplate import drop_boilerplate, template_code
    from grader.similarity.pairs import score, score_task

    prints = cmp._prints(discover(folder, PACK), PACK, past=False)
    for task in TASKS:
        of_task = [fp for fp in prints if fp.task == task]
        drop_boilerplate(of_task, template_code(PACK, task))
        pairs = score_task(of_task)
        assert len(pairs) > 10
        for p in pairs:
            alone = score(p.a, p.b)
            assert (alone.similarity, alone.share_a, alone.share_b) == pytest.approx(
                (p.similarity, p.share_a, p.share_b), abs=1e-12)


def test_common_code_counts_for_nobody(tmp_path):
    """A passage most of the class shares (say, from a lecture) does not make a pair: two students
    who share only it score low, and high once the cut is switched off."""
    shared = '''
        def _softmax_rows(z):
            """Row-wise softmax, numerically stable."""
            shifted = z - z.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            return e / e.sum(axis=1, keepdims=True)


        def _one_hot(labels, classes):
            """Rows of the identity matrix, one per label."""
            out = np.zeros((len(labels), classes))
            out[np.arange(len(labels)), labels] = 1.0
            return out
    '''
    for i in range(20):
        own = f"\n\nSTUDENT_{i} = {i * 7919 % 1000}\nSEED_{i} = [{i}, {i * 3}, {i * 5}]\n"
        (tmp_path / f"task1_c{i}.py").write_text(sc.fill_template("task1", {}, extra=shared + own), encoding="utf-8")
    default = compare_folder(tmp_path, PACK)
    no_cut = scores(compare_folder(tmp_path, PACK, max_share=1.0, min_count=10 ** 6), "task1")
    assert len(no_cut) == 20 * 19 // 2 and min(no_cut.values()) > 0.5
    assert max((p.similarity for p in default.pairs), default=0.0) < 0.2
    assert default.tasks["task1"].dropped.common > 5


def test_little_own_code_is_weak_evidence(tmp_path):
    """Two students whose only own code is the same three short lines do not score 1.0."""
    body = """
        positive = x > 0
        scaled = x * a
        return np.where(positive, x, scaled)
    """
    for sid in ("a", "b"):
        (tmp_path / f"task1_{sid}.py").write_text(sc.fill_template("task1", {"prelu": body}), encoding="utf-8")
    pairs = compare_folder(tmp_path, PACK).pairs
    assert len(pairs) == 1
    pair = pairs[0]
    assert 0 < pair.a.own < MIN_OWN
    assert pair.share_a == pair.share_b == 1.0                       # all of it shared ...
    assert pair.similarity == pytest.approx(pair.a.own / MIN_OWN)     # ... but weighed as MIN_OWN
    assert pair.similarity < 0.5


# --- discovery, past terms, odd files -----------------------------------------------------

def test_uses_the_same_discovery_as_grade(tmp_path, klass):
    source = {(m.task, m.id): m.source for m in klass.members}
    (tmp_path / "task1_sa1.py").write_text(source["task1", "sa1"], encoding="utf-8")
    (tmp_path / "task1_sb2.py").write_text(source["task1", "sb2"], encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "77_assignment2.zip", "w") as zf:       # a zip, as grade reads it
        zf.writestr("task1_77.py", source["task1", "sa1"])
    (tmp_path / "Task1_88.py").write_text(source["task1", "sb2"], encoding="utf-8")   # wrong case: graded as 88's
    (tmp_path / "task1.py").write_text(source["task1", "sb2"], encoding="utf-8")      # no id: nobody's
    c = compare_folder(tmp_path, PACK)
    labels = {frozenset((p.a.label, p.b.label)) for p in c.pairs if p.similarity > 0.8}
    assert labels == {frozenset(("sa1", "77")), frozenset(("sb2", "88"))}
    assert c.students == 4
    assert any("task1.py" in problem for problem in c.problems)


def test_past_terms_are_references_never_paired_with_each_other(tmp_path, klass):
    source = {(m.task, m.id): m.source for m in klass.members}
    now, past = tmp_path / "now", tmp_path / "2025fall"
    now.mkdir(), past.mkdir()
    for sid in ("sb2", "sc3", "sd4"):
        (now / f"task1_{sid}.py").write_text(source["task1", sid], encoding="utf-8")
    # This term's 555 copied (renamed) last term's 9001; last term's 9001 and 9002 were a copied pair.
    (now / "task1_555.py").write_text(source["task1", "x1ren"], encoding="utf-8")
    (past / "task1_9001.py").write_text(source["task1", "sb2"], encoding="utf-8")
    (past / "task1_9002.py").write_text(source["task1", "sb2"], encoding="utf-8")
    (past / "task1_9003.py").write_text(source["task1", "se5"], encoding="utf-8")
    c = compare_folder(now, PACK, past=[past])
    assert c.students == 4 and c.past_students == 3
    for p in c.pairs:
        assert not (p.a.past and p.b.past), "two past references were paired"
        assert not p.a.past, "a current student comes first in a pair with a reference"
    got = {(p.a.label, p.b.label): p.similarity for p in c.pairs}
    flagged = f"{PAST_PREFIX}2025fall/9001"
    assert got[("555", flagged)] > 0.8 and got[("sb2", flagged)] > 0.8
    assert got[("555", "sb2")] > 0.8
    assert all(p.b.label.startswith(PAST_PREFIX) == p.b.past for p in c.pairs)
    from grader.similarity.page import render
    page = render(c, top=10)
    assert f'{flagged} <span class="past">earlier term</span>' in page
    assert "compared with 3 earlier-term students (never with each other)" in page


def test_odd_files_do_not_stop_the_report(tmp_path, klass):
    source = {(m.task, m.id): m.source for m in klass.members}
    (tmp_path / "task1_sa1.py").write_text(source["task1", "sa1"], encoding="utf-8")
    broken = source["task1", "sa1"].replace("def relu(x):", "def relu(x)")          # a syntax error
    (tmp_path / "task1_syn.py").write_text(broken, encoding="utf-8")
    (tmp_path / "task1_empty.py").write_text("", encoding="utf-8")
    (tmp_path / "task1_bin.py").write_bytes(bytes(range(256)) * 8)
    c = compare_folder(tmp_path, PACK)
    got = scores(c, "task1")
    assert got[frozenset(("sa1", "syn"))] > 0.9        # a file that does not parse is still compared
    assert not any("empty" in (p.a.label, p.b.label) for p in c.pairs)


# --- command line, CSV and HTML -----------------------------------------------------------

@pytest.fixture(scope="module")
def cli_out(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    assert cli_main(["similarity", str(folder), "--out", str(out), "--top", "6", "--jobs", "1"]) == 0
    return out


def test_csv_has_the_columns_and_order_asked_for(cli_out, comparison):
    text = (cli_out / "similarity.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "task,student_a,student_b,similarity"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(comparison.pairs) > 0
    values = [float(r["similarity"]) for r in rows]
    assert values == sorted(values, reverse=True) and all(0 <= v <= 1 for v in values)
    assert {r["task"] for r in rows} == set(TASKS)


def test_html_is_small_self_contained_and_bounded_by_top(cli_out, comparison):
    page = (cli_out / "similarity.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    for target in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert re.fullmatch(r"#(pair-\d+|top)", target), target
    assert len(re.findall(r'<h2 id="pair-\d+">', page)) == 6
    assert "a lead, not a verdict" in page
    assert '<span class="hit">' in page and '<span class="tpl">' in page
    assert len(page.encode()) < 400_000
    first = comparison.pairs[0]
    assert f"{first.a.label} and {first.b.label}" in page
    # Bounded by --top, not by the class: fewer pairs shown, a smaller page.
    from grader.similarity.page import render
    sizes = [len(render(comparison, top)) for top in (0, 2, 6, 12)]
    assert sizes == sorted(sizes) and sizes[0] < 30_000 and sizes[1] < sizes[3] / 3


def test_student_text_is_escaped(tmp_path, klass):
    source = {(m.task, m.id): m.source for m in klass.members}["task1", "sa1"]
    evil = source.replace("return np.maximum(x, 0)",
                          'return np.maximum(x, 0)  # </pre><script>alert("x")</script><img src=x>')
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for sid in ("e1", "e2"):
        (folder / f"task1_{sid}.py").write_text(evil, encoding="utf-8")
    assert cli_main(["similarity", str(folder), "--out", str(out), "--jobs", "1"]) == 0
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_refuses_an_output_folder_inside_the_submissions(folder, capsys):
    assert cli_main(["similarity", str(folder), "--out", str(folder / "out")]) == 2
    assert "must not be inside" in capsys.readouterr().err


def _chromium(tmp_path: Path, url: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", f"--user-data-dir={tmp_path / 'profile'}", *flags, url],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: the browser check of similarity.html is "
                                             "skipped (apt-get install chromium to run it)")
def test_html_renders_in_a_browser(cli_out, tmp_path):
    url = (cli_out / "similarity.html").as_uri()
    dom = _chromium(tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Similarity report: Assignment 2" in dom.stdout and 'id="pair-1"' in dom.stdout
    assert [line for line in dom.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line] == []
    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, url, f"--screenshot={shot}", "--window-size=1400,1600")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    from matplotlib import image

    pixels = (image.imread(shot)[..., :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (1600, 1400)
    highlighted = np.all(np.abs(pixels - np.array(HIT_RGB)) <= 3, axis=-1).sum()
    assert highlighted > 5000, f"only {highlighted} pixels of the highlight colour: no shared code shown"


# --- grade --similarity -------------------------------------------------------------------

def test_grade_with_similarity_lists_the_top_pairs(tmp_path, klass):
    from grader.grading.runner import Options
    from grader.outputs.batch import grade_folder

    source = {(m.task, m.id): m.source for m in klass.members}
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for sid in ("sa1", "x0ver", "sb2"):
        (folder / f"layers_{sid}.py").write_text(source["layers", sid], encoding="utf-8")
    grade_folder(folder, out, PACK, Options(jobs=1), progress=False, similarity=True)
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "## Similarity (top" in summary
    assert re.search(r"\| 1 \| layers \| `(sa1|x0ver)` \| `(sa1|x0ver)` \| 1\.00 \|", summary)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="similarity">Similarity</h2>' in report and 'href="similarity.html#pair-1"' in report
    assert (out / "similarity.csv").read_text(encoding="utf-8").splitlines()[1].startswith("layers,")
    assert (out / "similarity.html").exists()
    # Without the flag, nothing of it.
    out2 = tmp_path / "out2"
    grade_folder(folder, out2, PACK, Options(jobs=1), progress=False)
    assert "Similarity" not in (out2 / "summary.md").read_text(encoding="utf-8")
    assert not (out2 / "similarity.csv").exists()


# --- the benchmark's pieces (the timing itself runs with make bench-similarity) --------------

def _bench():
    import sys
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    from bench import simclass, similarity
    return simclass, similarity


def test_bench_class_is_template_based_with_planted_copies(tmp_path):
    simclass, _ = _bench()
    subs = simclass.make_class(students=20, planted=4, seed=3)
    assert len(subs) == 20 * len(simclass.TASKS)
    copies = [s for s in subs if s.kind == "copy"]
    assert len(copies) == 4 and all(s.copy_of and s.copy_of != s.student for s in copies)
    folder = simclass.write_class(subs, tmp_path / "class")
    c = compare_folder(folder, PACK)
    assert c.students == 20 and not c.problems
    for s in subs:
        ast.parse(s.source)                         # every generated file is Python


def test_bench_section_survives_a_rewrite_of_benchmarks_md(tmp_path):
    _, similarity = _bench()
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(similarity.splice("# Benchmarks\n\nold figures\n", "## 4. Similarity report\n\nfirst\n"))
    text = similarity.splice(path.read_text(), "## 4. Similarity report\n\nsecond\n")
    assert text.count(similarity.BEGIN) == 1 and "second" in text and "first" not in text
    path.write_text(text)
    rewritten = similarity.carry_over("# Benchmarks\n\nnew figures\n", path)     # what bench/run.py does
    assert "new figures" in rewritten and "second" in rewritten and "old figures" not in rewritten
