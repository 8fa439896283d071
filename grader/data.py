"""Offline access to the small datasets in ``data/``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DIGITS_FILE = DATA_DIR / "digits.npz"
DIGITS_SHA256 = "e0a90685e2fe8fc11803777ab881dbc2f5dda8fd3178c89547ddecedfe422252"


@lru_cache(maxsize=1)
def _raw_digits() -> dict[str, np.ndarray]:
    if not DIGITS_FILE.exists():
        raise FileNotFoundError(f"{DIGITS_FILE} is missing; it ships with the repository (rebuild it with `make data`)")
    with np.load(DIGITS_FILE) as archive:
        return {name: archive[name] for name in archive.files}


def load_digits(split: str = "train", limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of the shipped MNIST sample.

    ``images`` is float32 of shape (N, 1, 28, 28) scaled to [0, 1]; ``labels`` is int64 (N,).
    ``split`` is "train" (4,000 digits) or "test" (1,000). ``limit`` keeps the first N,
    which are spread over the classes because the split is stored class by class
    interleaved (see :func:`balanced_order`).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    raw = _raw_digits()
    images, labels = raw[f"{split}_images"], raw[f"{split}_labels"]
    order = balanced_order(labels)
    if limit is not None:
        order = order[:limit]
    x = images[order].astype(np.float32)[:, None] / np.float32(255.0)
    return x, labels[order].astype(np.int64)


def balanced_order(labels: np.ndarray) -> np.ndarray:
    """Indices that visit the classes round-robin (0, 1, ..., 9, 0, 1, ...).

    Taking any prefix of this order gives a nearly class-balanced subset, which keeps
    small training checks meaningful.
    """
    per_class = [np.flatnonzero(labels == digit) for digit in range(10)]
    depth = max(len(idx) for idx in per_class)
    order = [idx[i] for i in range(depth) for idx in per_class if i < len(idx)]
    return np.asarray(order, dtype=np.int64)


# The assignment 3 contest: the test split's digits in a fixed shuffled order, numbered 0..N-1.
CONTEST_SEED = 1616


def contest_order() -> np.ndarray:
    """Position in the test split of each contest id (contest id i is test digit ``contest_order()[i]``)."""
    count = len(_raw_digits()["test_labels"])
    return np.random.default_rng(CONTEST_SEED).permutation(count)


def contest_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits of the assignment 3 contest, without their labels: ``(ids, images)``.

    ``ids`` is int64 (1000,), ``images`` float32 (1000, 1, 28, 28) scaled to [0, 1]. A
    predictions file gives one label per id. Train on ``load_digits("train")``.
    """
    images = _raw_digits()["test_images"][contest_order()]
    return np.arange(len(images), dtype=np.int64), images.astype(np.float32)[:, None] / np.float32(255.0)


def contest_ids() -> np.ndarray:
    """The ids a contest predictions file must cover."""
    return np.arange(len(_raw_digits()["test_labels"]), dtype=np.int64)


TWEETS_FILE = DATA_DIR / "tweets.tsv.gz"
TWEETS_SHA256 = "37d25cab4a062f4397c268349447cb03767f478b292fae766f469db46fc28219"


@lru_cache(maxsize=1)
def _raw_tweets() -> tuple[tuple[str, int, str], ...]:
    if not TWEETS_FILE.exists():
        raise FileNotFoundError(f"{TWEETS_FILE} is missing; it ships with the repository (rebuild it with `make data`)")
    import gzip

    lines = gzip.decompress(TWEETS_FILE.read_bytes()).decode("utf-8").splitlines()
    rows = []
    for line in lines[1:]:  # the first line is the header
        split, label, text = line.split("\t", 2)
        rows.append((split, int(label), text))
    return tuple(rows)


def load_tweets(split: str = "train", limit: int | None = None) -> tuple[list[str], np.ndarray]:
    """Return ``(texts, labels)`` of the shipped sentiment-labelled tweets.

    ``texts`` is a list of str, ``labels`` int64 (N,): 1 positive, 0 negative. ``split``
    is "train" (2,746 tweets) or "test" (686). ``limit`` keeps the first N in file order.
    See ``data/README.md`` for where the tweets and their labels come from.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    rows = [(label, text) for s, label, text in _raw_tweets() if s == split][:limit]
    return [text for _, text in rows], np.array([label for label, _ in rows], dtype=np.int64)
