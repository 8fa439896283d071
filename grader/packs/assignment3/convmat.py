"""Checks for convmat: one-sample 1-D convolution written as a matrix, forward and backward.

For ``W`` of shape (out_channels, in_channels, kernel), an input ``X`` of shape
(in_channels, in_width) and the output ``Y`` of shape (out_channels, out_width), the
student returns ``A`` with ``Y.flatten() == A @ X.flatten()`` and ``B`` with
``dL/dX.flatten() == B @ dL/dY.flatten()``. The references come from PyTorch: column i of
``A`` is ``torch.nn.functional.conv1d`` applied to the i-th unit input, and column j of
``B`` is what autograd sends back to ``X`` when ``dL/dY`` is the j-th unit vector (both
in references.py; the probes are in probes.py).
"""

from __future__ import annotations

import numpy as np

from ...assignment import Check
from ...judging.compare import compare_arrays
from . import references
from .common import case, rng
from .probes import out_width

# (out_channels, in_channels, kernel, stride, in_width)
VISIBLE_SIZES = [
    (2, 2, 3, 1, 4),  # the two-channel example of the handout
    (1, 1, 1, 1, 5),  # kernel 1, one channel
    (3, 2, 2, 2, 7),  # stride 2 does not divide in_width - kernel
    (2, 3, 3, 3, 11),  # stride 3 does not divide either
]
HIDDEN_EDGES = [
    (1, 1, 4, 1, 9),  # one channel in and out
    (4, 1, 2, 3, 10),  # one input channel, several outputs, stride 3
    (1, 4, 3, 2, 8),  # several inputs, one output
    (3, 3, 1, 2, 9),  # kernel 1 with a stride
    (2, 3, 5, 1, 5),  # kernel as wide as the input: out_width 1
    (3, 2, 2, 4, 13),  # stride larger than the kernel: inputs skipped
    (3, 3, 3, 2, 12),  # as many input as output channels
]
HIDDEN_RANDOM = 8
FLOAT32_SIZES = (2, 2, 4, 3, 15)


def draw_case(r: np.random.Generator, sizes: tuple[int, ...], dtype=np.float64) -> dict:
    cout, cin, kernel, stride, in_width = sizes
    return {"W": r.standard_normal((cout, cin, kernel)).astype(dtype), "in_width": in_width, "stride": stride}


def random_sizes(r: np.random.Generator) -> tuple[int, ...]:
    kernel = int(r.integers(1, 7))
    return (
        int(r.integers(1, 6)),
        int(r.integers(1, 6)),
        kernel,
        int(r.integers(1, 5)),
        int(r.integers(kernel, kernel + 15)),
    )


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
    return (
        f"W of shape ({cout}, {cin}, {kernel}) {W.dtype}, in_width={in_width}, stride={stride} "
        f"(out_width {out_width(in_width, kernel, stride)})"
    )


def matches(got, expected: np.ndarray) -> bool:
    return isinstance(got, np.ndarray) and got.shape == expected.shape and compare_arrays(got, expected) is None


def shape_hint(got, inputs: dict, what: str) -> str:
    """Why the shape might be off, for matrices of the wrong shape."""
    W, in_width, stride = inputs["W"], inputs["in_width"], inputs["stride"]
    cout, cin, kernel = W.shape
    wout = out_width(in_width, kernel, stride)
    swapped = (cin * wout, cout * in_width) if what == "A" else (cout * in_width, cin * wout)
    if isinstance(got, np.ndarray) and got.shape == swapped and cin != cout:
        return " (sized as if W were (in_channels, out_channels, kernel); W's first axis is the output channel)"
    rows = "out_channels * out_width" if what == "A" else "in_channels * in_width"
    columns = "in_channels * in_width" if what == "A" else "out_channels * out_width"
    return (
        f" ({what} has {rows} rows and {columns} columns, with out_width = (in_width - kernel) // stride + 1 = {wout})"
    )


class ForwardMatrix(Check):
    parts = {"shape": 2.0, "values, stride 1": 3.0, "values, stride > 1": 3.0}

    def cases(self):
        out = []
        for index, (visible, inputs) in enumerate(all_inputs("convmat.conv1d_matrix")):
            values = "values, stride 1" if inputs["stride"] == 1 else "values, stride > 1"
            out.append(case(index, visible, ("shape", values), inputs, label(inputs)))
        return out

    def reference(self, case):
        i = case.inputs
        return {
            "A": references.forward_matrix(i["W"], i["in_width"], i["stride"]),
            "mistakes": references.forward_mistakes(i),
        }

    def judge(self, case, output, reference):
        mistakes, reference = reference["mistakes"], reference["A"]
        got, what = output["A"], "conv1d_matrix(W, in_width, stride)"
        values_part = case.parts[1]
        if not matches(got, reference) and matches(got, reference.T):
            problem = (
                f"{what} returned A.T, the backward matrix; return A, of shape {reference.shape}, "
                "with Y.flatten() = A @ X.flatten()"
            )
            return {"shape": problem if got.shape != reference.shape else None, values_part: problem}
        problem = compare_arrays(got, reference, what)
        if problem is None:
            return {"shape": None, values_part: None}
        if not (isinstance(got, np.ndarray) and got.shape == reference.shape):
            if isinstance(got, np.ndarray):
                problem = f"{what} has shape {got.shape}, expected {reference.shape}" + shape_hint(
                    got, case.inputs, "A"
                )
            return {"shape": problem, values_part: problem}
        named = [text for text, wrong in mistakes if matches(got, wrong)]
        return {"shape": None, values_part: f"{what}: {named[0]}" if named else problem}


class BackwardMatrix(Check):
    # A student's B may be built from their own conv1d_matrix: it runs with the reference one,
    # so that a mistake in conv1d_matrix costs only conv1d_matrix.
    stand_ins = {"conv1d_matrix": "references"}
    parts = {"shape": 2.0, "values": 5.0}

    def cases(self):
        return [
            case(index, visible, tuple(self.parts), inputs, label(inputs))
            for index, (visible, inputs) in enumerate(all_inputs("convmat.conv1d_backward_matrix"))
        ]

    def reference(self, case):
        i = case.inputs
        return {
            "B": references.backward_matrix(i["W"], i["in_width"], i["stride"]),
            "mistakes": references.forward_mistakes(i),
        }

    def judge(self, case, output, reference):
        mistakes, reference = reference["mistakes"], reference["B"]
        got, what = output["B"], "conv1d_backward_matrix(W, in_width, stride)"
        A = reference.T
        if not matches(got, reference) and matches(got, A):
            problem = (
                f"{what} returned A, not A.T: B has shape {reference.shape}, and "
                "dL/dX.flatten() = A.T @ dL/dY.flatten()"
            )
            return {"shape": problem if got.shape != reference.shape else None, "values": problem}
        problem = compare_arrays(got, reference, what)
        if problem is None:
            return {"shape": None, "values": None}
        if not (isinstance(got, np.ndarray) and got.shape == reference.shape):
            if isinstance(got, np.ndarray):
                problem = f"{what} has shape {got.shape}, expected {reference.shape}" + shape_hint(
                    got, case.inputs, "B"
                )
            return {"shape": problem, "values": problem}
        named = [text for text, wrong in mistakes if matches(got, wrong.T)]
        return {"shape": None, "values": f"{what}: {named[0]} (B is A.T)" if named else problem}
