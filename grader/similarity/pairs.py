"""Score pairs of files of one task by the own code they share.

For a pair (a, b), the fingerprints both still hold (after :mod:`.boilerplate`) cover
some of a's normalised code and some of b's. The similarity is the covered share of
both files' own code together::

    similarity = (covered in a + covered in b) / (own code of a + own code of b)

so 1.0 means all the code either student wrote is found in the other's file, and a
student who wrote nothing of their own (the untouched template) scores 0 against anyone.
``share_a`` and ``share_b`` say the same per side (how much of a is found in b, and the
reverse), as MOSS shows them: a small file copied into a large one has one high side.

Little evidence is weak evidence: a file with less than ``MIN_OWN`` normalised characters
of own code (about five short statements) is scored as if it had ``MIN_OWN``, so two
files whose only own code is the same short line do not score 1.0.

Only pairs that share at least one fingerprint are scored (an inverted index finds
them); every other pair has similarity 0. Two earlier-term references are never paired.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from .fingerprint import Fingerprint, covered

MIN_OWN = 150      # normalised characters; see above

@dataclass
class Pair:
    task: str
    a: Fingerprint
    b: Fingerprint
    similarity: float
    share_a: float          # share of a's own code also found in b
    share_b: float          # share of b's own code also found in a

    @property
    def past(self) -> bool:
        return self.a.past or self.b.past


def shared_positions(a: Fingerprint, b: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
    """Where a's and b's common fingerprints start, in each file's normalised code."""
    return a.positions_shared_with(b), b.positions_shared_with(a)


def score(a: Fingerprint, b: Fingerprint, own_a: int | None = None, own_b: int | None = None) -> Pair:
    own_a = max(a.own if own_a is None else own_a, MIN_OWN)
    own_b = max(b.own if own_b is None else own_b, MIN_OWN)
    pos_a, pos_b = shared_positions(a, b)
    cov_a, cov_b = covered(pos_a), covered(pos_b)
    return Pair(a.task, a, b, (cov_a + cov_b) / (own_a + own_b), cov_a / own_a, cov_b / own_b)


def candidates(prints: list[Fingerprint]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of files sharing a fingerprint, except two past references."""
    if len(prints) < 2:
        return set()
    doc = np.concatenate([np.full(len(fp.unique_hashes()), i, np.int64) for i, fp in enumerate(prints)])
    hashes = np.concatenate([fp.unique_hashes() for fp in prints])
    order = np.lexsort((doc, hashes))
    hashes, doc = hashes[order], doc[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    sizes = np.diff(np.r_[starts, len(hashes)])
    found: set[tuple[int, int]] = set()
    for start, size in zip(starts[sizes > 1], sizes[sizes > 1]):
        found.update(combinations(doc[start:start + size].tolist(), 2))
    return {(i, j) for i, j in found if not (prints[i].past and prints[j].past)}


def score_task(prints: list[Fingerprint]) -> list[Pair]:
    """Every pair of one task's files that shares own code, best first.

    A current student always comes first in a pair with an earlier-term reference.
    """
    own = [fp.own for fp in prints]
    pairs = []
    for i, j in sorted(candidates(prints)):
        if prints[i].past and not prints[j].past:
            i, j = j, i
        pair = score(prints[i], prints[j], own[i], own[j])
        if pair.similarity > 0:
            pairs.append(pair)
    return rank(pairs)


def rank(pairs: list[Pair]) -> list[Pair]:
    return sorted(pairs, key=lambda p: (-round(p.similarity, 6), p.task, p.a.label, p.b.label))
