"""What never counts as a student's own code: the template, and what much of the class shares.

Template code is removed twice over, because students move it around:

* before fingerprinting, every line of a submission that is also a line of the pack's
  template for that task (``templates/<task>_template.py``), whitespace aside, is cut out.
  This catches the template however the student reorders its functions or deletes its
  docstrings, which would otherwise make fingerprints of template code the template
  itself lacks;
* after fingerprinting, every fingerprint the template itself has is dropped.

And then, from every file of the task:

* every fingerprint found in more than ``max_share`` of the task's submissions (and in
  more than ``min_count`` of them, so that a small class keeps its evidence), as MOSS
  ``-m`` and Dolos ``-M`` do: the obvious one-liners that half the class writes alike,
  or a passage given out in a lecture, say nothing about who copied whom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.assignment import Assignment
from grader.similarity.fingerprint import Fingerprint, fingerprint
from grader.similarity.options import MAX_SHARE, MIN_COUNT


@dataclass
class Dropped:
    """What was dropped for one task, for the report."""

    template: int = 0  # distinct fingerprints of the template
    common: int = 0  # distinct fingerprints found in too many submissions
    limit: int = 0  # "in more than this many submissions" (the common cut-off)


def template_code(assignment: Assignment, task: str) -> str | None:
    path = Path(assignment.templates_dir) / assignment.file(task).template
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def template_lines(template: str | None) -> frozenset[str]:
    """The template's non-blank lines, whitespace removed."""
    if template is None:
        return frozenset()
    return frozenset(key for key in (_key(line) for line in template.splitlines()) if key)


def _key(line: str) -> str:
    return "".join(line.split())


def cut_template(code: str, lines: frozenset[str]) -> tuple[str, np.ndarray, list[tuple[int, int]]]:
    """``code`` without its template lines: (text, line_map, cut).

    ``line_map`` holds (start in text, start in code) of every line kept; ``cut`` the
    (start, end) spans of ``code`` that were template lines. Blank and comment-only lines
    are left out too: they hold no tokens that count (and Pygments drops leading
    newlines, which would shift every position after them).
    """
    kept, line_map, cut = [], [], []
    at_text = at_code = 0
    for line in code.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        key = _key(body)
        if lines and key in lines:
            cut.append((at_code, at_code + len(body)))
        elif not key or key.startswith("#"):
            pass
        else:
            kept.append(line)
            line_map.append((at_text, at_code))
            at_text += len(line)
        at_code += len(line)
    return "".join(kept), np.array(line_map or [(0, 0)], dtype=np.int64).reshape(-1, 2), cut


def common_limit(documents: int, max_share: float = MAX_SHARE, min_count: int = MIN_COUNT) -> int:
    """A fingerprint found in more than this many documents is common."""
    return max(min_count, math.floor(max_share * documents))


def drop_boilerplate(
    prints: list[Fingerprint], template: str | None, max_share: float = MAX_SHARE, min_count: int = MIN_COUNT
) -> Dropped:
    """Remove template and common fingerprints from ``prints`` (all files of one task), in place."""
    dropped = Dropped()
    if not prints:
        return dropped
    remove = np.zeros(0, np.int64)
    if template is not None:
        remove = fingerprint(template, "template", prints[0].task).unique_hashes()
        dropped.template = len(remove)
    per_document = np.concatenate([fp.unique_hashes() for fp in prints])
    values, counts = np.unique(per_document, return_counts=True)
    dropped.limit = common_limit(len(prints), max_share, min_count)
    common = values[counts > dropped.limit]
    dropped.common = len(np.setdiff1d(common, remove, assume_unique=True))
    # One pass over every file's fingerprints at once, then split back per file.
    hashes = np.concatenate([fp.hashes for fp in prints])
    in_template = np.isin(hashes, remove)
    drop = in_template | np.isin(hashes, common)
    bounds = np.cumsum([len(fp.hashes) for fp in prints])[:-1]
    for fp, template_mask, drop_mask in zip(prints, np.split(in_template, bounds), np.split(drop, bounds)):
        fp.template_positions = fp.positions[template_mask]
        fp.keep(~drop_mask)
    return dropped
