"""Write the notebooks of assignment 3: the self-check notebooks ``notebooks/answers_run.ipynb``
and ``notebooks/convmat_run.ipynb``, and the contest notebook ``notebooks/contest_run.ipynb``.

This script is their source, built the same way as ``build.py`` builds the notebooks of
assignment 2: edit the text or code here, then run ``python notebooks/build_assignment3.py``.
The ``.ipynb`` files are committed without outputs; ``tests/test_assignment3.py`` fails
while they differ from what this script writes, and runs them against the solutions and
the templates.

Each notebook: a title and an introduction, a setup cell that finds the repository and
the file to check (``STUDENT_FILE``), then per graded name an explanation, its self-check
and a small experiment, and finally the self-check of the whole file with its total.
Every self-check call names the pack (``assignment="assignment3"``).

The contest notebook is different: it trains a small baseline classifier on the shipped
digits, writes a predictions file for the contest digits (``STUDENT_FILE``, default
``predictions_mine.csv`` at the repository root) and self-checks it. Self-check only
validates the file; its accuracy is scored against labels students never get.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nbframe import TOTAL_LINE, assemble, notebook as frame, text as _text, write  # noqa: E402,F401

ASSIGNMENT = "assignment3"


def notebook(task: str, title: str, intro: str, hidden_note: str,
             sections: list[tuple[str | None, str | None, str | None]]) -> nbformat.NotebookNode:
    return frame(task, title, intro, sections, ASSIGNMENT, hidden=hidden_note)


# --- answers -----------------------------------------------------------------------------

ANSWERS = notebook("answers", "Assignment 3 self-check: the momentum questions", """
    Two questions, two numbers: `Q1` and `Q2` in `answers_template.py`. Each asks for the
    weight `w(167)` of a one-weight model trained with momentum, truncated to three
    decimals. The checks below tell you whether each answer is a number the grader can
    read. When your file is graded, its value is compared with the true one and, when it is
    wrong, with the common slips (one update too few or too many, the wrong sign, momentum
    left out, ...), and your feedback names the slip.
""", hidden_note=("Self-check tells you whether `Q1` and `Q2` are numbers; whether they are the right "
                  "numbers is checked only when your file is graded, so that the kit holds no answer. "
                  "The experiments below let you compute them yourself."), sections=[
    ("""
    ## The update rule, and what "truncate" means

    With momentum, every step keeps a fraction `beta` of the previous step and adds a
    plain gradient step, evaluated at the current weight:

    `Delta_w(k) = beta * Delta_w(k-1) - eta * dL/dw(w(k-1))`, then `w(k) = w(k-1) + Delta_w(k)`.

    You start at `w(1)`, and `Delta_w(1)` is the step that got you there, so `w(167)` is
    166 updates away. Count carefully: one update too many or too few is the most common
    slip.

    Truncating keeps three decimals and drops the rest, toward zero: it is not rounding,
    as the cell below shows. (The grader also accepts the correctly rounded value, and an
    unshortened one.)
    """, None, """
    import math


    def truncate(value, decimals=3):
        scale = 10 ** decimals
        return math.trunc(value * scale) / scale


    for value in (3.14159, -3.14159):
        print(f"{value:>9}: truncated {truncate(value):>7}, rounded {round(value, 3):>7}")
    """),
    ("""
    ## `Q1` (5 points): a ReLU unit with the L2 divergence

    `y = max(0, w * x)`, one example `(x, d) = (0.5, 1.0)`, loss `L = 1/2 * (y - d)**2`,
    `w(1) = 1.0`, `Delta_w(1) = 0.5`, `beta = 0.9`, `eta = 0.1`. Remember that the
    ReLU passes no gradient while `w * x <= 0`.
    """, "answers.Q1", None),
    ("""
    ## `Q2` (5 points): a logistic unit with cross-entropy

    `y = 1 / (1 + exp(-w * x))`, one example `(x, d) = (-0.5, 1.0)`, loss
    `L = -d * log(y) - (1 - d) * log(1 - y)`, `w(1) = 0.0`, `Delta_w(1) = 0.5`,
    `beta = 0.9`, `eta = 0.1`.
    """, "answers.Q2", None),
    ("""
    ## What your file holds

    Once your file has run, `Q1` and `Q2` should be plain numbers (a Python `float` or
    `int`, or a NumPy number), not text and not `None`.
    """, None, """
    answers = student()
    for name in ("Q1", "Q2"):
        value = getattr(answers, name, None)
        if value is None:
            print(f"{name}: no answer yet (still None)")
        else:
            print(f"{name} = {value!r}  ({type(value).__name__})")
    """),
])


# --- convmat -------------------------------------------------------------------------------

CONVMAT = notebook("convmat", "Assignment 3 self-check: convolution as a matrix", """
    A 1-D convolution of one sample is linear in its input, so it can be written as a
    matrix: `Y.flatten() == A @ X.flatten()` for `W` of shape
    `(out_channels, in_channels, kernel)`, `X` of shape `(in_channels, in_width)` and `Y`
    of shape `(out_channels, out_width)`. Backpropagation through it is a matrix too:
    `dL/dX.flatten() == B @ dL/dY.flatten()`. You build both with NumPy; the checks
    compare them with PyTorch's `conv1d` and its autograd.
""", hidden_note=("Passing here is necessary, not sufficient: the grader also tries hidden inputs "
                  "(more sizes, strides and channel counts)."), sections=[
    ("""
    ## `conv1d_matrix(W, in_width, stride=1)` (8 points: shape 2, values with stride 1: 3, with a larger stride: 3)

    Row `o * out_width + j` of `A` is output channel `o` at position `j`; column
    `c * in_width + i` is input channel `c` at position `i` (the order of `flatten()`).
    The window of output position `j` starts at input position `j * stride`, and the
    kernel is not reversed (as in `torch.nn.functional.conv1d`). With
    `out_width = (in_width - kernel) // stride + 1`, some inputs at the end may never be
    read when the stride does not divide `in_width - kernel`.

    The first experiment prints `A` for a small example of two input and two output
    channels, width 4 and kernel 3, with easy-to-read weights (`W[o, c, t] = 100 o + 10 c + t`,
    plus one so that no weight is 0): each row should show the kernels of its output
    channel, shifted by one column per position. The second compares `A @ X.flatten()`
    with PyTorch on a random example with stride 3.
    """, "convmat.conv1d_matrix", """
    import numpy as np
    import torch
    import torch.nn.functional as F

    np.set_printoptions(linewidth=120)
    W_small = (100 * np.arange(2)[:, None, None] + 10 * np.arange(2)[None, :, None]
               + np.arange(3)[None, None, :] + 1).astype(float)
    with needs("conv1d_matrix"):
        print(student().conv1d_matrix(W_small, 4))
    """),
    (None, None, """
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 3, 5))
    X = rng.standard_normal((3, 23))
    with needs("conv1d_matrix"):
        A = student().conv1d_matrix(W, 23, stride=3)
        Y = F.conv1d(torch.from_numpy(X)[None], torch.from_numpy(W), stride=3)[0].numpy()
        print("A has shape", np.shape(A), "| expected", (Y.size, X.size))
        print("largest difference from torch:", np.abs(A @ X.flatten() - Y.flatten()).max())
    """),
    ("""
    ## `conv1d_backward_matrix(W, in_width, stride=1)` (7 points: shape 2, values 5)

    Given the gradient of the loss with respect to the output, `B` maps it to the gradient
    with respect to the input. Start from `Y.flatten() = A @ X.flatten()` and apply the
    chain rule entry by entry. The grader checks `B` on its own: if your `B` calls your
    `conv1d_matrix`, the grader's correct version is used there, so a mistake in one
    function costs only that function.

    The experiment sends a random gradient back through PyTorch's autograd and compares
    the result with `B @ dL/dY.flatten()`.
    """, "convmat.conv1d_backward_matrix", """
    with needs("conv1d_backward_matrix"):
        B = student().conv1d_backward_matrix(W, 23, stride=3)
        X_torch = torch.from_numpy(X).requires_grad_()
        Y_torch = F.conv1d(X_torch[None], torch.from_numpy(W), stride=3)[0]
        dY = rng.standard_normal(tuple(Y_torch.shape))
        Y_torch.backward(torch.from_numpy(dY))
        print("B has shape", np.shape(B), "| expected", (X.size, dY.size))
        print("largest difference from autograd:", np.abs(B @ dY.flatten() - X_torch.grad.numpy().flatten()).max())
    """),
])


# --- the contest ------------------------------------------------------------------------------

CONTEST_SETUP = '''\
import csv
import os
import sys
import time
from pathlib import Path


def find_repo(start=None):
    """The nearest folder, from here upwards, that holds both grader/ and templates/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "grader").is_dir() and (folder / "templates").is_dir():
            return folder
    raise FileNotFoundError(f"no folder with grader/ and templates/ at or above {here}: "
                            "open this notebook from inside the course folder (your kit or the repository)")


REPO = find_repo()
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np
import torch
from torch import nn

from grader.data import contest_digits, load_digits
from grader.selfcheck import check_all

# Where your predictions go. Change it here, or set the environment variable STUDENT_FILE.
STUDENT_FILE = Path(os.environ.get("STUDENT_FILE", "predictions_mine.csv"))
if not STUDENT_FILE.is_absolute():
    STUDENT_FILE = REPO / STUDENT_FILE
print("Predictions will be written to", STUDENT_FILE)
'''

CONTEST = assemble("contest", [
    ("markdown", """
    # Assignment 3 contest: classify the contest digits

    Train any classifier you like on the shipped handwritten digits, then predict the
    digit shown in each of the 1,000 **contest images**. You get the images, not their
    labels: the grader keeps those and compares them with your predictions after the
    deadline.

    What you hand in: `predictions_<studentID>.csv` (on its own, or inside
    `<studentID>_assignment3.zip` at the top level), a text file like this:

    ```
    id,label
    0,7
    1,2
    ...
    ```

    - the first line is exactly `id,label`; then one row per contest image, in any order;
    - `id` is the image's id from `contest_digits()`, `label` a whole number from 0 to 9;
    - values are separated by commas (not semicolons), the file is plain text (UTF-8), at
      most 2 MiB.

    Scoring (10 points): the share of contest ids you label correctly. Ids without a row
    count as wrong; a second row for the same id, rows for unknown ids and rows that break
    the format are not counted. An accuracy of 0.5 or less earns 0 points, 0.8 or more
    earns all 10, and in between the points grow in proportion. The leaderboard ranks the
    class on a fixed part of the ids (the public part); the points and the final ranking
    use all of them.

    This notebook builds a simple baseline that already clears the bar, writes a valid
    predictions file and self-checks it. Self-check tells you whether the file is valid;
    it never tells you its accuracy. Estimate that yourself on a validation split, as
    below.
    """),
    ("code", CONTEST_SETUP),
    ("markdown", """
    ## The data

    `load_digits("train")` gives 4,000 labelled digits (float32 images of shape
    `(N, 1, 28, 28)` in [0, 1], integer labels). We keep the last 500 aside to estimate
    accuracy on digits the model did not train on. `contest_digits()` gives the contest
    images and their ids, without labels.
    """),
    ("code", """
    images, labels = load_digits("train")
    X_train, y_train = torch.from_numpy(images[:3500]), torch.from_numpy(labels[:3500])
    X_val, y_val = torch.from_numpy(images[3500:]), torch.from_numpy(labels[3500:])
    contest_ids, contest_images = contest_digits()
    print("training:", tuple(X_train.shape), "| validation:", tuple(X_val.shape),
          "| contest:", contest_images.shape, "ids", contest_ids[:5], "...")
    print("digits per class in training:", np.bincount(labels[:3500], minlength=10))
    """),
    ("markdown", """
    ## A baseline: one hidden layer

    A small fully connected network (784 -> 128 -> 10), trained with Adam on mini-batches
    for a few epochs. It takes a few seconds on a laptop CPU and reaches about 0.9 on the
    validation digits. The seed makes the run repeatable.
    """),
    ("code", """
    torch.manual_seed(0)
    torch.set_num_threads(1)    # a network this small trains fastest on one thread, even on a busy machine
    net = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    batches = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X_train, y_train),
                                          batch_size=64, shuffle=True)


    def accuracy(model, X, y):
        model.eval()
        with torch.no_grad():
            return (model(X).argmax(dim=1) == y).float().mean().item()


    started = time.perf_counter()
    for epoch in range(8):
        net.train()
        for X, y in batches:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(X), y)
            loss.backward()
            optimizer.step()
        print(f"epoch {epoch + 1}: validation accuracy {accuracy(net, X_val, y_val):.3f}")
    print(f"trained in {time.perf_counter() - started:.1f} s")
    """),
    ("markdown", """
    ## Write the predictions file

    One row per contest id, with the class the network scores highest. The `csv` module
    writes commas and plain line ends; any tool that writes the same text is fine.
    """),
    ("code", """
    net.eval()
    with torch.no_grad():
        predicted = net(torch.from_numpy(contest_images)).argmax(dim=1).numpy()

    with open(STUDENT_FILE, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "label"])
        writer.writerows(zip(contest_ids.tolist(), predicted.tolist()))
    print(f"wrote {len(predicted)} predictions to {STUDENT_FILE}")
    print("predicted digits per class:", np.bincount(predicted, minlength=10))
    """),
    ("markdown", """
    ## Self-check the file

    The grader's own reader checks the header, the ids and the labels, exactly as when it
    grades. A valid file says so; a broken one gets the reason (for example rows for ids
    that do not exist, or labels outside 0-9). Rename the file
    `predictions_<studentID>.csv` before you hand it in.
    """),
    ("code", """
    result = check_all("predictions", STUDENT_FILE, assignment="assignment3")
    display(result)
    print("File valid:", result.valid)
    """),
    ("markdown", """
    ## Doing better

    The baseline leaves room. Things worth trying, one at a time, each judged on the
    validation digits (never on the contest images):

    - a convolutional network (the LeNet of assignment 2 is a good start);
    - more epochs with a learning-rate schedule, or weight decay;
    - small shifts and rotations of the training digits (data augmentation);
    - training on all 4,000 digits once you have chosen your settings;
    - averaging the predictions of a few networks trained with different seeds.
    """),
])


NOTEBOOKS = {
    "answers_run.ipynb": ANSWERS,
    "convmat_run.ipynb": CONVMAT,
    "contest_run.ipynb": CONTEST,
}


def main() -> int:
    return write(NOTEBOOKS, HERE)


if __name__ == "__main__":
    sys.exit(main())
