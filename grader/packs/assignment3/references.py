"""assignment3's references: the true values of the momentum answers and the convolution
matrices, computed here rather than stored.

Grader side: called in the grader's own process. The stand-in ``conv1d_matrix`` is also
sent to a child, as source text, when conv1d_backward_matrix has its turn (after
conv1d_matrix is done), so it uses nothing but NumPy and torch. The student kit has
none of this file.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .probes import out_width

Gradient = Callable[[float], float]

# --- answers: gradients of the two losses, and the momentum update --------------------------


def relu_l2_gradient(x: float, d: float, half: bool = True) -> Gradient:
    """dL/dw for y = max(0, w x) and the L2 divergence L = 1/2 (y - d)^2 (without the 1/2: twice that)."""
    scale = 1.0 if half else 2.0

    def gradient(w: float) -> float:
        z = w * x
        return scale * (z - d) * x if z > 0 else 0.0  # the ReLU passes no gradient where z <= 0

    return gradient


def logistic_cross_entropy_gradient(x: float, d: float) -> Gradient:
    """dL/dw for y = 1 / (1 + exp(-w x)) and L = -d log y - (1 - d) log(1 - y): (y - d) x."""

    def gradient(w: float) -> float:
        z = w * x
        y = 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))
        return (y - d) * x

    return gradient


def weights(gradient: Gradient, w_first: float, step_first: float, beta: float, eta: float, last: int) -> list[float]:
    """[w(1), w(2), ..., w(last)] under momentum, starting from w(1) and the step Δw(1) that led there.

    Each update is  Δw(k) = beta Δw(k-1) - eta dL/dw(w(k-1)),  w(k) = w(k-1) + Δw(k).
    """
    w, step = float(w_first), float(step_first)
    path = [w]
    for _ in range(last - 1):
        step = beta * step - eta * gradient(w)
        w = w + step
        path.append(w)
    return path


@dataclass(frozen=True)
class MomentumQuestion:
    """One question: which weight w(k) to report after momentum updates from a given state."""

    name: str  # the graded name, e.g. "Q1"
    gradient: Gradient  # dL/dw of the question's loss
    w_first: float  # w(1)
    step_first: float  # Δw(1), the step that led to w(1)
    beta: float
    eta: float
    asked: int  # k of the w(k) asked for (the check asks for the same)
    misreadings: tuple[tuple[str, Gradient], ...] = ()  # (what went wrong, the gradient it implies)

    def path(
        self, last: int, *, beta: float | None = None, step_first: float | None = None, gradient: Gradient | None = None
    ) -> list[float]:
        return weights(
            gradient or self.gradient,
            self.w_first,
            self.step_first if step_first is None else step_first,
            self.beta if beta is None else beta,
            self.eta,
            last,
        )


QUESTIONS = (
    # A ReLU unit y = max(0, w x) fitted to (x, d) = (0.5, 1) with the L2 divergence.
    MomentumQuestion(
        "Q1",
        relu_l2_gradient(0.5, 1.0),
        w_first=1.0,
        step_first=0.5,
        beta=0.9,
        eta=0.1,
        asked=167,
        misreadings=(
            (
                "the L2 divergence is 1/2 (y - d)^2; this value comes from (y - d)^2 without the 1/2",
                relu_l2_gradient(0.5, 1.0, half=False),
            ),
        ),
    ),
    # A logistic unit y = 1 / (1 + exp(-w x)) fitted to (x, d) = (-0.5, 1) with cross-entropy.
    MomentumQuestion(
        "Q2", logistic_cross_entropy_gradient(-0.5, 1.0), w_first=0.0, step_first=0.5, beta=0.9, eta=0.1, asked=167
    ),
)


def momentum_answer(name: str, asked: int) -> dict:
    """The true w(asked) of question ``name``, and the values typical slips give instead."""
    q = next(question for question in QUESTIONS if question.name == name)
    if q.asked != asked:
        raise ValueError(f"{name}: the check asks for w({asked}), the question's data for w({q.asked})")
    n = q.asked
    path = q.path(n + 1)
    misses = [
        ("the sign is wrong", -path[n - 1]),
        (f"this is w({n - 1}), one update short (w({n}) is {n - 1} updates after w(1))", path[n - 2]),
        (f"this is w({n + 1}), one update too many (w({n}) is {n - 1} updates after w(1))", path[n]),
        (
            "this is plain gradient descent: each step must also carry beta times the previous step",
            q.path(n, beta=0.0)[n - 1],
        ),
        (
            f"this starts from a standing start: the step that led to w(1) was {q.step_first:g}, not 0",
            q.path(n, step_first=0.0)[n - 1],
        ),
    ] + [(text, q.path(n, gradient=gradient)[n - 1]) for text, gradient in q.misreadings]
    return {"value": path[n - 1], "misses": [[text, value] for text, value in misses]}


# --- convmat: references, from PyTorch ------------------------------------------------------------------


def forward_matrix(W: np.ndarray, in_width: int, stride: int = 1) -> np.ndarray:
    """A: column i is torch's conv1d of the i-th unit input (one sample, flattened channel by channel)."""
    W = np.ascontiguousarray(W)
    cout, cin, kernel = W.shape
    size = cin * in_width
    units = torch.eye(size, dtype=torch.from_numpy(W).dtype).reshape(size, cin, in_width)
    with torch.no_grad():
        columns = F.conv1d(units, torch.from_numpy(W), stride=stride)  # (size, cout, out_width)
    return columns.reshape(size, -1).T.numpy().copy()


def backward_matrix(W: np.ndarray, in_width: int, stride: int = 1) -> np.ndarray:
    """B: column j is autograd's dL/dX when dL/dY is the j-th unit vector."""
    W = np.ascontiguousarray(W)
    cout, cin, kernel = W.shape
    size = cout * out_width(in_width, kernel, stride)
    weight = torch.from_numpy(W)
    X = torch.zeros(size, cin, in_width, dtype=weight.dtype, requires_grad=True)
    Y = F.conv1d(X, weight, stride=stride)
    Y.backward(torch.eye(size, dtype=weight.dtype).reshape(Y.shape))
    assert X.grad is not None  # backward() filled it
    return X.grad.reshape(size, -1).T.numpy().copy()


def conv1d_matrix(W, in_width, stride=1):
    """The conv1d_matrix a student's conv1d_backward_matrix is graded with (a stand-in: it
    runs in that child, once conv1d_matrix is done)."""
    return forward_matrix(np.asarray(W), int(in_width), int(stride))


# --- explaining a wrong matrix -------------------------------------------------------------------


def windows_matrix(W: np.ndarray, in_width: int, starts: list[int]) -> np.ndarray:
    """A matrix whose output position j reads the inputs from starts[j] on (used to name mistakes)."""
    cout, cin, kernel = W.shape
    A = np.zeros((cout * len(starts), cin * in_width), dtype=W.dtype)
    for o in range(cout):
        for j, start in enumerate(starts):
            for c in range(cin):
                A[o * len(starts) + j, c * in_width + start : c * in_width + start + kernel] = W[o, c]
    return A


def forward_mistakes(inputs: dict) -> list[tuple[str, np.ndarray]]:
    """Wrong versions of A that a typical slip produces, each with what went wrong."""
    W, in_width, stride = inputs["W"], inputs["in_width"], inputs["stride"]
    cout, cin, kernel = W.shape
    wout = out_width(in_width, kernel, stride)
    A = forward_matrix(W, in_width, stride)
    rows_by_position = A.reshape(cout, wout, -1).transpose(1, 0, 2).reshape(A.shape)
    columns_by_position = A.reshape(A.shape[0], cin, in_width).transpose(0, 2, 1).reshape(A.shape)
    mistakes = []
    if kernel > 1:
        mistakes.append(
            (
                "the kernel is flipped: conv1d slides W along the input as it is, without reversing it "
                "(cross-correlation, as in torch)",
                forward_matrix(W[:, :, ::-1], in_width, stride),
            )
        )
    if cin == cout > 1:
        mistakes.append(
            (
                "input and output channels are swapped: W[o, c] connects input channel c to output "
                "channel o (W has shape (out_channels, in_channels, kernel))",
                forward_matrix(W.transpose(1, 0, 2), in_width, stride),
            )
        )
    if stride > 1 and wout > 1:
        mistakes.append(
            (
                f"the stride is not applied: output position j reads the inputs from j * stride on, here j * {stride}",
                windows_matrix(W, in_width, list(range(wout))),
            )
        )
    if cout > 1 and wout > 1:
        mistakes.append(
            (
                "the rows are ordered position by position; Y.flatten() lists all positions of output "
                "channel 0, then of channel 1, ...",
                rows_by_position,
            )
        )
    if cin > 1:
        mistakes.append(
            (
                "the columns are ordered position by position; X.flatten() lists all positions of input "
                "channel 0, then of channel 1, ...",
                columns_by_position,
            )
        )
    return mistakes
