"""Tokenize a Python file and take its fingerprints (winnowing over normalised tokens).

The tokenizing and the winnowing are copydetect's (``copydetect.utils``): Pygments' Python
lexer, then every variable, attribute and function name becomes ``V`` or ``F``, every
string ``S``, comments and whitespace disappear. That is what makes renamed variables,
reformatting and removed comments invisible. A fingerprint is the hash of ``K``
consecutive characters of that normalised text.

Only the student's own lines are lexed: template lines are cut out first (see
:mod:`.boilerplate`), which also makes lexing three times faster. Two maps lead from a
position in the normalised text back to the file as handed in, for highlighting:
copydetect's ``offsets`` (normalised text -> lexed text) and ``line_map`` (lexed text ->
file).

Hashes come from Python's ``hash()`` of strings, which is salted per process: they are
computed in this process only (workers only normalise) and never stored.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np

K = 25  # characters of normalised code per fingerprint (copydetect's noise threshold)
WINDOW = 1  # winnowing window; 1 keeps every k-gram (copydetect's default, guarantee = K)


@dataclass
class Fingerprint:
    """One submitted file, normalised and fingerprinted."""

    label: str  # student id (past terms: "past:<folder>/<id>")
    task: str
    code: str  # the file as handed in
    past: bool  # an earlier term's reference, never paired with another reference
    filtered: str  # normalised code
    offsets: np.ndarray  # copydetect's map from normalised positions back to the lexed text
    line_map: np.ndarray  # (lexed line start, file line start) for every line lexed
    hashes: np.ndarray  # int64 fingerprint at each kept position (positions ascending)
    positions: np.ndarray  # where each fingerprint starts in ``filtered``
    template_spans: list[tuple[int, int]] = field(default_factory=list)  # template lines, as spans of ``code``
    template_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # set by boilerplate
    _sorted: np.ndarray | None = None

    def keep(self, mask: np.ndarray) -> None:
        self.hashes, self.positions = self.hashes[mask], self.positions[mask]
        self._sorted = None

    @property
    def own(self) -> int:
        """Normalised characters covered by the fingerprints still kept (the student's own code)."""
        return covered(self.positions)

    def unique_hashes(self) -> np.ndarray:
        """The distinct fingerprints, sorted (cached)."""
        if self._sorted is None:
            self._sorted = np.unique(self.hashes)
        return self._sorted

    def positions_shared_with(self, other: Fingerprint) -> np.ndarray:
        """Positions (ascending) of this file's fingerprints that ``other`` holds too."""
        theirs = other.unique_hashes()
        if len(theirs) == 0 or len(self.hashes) == 0:
            return np.zeros(0, np.int64)
        index = np.minimum(np.searchsorted(theirs, self.hashes), len(theirs) - 1)
        return self.positions[theirs[index] == self.hashes]


def covered(positions: np.ndarray, k: int = K) -> int:
    """How many characters the k-grams starting at ``positions`` (ascending) cover together."""
    if len(positions) == 0:
        return 0
    return int(np.minimum(np.diff(positions), k).sum() + k)


def _utils():
    # copydetect's package __init__ pulls in its report machinery (matplotlib, jinja2);
    # only the tokenizing and winnowing functions are used here.
    from copydetect import utils

    return utils


def normalise(text: str) -> tuple[str, np.ndarray]:
    """copydetect's normalised form of ``text`` and its offsets back to it."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # copydetect logs, and never raises, on odd input
    try:
        filtered, offsets = _utils().filter_code(text, "submission.py", language="python")
    finally:
        logging.disable(previous)
    return filtered, np.asarray(offsets, dtype=np.int64).reshape(-1, 2)


def normalise_all(texts: Sequence[str], jobs: int = 1) -> list[tuple[str, np.ndarray]]:
    """:func:`normalise` for many texts; with ``jobs`` > 1 in forked worker processes
    (lexing is the costly part; workers return text, never hashes). Forking is only safe
    from a single-threaded process, so a caller with threads running lexes here."""
    distinct = list(dict.fromkeys(texts))  # the same text (an untouched template) once
    if jobs <= 1 or len(distinct) < 50 or not hasattr(os, "fork") or threading.active_count() > 1:
        done = [normalise(text) for text in distinct]
    else:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            done = list(pool.map(normalise, distinct, chunksize=max(1, len(distinct) // (8 * jobs))))
    by_text = dict(zip(distinct, done))
    return [by_text[text] for text in texts]


def fingerprint(
    code: str,
    label: str,
    task: str,
    past: bool = False,
    text: str | None = None,
    line_map: np.ndarray | None = None,
    template_spans: list[tuple[int, int]] | None = None,
    normalised: tuple[str, np.ndarray] | None = None,
) -> Fingerprint:
    """Fingerprints of ``text`` (default: ``code``, the file as handed in), which is the
    file without its template lines (see :mod:`.boilerplate`); ``normalised`` is
    ``normalise(text)`` when already computed."""
    text = code if text is None else text
    filtered, offsets = normalise(text) if normalised is None else normalised
    if line_map is None:
        line_map = np.zeros((1, 2), np.int64)
    utils = _utils()
    if len(filtered) >= K:
        all_hashes = np.asarray(utils.hashed_kgrams(filtered, K), dtype=np.int64)
        hashes, positions = utils.winnow(all_hashes, WINDOW, remove_duplicates=False)
        hashes, positions = np.asarray(hashes, dtype=np.int64), np.asarray(positions, dtype=np.int64)
        order = np.argsort(positions, kind="stable")
        hashes, positions = hashes[order], positions[order]
    else:
        hashes, positions = np.zeros(0, np.int64), np.zeros(0, np.int64)
    return Fingerprint(
        label, task, code, past, filtered, offsets, line_map, hashes, positions, list(template_spans or [])
    )


def decode(data: bytes) -> str:
    """A submitted file's text; undecodable bytes become U+FFFD (no file is ever skipped)."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


def to_original(fp: Fingerprint, starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
    """Spans of normalised text as (start, end) character offsets into ``fp.code``.

    First copydetect's correction (as in its ``compare_files``): each normalised position
    is shifted by the characters normalisation removed before it. Then ``line_map`` moves
    it past the template lines cut out before lexing.
    """
    if len(starts) == 0:
        return []
    spans = np.array([starts, ends], dtype=np.int64)
    if len(fp.offsets) > 0:
        index = np.clip(np.searchsorted(fp.offsets[:, 0], spans), 0, fp.offsets.shape[0] - 1)
        spans = spans + fp.offsets[:, 1][index]
    line = np.clip(np.searchsorted(fp.line_map[:, 0], spans, side="right") - 1, 0, len(fp.line_map) - 1)
    spans = spans - fp.line_map[line, 0] + fp.line_map[line, 1]
    spans = np.clip(spans, 0, len(fp.code))
    return [(int(a), int(b)) for a, b in zip(spans[0], spans[1]) if b > a]


def runs(positions: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """Merge the k-grams starting at ``positions`` into (starts, ends) of normalised text."""
    if len(positions) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ordered = np.unique(positions)
    breaks = np.nonzero(np.diff(ordered) > k)[0]
    starts = np.concatenate([[ordered[0]], ordered[breaks + 1]])
    ends = np.concatenate([ordered[breaks] + k, [ordered[-1] + k]])
    return starts, ends
