"""The TA's term: LMS downloads, the roster, late work, overrides, regrading some, exports, shards.

Each LMS format is a sample built from that system's documentation (see the builders
below); grading runs as a TA runs it, through ``python -m grader`` or ``grade_folder``.
The class is assignment3's ``answers`` file, whose checks are quick: Q1 and Q2, 5 points
each, right in the solution.
"""
from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fixtures.cli import run_grader

from grader.grading.runner import Options
from grader.intake.roster import RosterError, read_roster
from grader.outputs.batch import grade_folder
from grader.packs import load_pack
from grader.term.course import TermOptions
from grader.term.export import export
from grader.term.late import LatePolicy, parse_time

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PACK = load_pack("assignment3")
RIGHT = (REPO / "solutions" / "answers.py").read_text()
HALF = "Q1 = 2.0\nQ2 = 1.0\n"                   # Q1 right (5), Q2 wrong (0)
ONLY_ANSWERS = ("answers.Q1", "answers.Q2")
DUE = "2026-12-01T23:59:00+08:00"


def gradebook(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "gradebook.csv", newline="") as fh:
        return {row["student_id"]: row for row in csv.DictReader(fh)}


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The command line, in this process (tests/fixtures/cli.py)."""
    return run_grader(*args, cwd=cwd)


def grade(folder: Path, out: Path, term_options: TermOptions | None = None, **kwargs):
    term_options = term_options or TermOptions()
    options = Options(jobs=2, only=ONLY_ANSWERS, settings=term_options.settings())
    return grade_folder(folder, out, PACK, options, progress=False, term=term_options.build(PACK, out), **kwargs)


# --- samples of what each LMS hands over --------------------------------------------------------


def gradescope_export(root: Path, submissions: dict[str, tuple[str, dict[str, str]]]) -> Path:
    """A Gradescope "Export Submissions" folder: ``submission_<n>/`` per submission with the files as
    uploaded, and submission_metadata.yml naming each folder's submitters and creation time."""
    folder = root / "assignment_4711_export"
    folder.mkdir(parents=True)
    lines = []
    for number, (sid, (created, files)) in enumerate(sorted(submissions.items()), start=100001):
        name = f"submission_{number}"
        (folder / name).mkdir()
        for file_name, text in files.items():
            (folder / name / file_name).write_text(text)
        lines += [f"{name}:", "  :submitters:", f"  - :name: Student {sid}", f"    :sid: '{sid}'",
                  f"    :email: s{sid}@example.edu", f"  :created_at: {created}", "  :score: 0.0", "  :history: []"]
    (folder / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    return folder


CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,Assignment 3 (4711)
    Points Possible,,,,,35
"Doe, Jane",12345,3180100111,jdoe,Section A,
"Smith, John",23456,3180100112,jsmith,Section A,
"Nguyen, An",34567,3180100113,anguyen,Section B,
"Student, Test",99999,,,Section A,
"""


def canvas_download(root: Path) -> Path:
    """A Canvas "Download Submissions" folder: <name>[_late]_<user id>_<submission id>_<file>, a
    resubmitted file with -1 before its extension."""
    folder = root / "canvas"
    folder.mkdir(parents=True)
    (folder / "doejane_12345_777001_answers.py").write_text(HALF)                 # first try
    (folder / "doejane_12345_777002_answers-1.py").write_text(RIGHT)              # resubmitted: counts
    (folder / "smithjohn_late_23456_777003_answers_3180100112.py").write_text(RIGHT)
    return folder


MOODLE_ROSTER = """Identifier,Full name,Email address,ID number,Status,Grade,Maximum Grade,Grade can be changed
Participant 654321,Jane Doe,jane@example.edu,3180100111,Submitted for grading,,35,Yes
Participant 654322,John Smith,john@example.edu,3180100112,Submitted for grading,,35,Yes
"""


def moodle_zip(root: Path) -> Path:
    """A Moodle "Download all submissions" zip: a folder per participant
    (<Full Name>_<participant id>_assignsubmission_file_), and an online-text folder."""
    path = root / "moodle.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Jane Doe_654321_assignsubmission_file_/answers.py", RIGHT)
        inner = io.BytesIO()
        with zipfile.ZipFile(inner, "w") as student_zip:
            student_zip.writestr("answers_3180100112.py", HALF)
        archive.writestr("John Smith_654322_assignsubmission_file_/3180100112_assignment3.zip", inner.getvalue())
        archive.writestr("John Smith_654322_assignsubmission_onlinetext_/onlinetext.html", "<p>hi</p>")
    return path


# --- folders as the LMS hands them over ------------------------------------------------------------


def test_a_gradescope_export_is_read_with_its_submitters_and_times(tmp_path):
    folder = gradescope_export(tmp_path, {
        "3180100111": ("2026-12-01 23:30:12.123456000 +08:00", {"answers.py": RIGHT}),
        "3180100112": ("2026-12-02 09:59:00.000000000 +08:00", {"answers_3180100112.py": RIGHT}),
    })
    late = TermOptions(due=DUE, late_penalty=10)
    result = grade(folder, tmp_path / "out", late)
    book = gradebook(tmp_path / "out")
    assert {sid: row["autograded"] for sid, row in book.items()} == {"3180100111": "10", "3180100112": "10"}
    # 3180100112 handed in 10 hours late: one started day, 10 % of 10 points
    assert book["3180100111"]["late_penalty"] == "0" and book["3180100112"]["late_penalty"] == "1"
    assert book["3180100112"]["total"] == "9"
    feedback = (tmp_path / "out" / "3180100112" / "feedback.md").read_text()
    assert "10 h after the due time" in feedback and "-1 points" in feedback
    assert any("Gradescope download" in line for line in result.term_lines)


def test_a_canvas_download_is_tied_to_students_through_the_roster(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    folder = canvas_download(tmp_path)
    grade(folder, tmp_path / "out", TermOptions(roster=roster))
    book = gradebook(tmp_path / "out")
    assert set(book) == {"3180100111", "3180100112", "3180100113"}
    assert book["3180100111"]["total"] == "10"                 # the resubmitted file counted
    assert book["3180100113"]["total"] == "0" and book["3180100113"]["note"] == "no submission"
    feedback = (tmp_path / "out" / "3180100112" / "feedback.md").read_text()
    assert "Canvas marked this submission late" in feedback
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "no SIS User ID: skipped" in summary                  # the test student
    assert "1 handed in nothing" in summary


def test_a_moodle_zip_is_graded_as_it_is_downloaded(tmp_path):
    roster = tmp_path / "worksheet.csv"
    roster.write_text(MOODLE_ROSTER)
    done = run("grade", str(moodle_zip(tmp_path)), "--out", str(tmp_path / "out"), "--assignment", "assignment3",
               "--roster", str(roster), "--quiet", "--jobs", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    book = gradebook(tmp_path / "out")
    assert {sid: row["total"] for sid, row in book.items()} == {"3180100111": "10", "3180100112": "5"}
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "onlinetext submission, not files" in summary


def test_without_a_roster_a_download_is_tied_by_the_ids_in_file_names_or_kept_under_the_lms_id(tmp_path):
    folder = canvas_download(tmp_path)
    grade(folder, tmp_path / "out")
    book = gradebook(tmp_path / "out")
    assert set(book) == {"12345", "3180100112"}
    assert "cannot be tied to a student id without a roster" in (tmp_path / "out" / "12345" / "feedback.md").read_text()


# --- the roster -----------------------------------------------------------------------------------


def test_every_roster_student_gets_a_row_and_strangers_none(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "answers_1.py").write_text(RIGHT)
    (folder / "answers_9.py").write_text(RIGHT)                 # not on the roster
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name\n1,Ann\n2,Bo\n")
    grade(folder, tmp_path / "out", TermOptions(roster=roster))
    book = gradebook(tmp_path / "out")
    assert set(book) == {"1", "2"}
    assert (book["2"]["answers.Q1"], book["2"]["total"], book["2"]["note"]) == ("0", "0", "no submission")
    assert "9: not on the roster (answers_9.py)" in (tmp_path / "out" / "summary.md").read_text()
    assert "no submission" in (tmp_path / "out" / "2" / "feedback.md").read_text()


def test_a_roster_without_its_id_column_is_refused_in_one_line(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("name,email\nAnn,a@x\n")
    with pytest.raises(RosterError, match="no column 'student_id'.*--roster-id"):
        read_roster(path)
    assert read_roster(path, "email").ids() == ["a@x"]
    canvas = tmp_path / "canvas.csv"
    canvas.write_text(CANVAS_ROSTER)
    roster = read_roster(canvas)
    assert roster.kind == "canvas" and roster.ids() == ["3180100111", "3180100112", "3180100113"]
    assert roster.by_lms_id("23456").student_id == "3180100112"


# --- late work ----------------------------------------------------------------------------------


@pytest.mark.parametrize("submitted, extension, days, fraction", [
    ("2026-12-02T00:09:00+08:00", None, 0, 0.0),               # 10 minutes late, inside 15 minutes' grace
    ("2026-12-02T10:00:00+08:00", None, 1, 0.1),               # ten hours late: one started day
    ("2026-12-05T00:30:00+08:00", None, 4, 1.0),               # beyond the last (third) day: 0 points
    ("2026-12-03T12:00:00+08:00", "2026-12-04T23:59:00+08:00", 0, 0.0),   # on time, with an extension
])
def test_late_penalties(submitted, extension, days, fraction):
    policy = LatePolicy(parse_time(DUE, "due"), grace=__import__("datetime").timedelta(minutes=15),
                        percent_per_day=10, max_days=3,
                        extensions={"7": parse_time(extension, "e")} if extension else {})
    lateness = policy.assess("7", parse_time(submitted, "s"))
    assert (lateness.days, lateness.fraction) == (days, fraction)
    assert lateness.penalty(20) == 20 * fraction


def test_late_work_from_a_submitted_file_and_no_times_said_once(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for sid in ("1", "2"):
        (folder / f"answers_{sid}.py").write_text(RIGHT)
    times = tmp_path / "submitted.csv"
    times.write_text("student_id,submitted_at\n1,2026-12-01T20:00:00+08:00\n2,2026-12-03T08:00:00+08:00\n")
    grade(folder, tmp_path / "out", TermOptions(due=DUE, late_penalty=25, submitted=times))
    book = gradebook(tmp_path / "out")
    assert (book["1"]["total"], book["2"]["late_penalty"], book["2"]["total"]) == ("10", "5", "5")
    result = grade(folder, tmp_path / "out2", TermOptions(due=DUE, late_penalty=25))
    assert any("no submission times" in line for line in result.term_lines)
    assert gradebook(tmp_path / "out2")["2"]["total"] == "10"


# --- overrides ----------------------------------------------------------------------------------


def test_an_override_survives_a_rerun_and_is_flagged_after_a_resubmission(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "answers_1.py").write_text(HALF)
    (folder / "answers_2.py").write_text(RIGHT)
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student_id,name,points,comment\n1,answers.Q2,4,typo in the last digit: accepted\n"
                         "2,total,8,academic integrity deduction\n")
    options = TermOptions(overrides=overrides)
    grade(folder, tmp_path / "out", options)
    book = gradebook(tmp_path / "out")
    assert (book["1"]["answers.Q2"], book["1"]["total"], book["2"]["total"]) == ("4", "9", "8")
    assert book["1"]["overridden"] == "answers.Q2: 4 (was 0)"
    feedback = (tmp_path / "out" / "1" / "feedback.md").read_text()
    assert "typo in the last digit: accepted" in feedback and "the grader gave 0" in feedback
    again = grade(folder, tmp_path / "out", options)                 # nothing regraded, still applied
    assert again.graded == 0 and gradebook(tmp_path / "out")["1"]["total"] == "9"
    assert "Overrides to look at again" not in (tmp_path / "out" / "summary.md").read_text()
    (folder / "answers_1.py").write_text(RIGHT)                       # the student resubmits
    grade(folder, tmp_path / "out", options)
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "Overrides to look at again" in summary and "the student's files changed" in summary


# --- regrading some -----------------------------------------------------------------------------


def test_only_regrades_the_named_students_and_leaves_the_others_files_untouched(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for sid in ("1", "2", "3"):
        (folder / f"answers_{sid}.py").write_text(RIGHT)
    grade(folder, tmp_path / "out")
    others = {sid: {name: (tmp_path / "out" / sid / name).stat().st_mtime_ns for name in ("results.json", "feedback.md")}
              for sid in ("1", "3")}
    before = {sid: (tmp_path / "out" / sid / "results.json").read_bytes() for sid in ("1", "3")}
    (folder / "answers_2.py").write_text(HALF)
    (folder / "answers_3.py").write_text(HALF)         # changed too, but not named: kept as it was
    result = grade(folder, tmp_path / "out", students={"2"})
    assert result.graded == 1
    book = gradebook(tmp_path / "out")
    assert (book["2"]["total"], book["3"]["total"]) == ("5", "10")
    for sid in ("1", "3"):
        assert (tmp_path / "out" / sid / "results.json").read_bytes() == before[sid]
        assert {name: (tmp_path / "out" / sid / name).stat().st_mtime_ns for name in others[sid]} == others[sid]
    with pytest.raises(ValueError, match="no files of 7"):
        grade(folder, tmp_path / "out", students={"7"})


# --- shards -------------------------------------------------------------------------------------


def test_four_shards_merged_give_the_gradebook_of_one_run(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for number in range(12):
        (folder / f"answers_{100 + number}.py").write_text(RIGHT if number % 3 else HALF)
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id\n" + "".join(f"{100 + n}\n" for n in range(14)))      # two without files
    common = ["--assignment", "assignment3", "--roster", str(roster), "--quiet", "--jobs", "2", "--due", DUE]
    whole = run("grade", str(folder), "--out", str(tmp_path / "whole"), *common)
    assert whole.returncode == 0, whole.stderr[-2000:]
    shards = []
    for index in range(1, 5):
        out = tmp_path / f"shard{index}"
        done = run("grade", str(folder), "--out", str(out), "--shard", f"{index}/4", *common)
        assert done.returncode == 0, done.stderr[-2000:]
        shards.append(str(out))
    assert sum(len(gradebook(Path(s))) for s in shards) == 14
    merged = run("merge", *shards, "--out", str(tmp_path / "merged"))
    assert merged.returncode == 0, merged.stderr[-2000:]
    assert (tmp_path / "merged" / "gradebook.csv").read_bytes() == (tmp_path / "whole" / "gradebook.csv").read_bytes()
    assert (tmp_path / "merged" / "report.html").is_file()
    refused = run("merge", *shards[:3], "--out", str(tmp_path / "partial"))
    assert refused.returncode == 2 and "give each shard exactly once" in refused.stderr


# --- exports ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def graded_with_canvas_roster(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    roster = root / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    folder = root / "class"
    folder.mkdir()
    (folder / "answers_3180100111.py").write_text(RIGHT)
    (folder / "answers_3180100112.py").write_text(HALF)
    grade(folder, root / "out", TermOptions(roster=roster))
    from grader.term.shards import write_run
    write_run(root / "out", {"assignment": "assignment3"})
    return root / "out", read_roster(roster)


def test_export_for_canvas_fills_the_gradebook_import_format(graded_with_canvas_roster):
    out, roster = graded_with_canvas_roster
    rows = list(csv.reader(io.StringIO(export(out, "canvas", "Assignment 3 (4711)", roster)[0])))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Assignment 3 (4711)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "35"]
    assert rows[2] == ["Doe, Jane", "12345", "3180100111", "jdoe", "Section A", "10"]
    assert rows[4] == ["Nguyen, An", "34567", "3180100113", "anguyen", "Section B", "0"]      # no submission


def test_export_for_brightspace_moodle_blackboard_and_plain_csv(graded_with_canvas_roster):
    out, roster = graded_with_canvas_roster
    brightspace = export(out, "brightspace", "Assignment 3", roster)[0].splitlines()
    assert brightspace[0] == "OrgDefinedId,Username,Assignment 3 Points Grade,End-of-Line Indicator"
    assert brightspace[1] == "#3180100111,#jdoe,10,#"
    moodle = list(csv.reader(io.StringIO(export(out, "moodle", "Assignment 3", roster)[0])))
    assert moodle[0] == ["ID number", "Email address", "Assignment 3"] and moodle[2] == ["3180100112", "", "5"]
    blackboard = export(out, "blackboard", "Assignment 3", roster)[0].splitlines()
    assert blackboard[0] == '"Last Name","First Name","Username","Student ID","Assignment 3 [Total Pts: 35 Score]"'
    assert blackboard[1] == '"Doe","Jane","jdoe","3180100111","10"'
    assert export(out, "csv", "A3")[0].splitlines()[:2] == ["student_id,A3", "3180100111,10"]


def test_export_command_writes_the_file(graded_with_canvas_roster, tmp_path):
    out, roster = graded_with_canvas_roster
    target = tmp_path / "canvas-import.csv"
    done = run("export", str(out), "--format", "canvas", "--column", "A3", "--roster", str(roster.path),
               "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert target.read_text().startswith("Student,ID,SIS User ID")


# --- a whole term run, as a TA runs it ------------------------------------------------------------


def test_a_term_run_reports_one_total_everywhere_and_exports_with_the_runs_roster(tmp_path):
    """What a TA trial tripped over: three different class means, report.html showing totals before
    penalties and overrides, an export without --roster that silently lacked the names, a sandbox line
    contradicted by a roster-only student, a lowered grade that went by without a word."""
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    folder = canvas_download(tmp_path)
    times = tmp_path / "times.csv"            # 111 on time; 112 a day and 16 min after due + 30 min grace
    times.write_text("student_id,submitted_at\n3180100111,2026-12-01T22:00:00+08:00\n"
                     "3180100112,2026-12-03T00:45:00+08:00\n")
    overrides = tmp_path / "overrides.csv"
    overrides.write_text("student_id,name,points,comment\n3180100111,total,7,regrade\n")
    out = tmp_path / "out"
    common = ["--assignment", "assignment3", "--roster", str(roster), "--due", DUE, "--grace", "30",
              "--late-penalty", "10", "--submitted", str(times), "--overrides", str(overrides), "--jobs", "2", "--quiet"]
    done = run("grade", str(folder), "--out", str(out), *common)
    assert done.returncode == 0, done.stderr[-2000:]
    book = gradebook(out)
    totals = {sid: float(row["total"]) for sid, row in book.items()}
    assert totals == {"3180100111": 7, "3180100112": 8, "3180100113": 0}     # 112: 10 - 20 %, two started days
    mean = sum(totals.values()) / 3
    assert f"mean total (after late penalties and overrides) {mean:.2f}/35" in done.stdout
    assert "lower a grade the grader gave (3180100111)" in done.stdout
    summary = (out / "summary.md").read_text()
    assert f"total (after late penalties and overrides): mean {mean:.2f}" in summary
    assert "not recorded" not in summary                        # the roster-only student ran nowhere
    problems = summary.split("## Problems found in the folder", 1)[1].split("##", 1)[0]
    assert "no SIS User ID" not in problems and "no SIS User ID: skipped" in summary
    report = (out / "report.html").read_text()
    assert f"mean <strong>{mean:.2f}</strong>" in report
    assert "<th>autograded</th>" in report and "<td class=num><strong>7</strong></td><td class=num>10</td>" in report
    feedback = (out / "3180100112" / "feedback.md").read_text()
    assert "2 started day(s) late (days count from the end of the 30 min grace period)" in feedback

    exported = run("export", str(out), "--format", "canvas", "--column", "A3")
    assert exported.returncode == 0, exported.stderr
    assert "the one the run was graded with" in exported.stdout and "(3 students, canvas)" in exported.stdout
    rows = list(csv.reader(io.StringIO((out / "export-canvas.csv").read_text())))
    assert rows[2] == ["Doe, Jane", "12345", "3180100111", "jdoe", "Section A", "7"]

    kept = {name: (out / name).stat().st_mtime_ns for name in ("gradebook.csv", "report.html", "run.json")}
    again = run("grade", str(folder), "--out", str(out), *common, "--only", "3180100111")
    assert again.returncode == 0, again.stderr[-2000:]
    assert {name: (out / name).stat().st_mtime_ns for name in kept} == kept     # nothing in them changed


# --- the contest on a TA's own data ----------------------------------------------------------------


def test_a_contest_with_text_ids_and_class_names(tmp_path):
    labels = tmp_path / "hidden" / "labels.csv"
    labels.parent.mkdir()
    rows = [(f"test_{i:05d}.png", ("cat", "dog", "ship")[i % 3]) for i in range(30)]
    labels.write_text("id,label\n" + "".join(f"{k},{v}\n" for k, v in rows))
    folder = tmp_path / "class"
    folder.mkdir()
    guesses = [(k, v if i % 5 else "plane") for i, (k, v) in enumerate(rows)]          # 24 of 30 right
    (folder / "predictions_1.csv").write_text("id,label\n" + "".join(f"{k}, {v}\n" for k, v in guesses))
    options = Options(jobs=1, settings={"labels": labels, "cutoffs": (0.5, 0.9)})
    result = grade_folder(folder, tmp_path / "out", PACK, options, progress=False)
    contest = result.results[0].name("predictions.accuracy")
    assert contest.score == pytest.approx(10 * (0.8 - 0.5) / 0.4)
    assert "24 of 30" in contest.parts[0].message and "a label the test set does not have" in contest.parts[0].message


def test_a_folder_without_predictions_grades_without_labels(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "answers_1.py").write_text(RIGHT)
    done = run("grade", str(folder), "--out", str(tmp_path / "out"), "--assignment", "assignment3", "--quiet")
    assert done.returncode == 0, done.stderr
    assert gradebook(tmp_path / "out")["1"]["predictions.accuracy"] == "0"


# --- a course file ------------------------------------------------------------------------------


def test_a_course_file_bundles_the_options_and_flags_win(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    (folder / "answers_1.py").write_text(RIGHT)
    (tmp_path / "roster.csv").write_text("student_id\n1\n2\n")
    (tmp_path / "times.csv").write_text("student_id,submitted_at\n1,2026-12-02T12:00:00+08:00\n")
    (tmp_path / "course.toml").write_text(f'roster = "roster.csv"\ndue = "{DUE}"\nlate_penalty = 10\n'
                                          'submitted = "times.csv"\n')
    done = run("grade", str(folder), "--out", str(tmp_path / "out"), "--assignment", "assignment3", "--quiet",
               "--course", str(tmp_path / "course.toml"), "--late-penalty", "20", cwd=REPO)
    assert done.returncode == 0, done.stderr
    book = gradebook(tmp_path / "out")
    assert set(book) == {"1", "2"} and book["1"]["late_penalty"] == "2"       # 20 % of 10: the flag won
    bad = tmp_path / "bad.toml"
    bad.write_text('rooster = "roster.csv"\n')
    refused = run("grade", str(folder), "--out", str(tmp_path / "o2"), "--assignment", "assignment3",
                  "--course", str(bad))
    assert refused.returncode == 2 and "unknown keys: rooster" in refused.stderr
