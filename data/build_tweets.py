"""Rebuild ``data/tweets.tsv.gz`` from the tweets that ship inside the vaderSentiment sdist.

The vaderSentiment source distribution on PyPI (version 3.3.2, MIT licence) carries the
data of its paper (Hutto and Gilbert, ICWSM 2014) in
``additional_resources/hutto_ICWSM_2014.tar.gz``. Its ``tweets_GroundTruth.txt`` holds
4,200 tweets, each with the mean sentiment rating of about 20 human raters, from -4
(very negative) to +4 (very positive).

This script keeps the clearly rated ones and labels them: 1 (positive) for a mean rating
of at least +0.5, 0 (negative) for at most -0.5; the 838 tweets in between are left out.
HTML entities (``&amp;``) are decoded. Every fifth kept tweet, in the file's order, goes to
the test split. The output has one tweet per line, ``split<TAB>label<TAB>text``, after a
header line, gzip-compressed without a timestamp, so the same sdist always gives the
same bytes.

Run it with ``make data`` (it fetches the sdist with ``pip download``, without installing
anything) or point it at an sdist you already have::

    python data/build_tweets.py [--sdist path/to/vaderSentiment-3.3.2.tar.gz]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VADER_VERSION = "3.3.2"
ARCHIVE = f"vaderSentiment-{VADER_VERSION}/additional_resources/hutto_ICWSM_2014.tar.gz"
MEMBER = "hutto_ICWSM_2014/tweets_GroundTruth.txt"
OUTPUT = Path(__file__).resolve().parent / "tweets.tsv.gz"
THRESHOLD = 0.5          # |mean rating| below this: too close to neutral to label
TEST_EVERY = 5           # every fifth kept tweet is a test tweet


def fetch_sdist(directory: Path) -> Path:
    """Download the pinned vaderSentiment source distribution (no dependencies) into ``directory``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
         f"vadersentiment=={VADER_VERSION}", "--dest", str(directory)],
        check=True,
    )
    (sdist,) = directory.glob(f"vaderSentiment-{VADER_VERSION}.tar.gz")
    return sdist


def read_ratings(sdist: Path) -> list[tuple[float, str]]:
    """(mean rating, text) for every tweet of the ground-truth file, in its order."""
    with tarfile.open(sdist) as outer:
        inner_bytes = outer.extractfile(ARCHIVE).read()
    with tarfile.open(fileobj=io.BytesIO(inner_bytes)) as inner:
        raw = inner.extractfile(MEMBER).read().decode("utf-8")
    rows = []
    for line in raw.splitlines():
        if not line.strip():
            continue
        _, rating, text = line.split("\t", 2)
        rows.append((float(rating), html.unescape(text).strip()))
    assert len(rows) == 4200, len(rows)
    return rows


def build(sdist: Path, output: Path = OUTPUT) -> str:
    """Write the labelled tweets and return the file's SHA-256."""
    lines = ["split\tlabel\ttext"]
    kept = 0
    for rating, text in read_ratings(sdist):
        if abs(rating) < THRESHOLD:
            continue
        split = "test" if kept % TEST_EVERY == TEST_EVERY - 1 else "train"
        text = " ".join(text.split())          # tabs and line breaks inside a tweet become spaces
        lines.append(f"{split}\t{int(rating > 0)}\t{text}")
        kept += 1
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as archive:
        archive.write(("\n".join(lines) + "\n").encode("utf-8"))
    output.write_bytes(buffer.getvalue())
    return hashlib.sha256(output.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="a vaderSentiment sdist already on disk")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if args.sdist:
        digest = build(args.sdist, args.output)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            digest = build(fetch_sdist(Path(tmp)), args.output)
    size_kb = args.output.stat().st_size / 1024
    print(f"wrote {args.output} ({size_kb:.0f} KiB, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
