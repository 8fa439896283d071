"""Checks for convmat: one-sample 1-D convolution written as a matrix, forward and backward.

For ``W`` of shape (out_channels, in_channels, kernel), an input ``X`` of shape
(in_channels, in_width) and the output ``Y`` of shape (out_channels, out_width), the
student returns ``A`` with ``Y.flatten() == A @ X.flatten()`` and ``B`` with
``dL/dX.flatten() == B @ dL/dY.flatten()``. The references come from PyTorch: column i of
``A`` is ``torch.nn.functional.conv1d`` applied to the i-th unit input, and column j of
``B`` is what autograd sends back to ``X`` when ``dL/dY`` is the j-th unit vector.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ...assignment import Check
from ...compare import compare_arrays
from ..toolkit import substituted
from .common import case, rng

# (out_channels, in_channels, kernel, stride, in_width)
VISIBLE_SIZES = [
    (2, 2, 3, 1, 4),      # the two-channel example of the handout
    (1, 1, 1, 1, 5),      # kernel 1, one channel
    (3, 2, 2, 2, 7),      # stride 2 does not divide in_width - kernel
    (2, 3, 3, 3, 11),     # stride 3 does not divide either
]
HIDDEN_EDGES = [
    (1, 1, 4, 1, 9),      # one channel in and out
    (4, 1, 2, 3, 10),     # one input channel, several outputs, stride 3
    (1, 4, 3, 2, 8),      # several inputs, one output
    (3, 3, 1, 2, 9),      # kernel 1 with a stride
    (2, 3, 5, 1, 5),      # kernel as wide as the input: out_width 1
    (3, 2, 2, 4, 13),     # stride larger than the kernel: inputs skipped
    (3, 3, 3, 2, 12),     # as many input as output channels
]
HIDDEN_RANDOM = 8
FLOAT32_SIZES = (2, 2, 4, 3, 15)


def out_width(in_width: int, kernel: int, stride: int) -> int:
    return (in_width - kernel) // stride + 1


def draw_case(r: np.random.Generator, sizes: tuple[int, ...], dtype=np.float64) -> dict:
    cout, cin, kernel, stride, in_width = sizes
    return {"W": r.standard_normal((cout, cin, kernel)).astype(dtype), "in_width": in_width, "stride": stride}


def random_sizes(r: np.random.Generator) -> tuple[int, ...]:
    kernel = int(r.integers(1, 7))
    return (int(r.integers(1, 6)), int(r.integers(1, 6)), kernel, int(r.integers(1, 5)),
            int(r.integers(kernel, kernel + 15)))


def all_inputs(key: str) -> list[tuple[bool, dict]]:
    r = rng(key, True)
    out = [(True, draw_case(r, sizes)) for sizes in VISIBLE_SIZES]
    r = rng(key, False)
    out += [(False, draw_case(r, sizes)) for sizes in HIDDEN_EDGES]
    out += [(False, draw_case(r, random_sizes(r))) for _ in range(HIDDEN_RANDOM)]
    out.append((False, draw_case(r, FLOAT32_SIZES, np.float32)))
    return out


def label(inputs: dict) -> str:
    W, in_width, stride = inputs["W"], inputs["in_width"], inputs["stride"]
    cout, cin, kernel = W.shape
    return (f"W of shape ({cout}, {cin}, {kernel}) {W.dtype}, in_width={in_width}, stride={stride} "
            f"(out_width {out_width(in_width, kernel, stride)})")


# --- references, from PyTorch ------------------------------------------------------------------

def forward_matrix(W: np.ndarray, in_width: int, stride: int = 1) -> np.ndarray:
    """A: column i is torch's conv1d of the i-th unit input (one sample, flattened channel by channel)."""
    W = np.ascontiguousarray(W)
    cout, cin, kernel = W.shape
    size = cin * in_width
    units = torch.eye(size, dtype=torch.from_numpy(W).dtype).reshape(size, cin, in_width)
    with torch.no_grad():
        columns = F.conv1d(units, torch.from_numpy(W), stride=stride)      # (size, cout, out_width)
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
    return X.grad.reshape(size, -1).T.numpy().copy()


def oracle_conv1d_matrix(W, in_width, stride=1):
    """The conv1d_matrix a student's conv1d_backward_matrix is graded with (runs in the child)."""
    return forward_matrix(np.asarray(W), int(in_width), int(stride))


# --- explaining a wrong matrix -------------------------------------------------------------------

def windows_matrix(W: np.ndarray, in_width: int, starts: list[int]) -> np.ndarray:
    """A matrix whose output position j reads the inputs from starts[j] on (used to name mistakes)."""
    cout, cin, kernel = W.shape
    A = np.zeros((cout * len(starts), cin * in_width), dtype=W.dtype)
    for o in range(cout):
        for j, start in enumerate(starts):
            for c in range(cin):
                A[o * len(starts) + j, c * in_width + start: c * in_width + start + kernel] = W[o, c]
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
        mistakes.append(("the kernel is flipped: conv1d slides W along the input as it is, without reversing it "
                         "(cross-correlation, as in torch)", forward_matrix(W[:, :, ::-1], in_width, stride)))
    if cin == cout > 1:
        mistakes.append(("input and output channels are swapped: W[o, c] connects input channel c to output "
                         "channel o (W has shape (out_channels, in_channels, kernel))",
                         forward_matrix(W.transpose(1, 0, 2), in_width, stride)))
    if stride > 1 and wout > 1:
        mistakes.append((f"the stride is not applied: output position j reads the inputs from j * stride on, "
                         f"here j * {stride}", windows_matrix(W, in_width, list(range(wout)))))
    if cout > 1 and wout > 1:
        mistakes.append(("the rows are ordered position by position; Y.flatten() lists all positions of output "
                         "channel 0, then of channel 1, ...", rows_by_position))
    if cin > 1:
        mistakes.append(("the columns are ordered position by position; X.flatten() lists all positions of input "
                         "channel 0, then of channel 1, ...", columns_by_position))
    return mistakes


def matches(got, expected: np.ndarray) -> bool:
    return isinstance(got, np.ndarray) and got.shape == expected.shape and compare_arrays(got, expected) is None


def shape_hint(got, inputs: dict, what: str) -> str:
    """Why the shape might be off, for matrices of the wrong shape."""
    W, in_width, stride = inputs["W"], inputs["in_width"], inputs["stride"]
    cout, cin, kernel = W.shape
    wout = out_width(in_width, kernel, stride)
    swapped = (cin * wout, cout * in_width) if what == "A" else (cout * in_width, cin * wout)
    if isinstance(got, np.ndarray) and got.shape == swapped and cin != cout:
        return (" (sized as if W were (in_channels, out_channels, kernel); W's first axis is the output "
                "channel)")
    rows = "out_channels * out_width" if what == "A" else "in_channels * in_width"
    columns = "in_channels * in_width" if what == "A" else "out_channels * out_width"
    return (f" ({what} has {rows} rows and {columns} columns, with out_width = (in_width - kernel) // stride + 1 "
            f"= {wout})")


class ForwardMatrix(Check):
    parts = {"shape": 2.0, "values, stride 1": 3.0, "values, stride > 1": 3.0}

    def cases(self):
        out = []
        for index, (visible, inputs) in enumerate(all_inputs("convmat.conv1d_matrix")):
            values = "values, stride 1" if inputs["stride"] == 1 else "values, stride > 1"
            out.append(case(index, visible, ("shape", values), inputs, label(inputs)))
        return out

    def probe(self, module, inputs):
        return {"A": module.conv1d_matrix(inputs["W"].copy(), inputs["in_width"], stride=inputs["stride"])}

    def reference(self, case):
        i = case.inputs
        return forward_matrix(i["W"], i["in_width"], i["stride"])

    def judge(self, case, output, reference):
        got, what = output["A"], "conv1d_matrix(W, in_width, stride)"
        values_part = case.parts[1]
        if not matches(got, reference) and matches(got, reference.T):
            problem = (f"{what} returned A.T, the backward matrix; return A, of shape {reference.shape}, "
                       "with Y.flatten() = A @ X.flatten()")
            return {"shape": problem if got.shape != reference.shape else None, values_part: problem}
        problem = compare_arrays(got, reference, what)
        if problem is None:
            return {"shape": None, values_part: None}
        if not (isinstance(got, np.ndarray) and got.shape == reference.shape):
            if isinstance(got, np.ndarray):
                problem = (f"{what} has shape {got.shape}, expected {reference.shape}"
                           + shape_hint(got, case.inputs, "A"))
            return {"shape": problem, values_part: problem}
        named = [text for text, wrong in forward_mistakes(case.inputs) if matches(got, wrong)]
        return {"shape": None, values_part: f"{what}: {named[0]}" if named else problem}


class BackwardMatrix(Check):
    parts = {"shape": 2.0, "values": 5.0}

    def cases(self):
        return [case(index, visible, tuple(self.parts), inputs, label(inputs))
                for index, (visible, inputs) in enumerate(all_inputs("convmat.conv1d_backward_matrix"))]

    def probe(self, module, inputs):
        # A student's B may be built from their own conv1d_matrix; it gets a correct one, so that
        # a mistake in conv1d_matrix costs only conv1d_matrix.
        with substituted(module, conv1d_matrix=oracle_conv1d_matrix):
            return {"B": module.conv1d_backward_matrix(inputs["W"].copy(), inputs["in_width"], stride=inputs["stride"])}

    def reference(self, case):
        i = case.inputs
        return backward_matrix(i["W"], i["in_width"], i["stride"])

    def judge(self, case, output, reference):
        got, what = output["B"], "conv1d_backward_matrix(W, in_width, stride)"
        A = reference.T
        if not matches(got, reference) and matches(got, A):
            problem = (f"{what} returned A, not A.T: B has shape {reference.shape}, and "
                       "dL/dX.flatten() = A.T @ dL/dY.flatten()")
            return {"shape": problem if got.shape != reference.shape else None, "values": problem}
        problem = compare_arrays(got, reference, what)
        if problem is None:
            return {"shape": None, "values": None}
        if not (isinstance(got, np.ndarray) and got.shape == reference.shape):
            if isinstance(got, np.ndarray):
                problem = (f"{what} has shape {got.shape}, expected {reference.shape}"
                           + shape_hint(got, case.inputs, "B"))
            return {"shape": problem, "values": problem}
        named = [text for text, wrong in forward_mistakes(case.inputs) if matches(got, wrong.T)]
        return {"shape": None, "values": f"{what}: {named[0]} (B is A.T)" if named else problem}
