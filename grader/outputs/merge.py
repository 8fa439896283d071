"""``merge``: the results of a class graded in shards (``grade --shard I/N``, :mod:`grader.term.shards`)
brought together, and the class's files written from them as one run over the whole folder
writes them."""

from __future__ import annotations

import json
from pathlib import Path

from grader.outputs.batch import term_lines, write_class
from grader.outputs.report import read_student


def merge_shards(shards: list[Path], out: Path) -> tuple[int, int]:
    """``merge``: the shards' students in ``out``, and the class's files written from them as one
    run over the whole folder writes them. Returns (shards, students)."""
    import datetime as dt

    from grader.packs import load_pack
    from grader.term.course import TermOptions
    from grader.term.shards import ShardError, merge, read_run, write_run

    run, students = merge(shards, out)
    assignment = load_pack(run["assignment"])
    term = TermOptions.from_description(run.get("term", {})).build(assignment, out)
    results, grades, without = [], {}, []
    for sid in students:
        result, _ = read_student(Path(out), sid)
        if result is None:
            raise ShardError(f"{out}/{sid}/results.json cannot be read")
        results.append(result)
        extra = json.loads((Path(out) / sid / "results.json").read_text(encoding="utf-8"))["extra_data"]
        stored = extra.get("grade") or {}
        submitted = dt.datetime.fromisoformat(stored["submitted_at"]) if stored.get("submitted_at") else None
        if stored.get("no_submission"):
            without.append(sid)
        if not term.empty:
            grades[sid] = term.grade(result, submitted, no_submission=bool(stored.get("no_submission")))
    if term.seen is not None:
        term.seen.save()
    problems = list(dict.fromkeys(p for shard in shards for p in read_run(shard).get("problems", [])))
    stats = {"merged from": f"{len(shards)} shards ({', '.join(str(s) for s in shards)})"}
    errors = write_class(
        Path(out), assignment, results, grades, problems, stats, term_lines(term, run.get("layout"), grades, without)
    )
    if errors:
        raise ShardError(errors[0].splitlines()[0])
    write_run(out, {**run, "shard": [1, 1], "problems": problems})
    return len(shards), len(students)
