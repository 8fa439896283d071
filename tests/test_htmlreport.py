"""The TA report OUT/report.html: content, escaping, and (with chromium) how a browser shows it."""
from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from grader.grading.runner import Options
from grader.judging.results import NameResult, StudentResult
from grader.outputs.batch import grade_folder
from grader.outputs.htmlreport import name_stats, render, shared_reason, write_report
from grader.packs import load_pack

PACK = load_pack("assignment2")
KEYS = [n.key for n in PACK.names]
BAR_RGB = (0x3B, 0x6E, 0xA8)        # grader.outputs.charts.BAR, the colour of the chart bars
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
SCRIPT = '<script>alert("x")</script>'


def student(sid: str, lost: dict[str, str] | None = None, problems: list[str] | None = None) -> StudentResult:
    """Full marks everywhere except the names in ``lost`` (key -> reason), which earn 0."""
    lost = lost or {}
    names = [NameResult(n.key, n.points, 0.0 if n.key in lost else n.points,
                        "failed" if n.key in lost else "passed", lost.get(n.key, "")) for n in PACK.names]
    return StudentResult(sid, PACK.name, names, problems=list(problems or []))


@pytest.fixture(scope="module")
def results() -> list[StudentResult]:
    return [
        student("s1"),
        student("s2", {"task1.relu": "task1_s2.py: importing the file failed: raised NameError [task1_s2.py, line 3, "
                                     "in <module>: x]", "task2.get_DNN": SCRIPT + " in the output"},
                problems=["s2_assignment2.zip: ignored <img src=x onerror=alert(1)>.py (not a file of this assignment)"]),
        student("s3", {"task1.relu": "task1_s3.py: importing the file failed: raised NameError [task1_s3.py, line 9, "
                                     "in <module>: y]", "layers.Conv1D.backward": "self.dW is averaged over the batch"}),
    ]


@pytest.fixture(scope="module")
def page(results) -> str:
    return render(results, PACK, ["<b>notes</b>.txt: not a recognised submission file name"])


def test_every_graded_name_has_a_row_with_its_counts(page, results):
    for key in KEYS:
        assert f"<td><code>{key}</code></td>" in page
    # task1.relu: 3 students, 1 full, 2 zero; mean 1.00 of 3; pass rate 33%.
    row = re.search(r"<tr><td><code>task1\.relu</code></td>(.*?)</tr>", page).group(1)
    cells = re.findall(r"<td class=num>([^<]*)</td>", row)
    assert cells == ["3", "3", "1.00", "33%", "33%", "1", "2"]
    row = re.search(r"<tr><td><code>task3\.get_lenet</code></td>(.*?)</tr>", page).group(1)
    assert re.findall(r"<td class=num>([^<]*)</td>", row) == ["5", "3", "5.00", "100%", "100%", "3", "0"]
    assert "<strong>3</strong> students" in page
    assert "1 with full marks, 0 with zero" in page


def test_equal_mistakes_are_counted_together_and_linked(page, results):
    relu = next(s for s in name_stats(results, PACK) if s.key == "task1.relu")
    assert relu.reasons == [("importing the file failed: raised NameError", ["s2", "s3"])]
    assert "<strong>2</strong> students: importing the file failed: raised NameError" in page
    for sid in ("s1", "s2", "s3"):
        assert f'<a href="{sid}/feedback.md">{sid}</a>' in page


def test_shared_reason_removes_only_student_specific_parts():
    reason = ("no file for task4: expected task4_42.py, on its own or inside 42_assignment2.zip "
              "(input: x = [1, 2]; 3 of 5 inputs fail)")
    assert shared_reason(reason, "42", PACK) == \
        "no file for task4: expected task4_<id>.py, on its own or inside <id>_assignment2.zip"
    assert shared_reason("values differ at line 42", "42", PACK) == "values differ at line 42"


def test_student_controlled_text_is_escaped(page):
    assert "<script" not in page and "<img src=x" not in page and "<b>notes" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; in the output" in page
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in page
    assert "&lt;b&gt;notes&lt;/b&gt;.txt" in page


def test_problems_and_charts_are_in_the_page(page):
    assert '<td><a href="s2/feedback.md">s2</a></td>' in page          # students with problems
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2                                             # histogram, per-name bars
    for data in images:
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    # Self-contained: every src/href is embedded data or a student's feedback file.
    for target in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert target.startswith("data:image/png;base64,") or re.fullmatch(r"[A-Za-z0-9]+/feedback\.md", target)


def test_an_empty_class_still_gives_a_page(tmp_path):
    path = write_report(tmp_path, [], PACK, [])
    text = path.read_text(encoding="utf-8")
    assert "No students were graded." in text and "<img" not in text


def test_grade_folder_writes_the_report(tmp_path):
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "task1_77.py").write_text("def relu(x)\n    return x\n")   # a syntax error: nothing runs
    (folder / "stray.txt").write_text("hello")
    grade_folder(folder, out, PACK, Options(jobs=1), progress=False)
    text = (out / "report.html").read_text(encoding="utf-8")
    assert '<a href="77/feedback.md">77</a>' in text and (out / "77" / "feedback.md").exists()
    assert "stray.txt: not a file of this assignment" in text
    assert "syntax error" in text


# --- in a browser -----------------------------------------------------------------------

def chromium(tmp_path: Path, url: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", f"--user-data-dir={tmp_path / 'profile'}", *flags, url],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)


def console_messages(stderr: str) -> list[str]:
    """Lines chromium logs for the page's console (errors, warnings, uncaught exceptions)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: the browser check of report.html is skipped "
                                             "(apt-get install chromium to run it)")
def test_report_renders_in_a_browser(tmp_path, results):
    # The console check can fail: a page with a script error is caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    assert console_messages(chromium(tmp_path, bad.as_uri(), "--dump-dom").stderr)

    path = write_report(tmp_path, results, PACK, ["notes.txt: not a recognised submission file name"])
    dom = chromium(tmp_path, path.as_uri(), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Grading report: Assignment 2" in dom.stdout and "task1.relu" in dom.stdout
    assert console_messages(dom.stderr) == []

    shot = tmp_path / "shot.png"
    run = chromium(tmp_path, path.as_uri(), f"--screenshot={shot}", "--window-size=1200,2000")
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    assert console_messages(run.stderr) == []
    from matplotlib import image

    pixels = (image.imread(shot)[..., :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (2000, 1200)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50           # text, tables and charts, not a blank page
    bars = np.all(np.abs(pixels - np.array(BAR_RGB)) <= 3, axis=-1).sum()
    assert bars > 5000, f"only {bars} pixels of the chart bars' colour: the charts did not render"
