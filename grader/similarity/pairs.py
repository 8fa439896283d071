"""Score pairs of files of one task by the own code they share.

For a pair (a, b), the fingerprints both still hold (after :mod:`.boilerplate`) cover
some of a's normalised code and some of b's. The similarity is the covered share of
both files' own code together::

    similarity = (covered in a + covered in b) / (own code of a + own code of b)

so 1.0 means all the code either student wrote is found in the other's file, and a
student who wrote nothing of their own (the untouched template) scores 0 against anyone.
``share_a`` and ``share_b`` say the same per side (how much of a is found in b, and the
reverse), as MOSS shows them: a small file copied into a large one has one high side.

Little evidence is weak evidence: in the similarity, a file with less than ``MIN_OWN``
normalised characters of own code (about five short statements) counts as if it had
``MIN_OWN``, so two files whose only own code is the same short line do not score 1.0.
``share_a`` and ``share_b`` stay the plain shares.

Only pairs that share at least one fingerprint are scored (all at once, see
:func:`shared_coverage`); every other pair has similarity 0. Two earlier-term references
are never paired.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.similarity.fingerprint import Fingerprint, K, covered

MIN_OWN = 150  # normalised characters; see above


@dataclass
class Pair:
    task: str
    a: Fingerprint
    b: Fingerprint
    similarity: float
    share_a: float  # share of a's own code also found in b
    share_b: float  # share of b's own code also found in a

    @property
    def past(self) -> bool:
        return self.a.past or self.b.past


def shared_positions(a: Fingerprint, b: Fingerprint) -> tuple[np.ndarray, np.ndarray]:
    """Where a's and b's common fingerprints start, in each file's normalised code."""
    return a.positions_shared_with(b), b.positions_shared_with(a)


def _pair(a: Fingerprint, b: Fingerprint, own_a: int, own_b: int, cov_a: int, cov_b: int) -> Pair:
    similarity = (cov_a + cov_b) / (max(own_a, MIN_OWN) + max(own_b, MIN_OWN))
    return Pair(a.task, a, b, similarity, cov_a / own_a if own_a else 0.0, cov_b / own_b if own_b else 0.0)


def score(a: Fingerprint, b: Fingerprint) -> Pair:
    """One pair on its own (:func:`score_task` scores all pairs of a task at once)."""
    pos_a, pos_b = shared_positions(a, b)
    return _pair(a, b, a.own, b.own, covered(pos_a), covered(pos_b))


def shared_coverage(prints: list[Fingerprint]) -> dict[tuple[int, int], int]:
    """For every ordered pair (i, j) of files sharing a fingerprint: how many normalised
    characters of file i are covered by fingerprints file j holds too.

    All pairs at once, without a loop over pairs: every kept position of file i is
    repeated once per other file holding its fingerprint, then the (i, j, position)
    triples are sorted and each (i, j) run of positions is measured as in :func:`covered`.
    """
    if len(prints) < 2:
        return {}
    doc = np.concatenate([np.full(len(fp.hashes), i, np.int64) for i, fp in enumerate(prints)])
    hashes = np.concatenate([fp.hashes for fp in prints])
    pos = np.concatenate([fp.positions for fp in prints])
    order = np.lexsort((pos, doc, hashes))
    hashes, doc, pos = hashes[order], doc[order], pos[order]
    # The distinct (hash, file) entries, grouped by hash: who holds each fingerprint.
    first = np.r_[True, (hashes[1:] != hashes[:-1]) | (doc[1:] != doc[:-1])]
    holder_hash, holder_doc = hashes[first], doc[first]
    group_start = np.flatnonzero(np.r_[True, holder_hash[1:] != holder_hash[:-1]])
    group_size = np.diff(np.r_[group_start, len(holder_hash)])
    group = np.searchsorted(holder_hash[group_start], hashes)
    shared = group_size[group] > 1
    entry, group = np.flatnonzero(shared), group[shared]
    # One row per (position of i, another holder j of its fingerprint).
    repeats = group_size[group]
    row_entry = np.repeat(entry, repeats)
    within = np.arange(repeats.sum()) - np.repeat(np.cumsum(repeats) - repeats, repeats)
    partner = holder_doc[np.repeat(group_start[group], repeats) + within]
    mine, where = doc[row_entry], pos[row_entry]
    other = mine != partner
    mine, partner, where = mine[other], partner[other], where[other]
    if len(mine) == 0:
        return {}
    order = np.lexsort((where, partner, mine))
    mine, partner, where = mine[order], partner[order], where[order]
    new_pair = np.r_[True, (mine[1:] != mine[:-1]) | (partner[1:] != partner[:-1])]
    step = np.minimum(np.diff(where, prepend=0), K)
    step[new_pair] = K  # the first k-gram of each run counts whole
    starts = np.flatnonzero(new_pair)
    totals = np.add.reduceat(step, starts)
    return {(int(i), int(j)): int(c) for i, j, c in zip(mine[starts], partner[starts], totals)}


def score_task(prints: list[Fingerprint]) -> list[Pair]:
    """Every pair of one task's files that shares own code, best first.

    A current student always comes first in a pair with an earlier-term reference; two
    earlier-term references are never paired.
    """
    own = [fp.own for fp in prints]
    coverage = shared_coverage(prints)
    pairs = []
    for (i, j), cov_i in coverage.items():
        if i > j or (prints[i].past and prints[j].past):
            continue
        cov_j = coverage.get((j, i), 0)
        if prints[i].past:
            i, j, cov_i, cov_j = j, i, cov_j, cov_i
        pairs.append(_pair(prints[i], prints[j], own[i], own[j], cov_i, cov_j))
    return rank(pairs)


def rank(pairs: list[Pair]) -> list[Pair]:
    return sorted(pairs, key=lambda p: (-round(p.similarity, 6), p.task, p.a.label, p.b.label))
