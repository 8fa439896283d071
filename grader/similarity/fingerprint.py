"""Tokenize a Python file and take its fingerprints (winnowing over normalised tokens).

The tokenizing and the winnowing are copydetect's (``copydetect.utils``): Pygments' Python
lexer, then every variable, attribute and function name becomes ``V`` or ``F``, every
string ``S``, comments and whitespace disappear. That is what makes renamed variables,
reformatting and removed comments invisible. A fingerprint is the hash of ``K``
consecutive characters of that normalised text; ``offsets`` maps positions in it back
to the student's own text, for highlighting.

Hashes come from Python's ``hash()`` of strings, which is salted per process: fingerprints
are compared within one run (one process) only, never stored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

K = 25          # characters of normalised code per fingerprint (copydetect's noise threshold)
WINDOW = 1      # winnowing window; 1 keeps every k-gram (copydetect's default, guarantee = K)


@dataclass
class Fingerprint:
    """One submitted file, normalised and fingerprinted."""

    label: str                 # student id (past terms: "past:<folder>/<id>")
    task: str
    code: str                  # the file as handed in
    past: bool                 # an earlier term's reference, never paired with another reference
    filtered: str              # normalised code
    offsets: np.ndarray        # copydetect's map from normalised positions back to ``code``
    hashes: np.ndarray         # int64 fingerprint at each kept position
    positions: np.ndarray      # where each fingerprint starts in ``filtered``
    blanked: list[tuple[int, int]] = field(default_factory=list)      # template lines, as spans of ``code``
    template_positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # set by boilerplate

    def keep(self, mask: np.ndarray) -> None:
        self.hashes, self.positions = self.hashes[mask], self.positions[mask]

    @property
    def own(self) -> int:
        """Normalised characters covered by the fingerprints still kept (the student's own code)."""
        return covered(self.positions)

    def unique_hashes(self) -> np.ndarray:
        return np.unique(self.hashes)


def covered(positions: np.ndarray, k: int = K) -> int:
    """How many characters the k-grams starting at ``positions`` cover together."""
    if len(positions) == 0:
        return 0
    ordered = np.unique(positions)
    return int(np.minimum(np.diff(ordered), k).sum() + k)


def _utils():
    # copydetect's package __init__ pulls in its report machinery (matplotlib, jinja2);
    # only the tokenizing and winnowing functions are used here.
    from copydetect import utils
    return utils


def normalise(code: str) -> tuple[str, np.ndarray]:
    """copydetect's normalised text of ``code`` and its offsets back to the original."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)        # copydetect logs, and never raises, on odd input
    try:
        filtered, offsets = _utils().filter_code(code, "submission.py", language="python")
    finally:
        logging.disable(previous)
    return filtered, np.asarray(offsets, dtype=np.int64).reshape(-1, 2)


def fingerprint(code: str, label: str, task: str, past: bool = False, text: str | None = None,
                blanked: list[tuple[int, int]] | None = None) -> Fingerprint:
    """Fingerprints of ``text`` (default ``code``: the file as handed in). ``text`` is the
    file with template lines blanked out (same length, see :mod:`.boilerplate`)."""
    filtered, offsets = normalise(code if text is None else text)
    utils = _utils()
    if len(filtered) >= K:
        all_hashes = np.asarray(utils.hashed_kgrams(filtered, K), dtype=np.int64)
        hashes, positions = utils.winnow(all_hashes, WINDOW, remove_duplicates=False)
        hashes, positions = np.asarray(hashes, dtype=np.int64), np.asarray(positions, dtype=np.int64)
    else:
        hashes, positions = np.zeros(0, np.int64), np.zeros(0, np.int64)
    return Fingerprint(label, task, code, past, filtered, offsets, hashes, positions, list(blanked or []))


def decode(data: bytes) -> str:
    """A submitted file's text; undecodable bytes become U+FFFD (no file is ever skipped)."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n")


def to_original(fp: Fingerprint, starts: np.ndarray, ends: np.ndarray) -> list[tuple[int, int]]:
    """Spans of normalised text as (start, end) character offsets into ``fp.code``.

    Uses the same correction as copydetect's ``compare_files``: each normalised position
    is shifted by the characters the normalisation removed before it.
    """
    if len(starts) == 0:
        return []
    spans = np.array([starts, ends], dtype=np.int64)
    if len(fp.offsets) > 0:
        index = np.clip(np.searchsorted(fp.offsets[:, 0], spans), 0, fp.offsets.shape[0] - 1)
        spans = spans + fp.offsets[:, 1][index]
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
