"""A class graded in shards, on several machines, and merged into one run's output.

``grade FOLDER --out OUT_I --shard I/N`` grades the I-th of N shares of the students: a
student's share follows from a hash of their id alone, so it is the same whatever machine
runs it, whichever order the folder lists, and however many students there are.
``merge OUT_1 ... OUT_N --out OUT`` then copies every student's folder into OUT and writes
gradebook.csv, summary.md, report.html and the leaderboard from them as one run would:
gradebook.csv is byte-identical to that of a single run over the same folder with the
same options. Each shard records the options its grades depend on (``run.json``); shards
graded with different ones are refused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

RUN_FILE = "run.json"


class ShardError(ValueError):
    """Shards that cannot be merged, or a shard that cannot be given; the message says why."""


def parse_shard(text: str) -> tuple[int, int]:
    """ "I/N" -> (I, N), 1 <= I <= N."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ShardError(f"--shard takes I/N (e.g. 2/4), not {text!r}") from None
    if not 1 <= index <= count:
        raise ShardError(f"--shard {text}: I must be between 1 and N")
    return index, count


def in_shard(student_id: str, shard: tuple[int, int]) -> bool:
    index, count = shard
    digest = hashlib.sha256(student_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def write_run(out: Path, description: dict) -> None:
    """What a run's grades depend on, for merging its shards (see :func:`merge`)."""
    from grader.files import write_if_changed

    write_if_changed(Path(out) / RUN_FILE, json.dumps(description, indent=1, sort_keys=True) + "\n")


def read_run(out: Path) -> dict:
    try:
        return json.loads((Path(out) / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ShardError(f"{out} holds no {RUN_FILE}: is it the output of a grade run?") from None


def merge(shards: list[Path], out: Path) -> tuple[dict, list[str]]:
    """Copy every student's folder of ``shards`` into ``out``; return the run description they
    share and the students' ids. Refuses shards of different runs, a student graded in two,
    and an ``out`` that is one of the shards."""
    out = Path(out).resolve()
    runs = [read_run(shard) for shard in shards]
    first = {k: v for k, v in runs[0].items() if k != "shard"}
    for shard, run in zip(shards[1:], runs[1:]):
        differing = sorted(k for k in set(first) | set(run) if k != "shard" and first.get(k) != run.get(k))
        if differing:
            raise ShardError(f"{shard} was graded with other options than {shards[0]} ({', '.join(differing)})")
    counts = {run.get("shard", [1, 1])[1] for run in runs}
    indices = sorted(run.get("shard", [1, 1])[0] for run in runs)
    if len(counts) != 1 or indices != list(range(1, counts.pop() + 1)):
        raise ShardError(
            f"the shards given are {indices} of {runs[0].get('shard', [1, 1])[1]}: give each shard exactly once"
        )
    owner: dict[str, Path] = {}
    for shard in shards:
        if Path(shard).resolve() == out:
            raise ShardError(f"the merged output {out} must not be one of the shards")
        for folder in sorted(p for p in Path(shard).iterdir() if (p / "results.json").is_file()):
            if folder.name in owner:
                raise ShardError(f"student {folder.name} is in both {owner[folder.name]} and {shard}")
            owner[folder.name] = Path(shard)
    out.mkdir(parents=True, exist_ok=True)
    for sid, shard in sorted(owner.items()):
        target = out / sid
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(shard / sid, target)
    return first, sorted(owner)
