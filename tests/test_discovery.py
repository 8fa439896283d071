"""Finding each student's files, and reporting everything that does not fit."""
import os
import zipfile

from grader.intake.discovery import MAX_FILE_BYTES, discover
from grader.packs import load_pack

PACK = load_pack("assignment2")


def write_zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)


def snapshot(folder):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_loose_files_and_zips_are_found_without_touching_the_folder(tmp_path):
    (tmp_path / "task1_111.py").write_text("a = 1\n")
    (tmp_path / "layers_111.py").write_text("b = 2\n")
    write_zip(tmp_path / "222_assignment2.zip", {"task2_222.py": "c = 3\n", "task3_222.py": "d = 4\n"})
    before = snapshot(tmp_path)
    found = discover(tmp_path, PACK)
    assert sorted(found.students) == ["111", "222"]
    assert sorted(found.students["111"].files) == ["layers", "task1"]
    assert found.students["222"].files["task2"].data == b"c = 3\n"
    assert found.students["222"].files["task2"].origin == "222_assignment2.zip:task2_222.py"
    assert found.problems == [] and found.students["222"].problems == []
    assert snapshot(tmp_path) == before


def test_zip_with_a_folder_inside_is_graded_and_reported(tmp_path):
    write_zip(tmp_path / "333_assignment2.zip", {"hw2/task1_333.py": "x = 1\n", "hw2/layers_333.py": "y = 2\n",
                                                 "__MACOSX/hw2/._task1_333.py": "junk"})
    student = discover(tmp_path, PACK).students["333"]
    assert sorted(student.files) == ["layers", "task1"]
    assert any("inside the folder hw2/" in p for p in student.problems)
    assert not any("MACOSX" in p for p in student.problems)


def test_template_names_and_strangers_are_reported(tmp_path):
    (tmp_path / "task2_template.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "task1.py").write_text("x = 1\n")
    (tmp_path / "homework.zip").write_bytes(b"PK")
    found = discover(tmp_path, PACK)
    assert found.students == {}
    text = "\n".join(found.problems)
    assert "task2_template.py: the untouched template name" in text
    assert "notes.txt: not a file of this assignment" in text
    assert "task1.py: the name holds no student id" in text
    assert "homework.zip: a zip whose name holds no single student id" in text


def test_files_in_a_zip_with_unexpected_names(tmp_path):
    write_zip(tmp_path / "555_assignment2.zip", {
        "task1_555.py": "a = 1\n", "task2_999.py": "b = 2\n", "task3.py": "c = 3\n",
        "task4_template.py": "d = 4\n", "helper.py": "e = 5\n", "../evil/layers_555.py": "f = 6\n",
    })
    student = discover(tmp_path, PACK).students["555"]
    assert sorted(student.files) == ["task1", "task2", "task3", "task4"]
    text = "\n".join(student.problems)
    assert "task2_999.py: graded as your task2 file" in text and "it names student 999, not 555" in text
    assert "task3.py: graded as your task3 file" in text and "no student id (expected task3_555.py)" in text
    assert "task4_template.py: graded as your task4 file" in text and "still has the template's name" in text
    assert "not graded (not a file of this assignment): helper.py" in text
    assert "unsafe path" in text and "layers" not in student.files


def test_duplicates_keep_the_loose_file_and_are_reported(tmp_path):
    write_zip(tmp_path / "666_assignment2.zip", {"task1_666.py": "old = 1\n"})
    (tmp_path / "task1_666.py").write_text("new = 1\n")
    found = discover(tmp_path, PACK)
    student = found.students["666"]
    assert student.files["task1"].data == b"new = 1\n"
    assert ("666_assignment2.zip:task1_666.py: not graded (different content): task1_666.py was graded for task1 "
            "instead (a loose file counts before the same file in a zip)") in student.problems
    assert found.problems == []      # the student's own feedback says it; the folder has no stray file


def test_corrupt_zip_and_oversized_members_are_problems_not_crashes(tmp_path):
    (tmp_path / "777_assignment2.zip").write_bytes(b"this is not a zip")
    # A zip bomb: a small archive that inflates past the per-file limit.
    write_zip(tmp_path / "888_assignment2.zip", {"task1_888.py": b"#" * (MAX_FILE_BYTES + 10), "layers_888.py": "ok = 1\n"})
    found = discover(tmp_path, PACK)
    assert any("not a readable zip" in p for p in found.students["777"].problems)
    bomb = found.students["888"]
    assert "task1" not in bomb.files and "layers" in bomb.files
    assert any("too large" in p or "decompresses to more than" in p for p in bomb.problems)
    assert os.path.getsize(tmp_path / "888_assignment2.zip") < 100_000


def test_unreadable_file_is_reported(tmp_path):
    # A dangling symlink cannot be read, even by root.
    (tmp_path / "task1_999.py").symlink_to(tmp_path / "gone.py")
    (tmp_path / "layers_999.py").write_text("x = 1\n")
    student = discover(tmp_path, PACK).students["999"]
    assert "task1" not in student.files and any("cannot be read" in p for p in student.problems)


def test_fingerprint_changes_with_content_and_problems(tmp_path):
    (tmp_path / "task1_1.py").write_text("a = 1\n")
    first = discover(tmp_path, PACK).students["1"].fingerprint()
    assert discover(tmp_path, PACK).students["1"].fingerprint() == first
    (tmp_path / "task1_1.py").write_text("a = 2\n")
    assert discover(tmp_path, PACK).students["1"].fingerprint() != first
