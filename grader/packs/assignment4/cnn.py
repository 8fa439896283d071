"""Checks for cnn: sizes, receptive fields, parameter counts and batch-norm statistics.

The student's functions are plain integer arithmetic; every expected value (references.py)
comes from PyTorch itself instead of the same formulas: the output length of
``F.conv1d`` on a zero input, the input positions that autograd says one output unit
depends on, the parameter count of ``nn.Conv2d`` and of residual blocks built from
``nn.Conv2d``/``nn.BatchNorm2d`` (on the meta device: no memory, no time), and the shape
of the running mean of ``nn.BatchNorm1d``/``nn.BatchNorm2d`` after one training step.
"""

from __future__ import annotations

from typing import Any

from ...assignment import Check
from ...wire import Opaque, describe_type
from . import references
from .common import case, expect_value_error, is_int, raised_text

# --- judging integers -------------------------------------------------------------------------


def int_problem(got: dict, expected: int, what: str) -> str | None:
    """``got`` from :func:`outcome` against an expected int."""
    if "raised" in got:
        return f"{what} {raised_text(got)}; expected {expected}"
    value = got["value"]
    if isinstance(value, float) and value == expected:
        return f"{what} returned {value!r}, a float; return an int ({expected})"
    if not is_int(value):
        shown = describe_type(value) if isinstance(value, Opaque) else f"{value!r} ({type(value).__name__})"
        return f"{what} returned {shown}; expected the int {expected}"
    if value != expected:
        return f"{what} returned {value}, expected {expected}"
    return None


def call_text(name: str, args: tuple, kwargs: dict) -> str:
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


class IntCheck(Check):
    """Base: a function of a few ints; the grader passes defaults by keyword.

    ``ROWS`` are (visible, part or parts, args, kwargs); subclasses give ``name`` and
    ``expected``.
    """

    name = ""
    ROWS: list[tuple[bool, str | tuple[str, ...], tuple, dict]] = []

    def cases(self):
        return [
            case(
                i,
                visible,
                (parts,) if isinstance(parts, str) else parts,
                {"args": args, "kwargs": kwargs},
                call_text(self.name, args, kwargs),
            )
            for i, (visible, parts, args, kwargs) in enumerate(self.ROWS)
        ]

    def reference(self, case):
        return {"value": self.expected(*case.inputs["args"], **case.inputs["kwargs"]), "slips": self.slips(case)}

    def expected(self, *args, **kwargs) -> Any:
        raise NotImplementedError

    def slips(self, case) -> list[tuple[int, str]]:
        """Values typical slips give on this case, each with what went wrong (part of the reference)."""
        return []

    def judge(self, case, output, reference):
        what, expected = case.label, reference["value"]
        if expected is None:
            problem = expect_value_error(output, what)
        else:
            problem = int_problem(output, expected, what)
            if problem and "raised" not in output:
                problem = self.hint(case, output["value"], expected, problem)
                for other, text in reference["slips"]:
                    if output["value"] == other:
                        problem = f"{problem}: {text}"
                        break
        return {part: problem for part in case.parts}

    def hint(self, case, value: Any, expected: int, problem: str) -> str:
        return problem


# --- the checks ----------------------------------------------------------------------------------

PLAIN, STRIDED, NOFIT = (
    "stride 1 and no padding",
    "with a stride and/or padding",
    "ValueError when the kernel does not fit",
)


class ConvOutputSize(IntCheck):
    name = "conv_output_size"
    parts = {PLAIN: 0.5, STRIDED: 1.0, NOFIT: 0.5}
    ROWS = [
        (True, PLAIN, (256, 3), {}),
        (True, STRIDED, (255, 5), {"stride": 3}),
        (True, STRIDED, (32, 3), {"padding": 1}),
        (True, NOFIT, (4, 5), {}),
        (False, PLAIN, (7, 7), {}),
        (False, PLAIN, (10, 1), {}),
        (False, STRIDED, (100, 4), {"stride": 3, "padding": 1}),
        (False, STRIDED, (13, 3), {"stride": 2, "padding": 0}),
        (False, STRIDED, (224, 11), {"stride": 4, "padding": 2}),
        (False, STRIDED, (5, 6), {"stride": 1, "padding": 1}),  # fits only thanks to the padding
        (False, STRIDED, (9, 2), {"stride": 2}),
        (False, STRIDED, (1, 1), {"stride": 5, "padding": 0}),
        (False, STRIDED, (28, 5), {"stride": 1, "padding": 2}),
        (False, NOFIT, (5, 8), {"stride": 1, "padding": 1}),
        (False, NOFIT, (2, 3), {"stride": 2}),
    ]

    def expected(self, size, kernel, stride=1, padding=0):
        return references.output_size(size, kernel, stride, padding)

    def hint(self, case, value, expected, problem):
        size, kernel = case.inputs["args"]
        stride = case.inputs["kwargs"].get("stride", 1)
        padding = case.inputs["kwargs"].get("padding", 0)
        if padding and value == (size + padding - kernel) // stride + 1:
            return problem + " (the padding goes on both sides: size + 2 * padding)"
        if stride > 1 and value == -(-(size + 2 * padding - kernel) // stride) + 1:
            return problem + " (rounded up: only windows that fit entirely count, so round down)"
        return problem


ODD, EVEN = "odd kernels", "ValueError for an even kernel"


class SamePadding(IntCheck):
    name = "same_padding"
    parts = {ODD: 0.5, EVEN: 0.5}
    ROWS = [
        (True, ODD, (3,), {}),
        (True, ODD, (5,), {}),
        (True, EVEN, (4,), {}),
        (False, ODD, (1,), {}),
        (False, ODD, (7,), {}),
        (False, ODD, (11,), {}),
        (False, EVEN, (2,), {}),
        (False, EVEN, (6,), {}),
    ]

    def expected(self, kernel):
        return references.same_padding(kernel)


NO_STRIDE, WITH_STRIDE = "stride-1 layers", "strided convolutions and pools"


class ReceptiveField(IntCheck):
    name = "receptive_field"
    parts = {NO_STRIDE: 1.0, WITH_STRIDE: 2.0}
    ROWS = [
        (True, NO_STRIDE, ([(3, 1)],), {}),
        (True, NO_STRIDE, ([(3, 1), (3, 1)],), {}),
        (True, WITH_STRIDE, ([(3, 1), (5, 3), (2, 2), (3, 1)],), {}),  # the handout's network, one axis
        (True, WITH_STRIDE, ([(3, 1), (2, 2), (3, 1), (2, 2)],), {}),
        (False, NO_STRIDE, ([(5, 1), (5, 1), (5, 1)],), {}),
        (False, NO_STRIDE, ([(1, 1)],), {}),
        (False, NO_STRIDE, ([(7, 1), (1, 1), (3, 1), (2, 1)],), {}),
        (False, WITH_STRIDE, ([(7, 2), (3, 2)],), {}),
        (False, WITH_STRIDE, ([(2, 2)] * 5,), {}),
        (False, WITH_STRIDE, ([(4, 4), (3, 1)],), {}),
        (False, WITH_STRIDE, ([(3, 2), (3, 1), (3, 1)],), {}),
        (False, WITH_STRIDE, ([(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)],), {}),
        (
            False,
            WITH_STRIDE,
            ([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2)],),
            {},
        ),  # VGG-11 along one axis
    ]

    def expected(self, layers):
        return references.receptive_field(layers)

    def hint(self, case, value, expected, problem):
        layers = case.inputs["args"][0]
        if value == 1 + sum(k - 1 for k, _ in layers):
            return (
                problem + " (the strides are ignored: each layer's kernel spans more input positions "
                "when the layers below it have strides)"
            )
        return problem


SQUARE, PAIR, NO_BIAS = "square kernel (an int)", "rectangular kernel (a (kh, kw) pair)", "bias=False"


class ConvParams(IntCheck):
    name = "conv_params"
    parts = {SQUARE: 1.0, PAIR: 0.5, NO_BIAS: 0.5}
    ROWS = [
        (True, SQUARE, (3, 64, 3), {}),
        (True, PAIR, (1, 6, (5, 3)), {}),
        (True, NO_BIAS, (64, 128, 3), {"bias": False}),
        (False, SQUARE, (1, 1, 1), {}),
        (False, SQUARE, (16, 32, 5), {"bias": True}),
        (False, SQUARE, (7, 3, 2), {}),
        (False, PAIR, (3, 8, (1, 7)), {}),
        (False, PAIR, (5, 2, (4, 2)), {"bias": True}),
        (False, NO_BIAS, (512, 512, 3), {"bias": False}),
        (False, NO_BIAS, (7, 5, 1), {"bias": False}),
        (False, PAIR, (8, 4, (3, 2)), {"bias": True}),
        (True, PAIR, (3, 2, (1, 5)), {}),
    ]

    def expected(self, in_channels, out_channels, kernel, bias=True):
        return references.conv_params(in_channels, out_channels, kernel, bias)

    def hint(self, case, value, expected, problem):
        cin, cout, kernel = case.inputs["args"]
        bias = case.inputs["kwargs"].get("bias", True)
        kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
        if value == cout * kh * kw + (cout if bias else 0):
            return problem + " (each output channel has one kernel per input channel: multiply by in_channels)"
        if not bias and value == expected + cout:
            return problem + " (with bias=False there is no bias to count)"
        return problem


BASIC, BOTTLENECK = "basic block (two 3x3 convolutions)", "bottleneck block (1x1, 3x3, 1x1)"


class ResidualBlockParams(IntCheck):
    name = "residual_block_params"
    parts = {BASIC: 2.0, BOTTLENECK: 2.0}
    # residual_block_params may use conv_params: it runs with the reference one, so that a
    # mistake in conv_params costs only conv_params.
    stand_ins = {"conv_params": "references"}
    ROWS = [
        (visible, BOTTLENECK if bottleneck else BASIC, (channels,), {"bottleneck": bottleneck})
        for visible, channels, bottleneck in [
            (True, 64, False),
            (True, 64, True),
            (False, 32, False),
            (False, 128, True),
            (False, 128, False),
            (False, 32, True),
            (False, 256, True),
            (False, 12, False),
            (False, 12, True),
            (False, 20, True),
        ]
    ]

    def expected(self, channels, bottleneck=False):
        return references.block_params(channels, bottleneck)

    def slips(self, case):
        (channels,) = case.inputs["args"]
        return references.block_params_slips(channels, case.inputs["kwargs"]["bottleneck"])


NC, IMAGES, BAD_LAYOUT = (
    "NC input (a fully connected layer)",
    "NCHW and NHWC inputs (convolutions)",
    "ValueError for an unknown or mismatched layout",
)


class BnStatShape(Check):
    parts = {NC: 1.0, IMAGES: 1.5, BAD_LAYOUT: 0.5}
    ROWS = [
        (True, NC, (128, 10), "NC"),
        (True, IMAGES, (4, 3, 5, 7), "NCHW"),
        (True, IMAGES, (4, 5, 7, 3), "NHWC"),
        (True, BAD_LAYOUT, (4, 3, 5), "NCHW"),
        (False, NC, (2, 7), "NC"),
        (False, NC, (5, 64), "NC"),
        (False, IMAGES, (2, 16, 3, 3), "NCHW"),
        (False, IMAGES, (3, 2, 6, 5), "NCHW"),
        (False, IMAGES, (2, 16, 16, 32), "NHWC"),
        (False, IMAGES, (5, 3, 4, 6), "NHWC"),
        (False, BAD_LAYOUT, (4, 3, 5), "NHW"),
        (False, BAD_LAYOUT, (6, 4, 3, 2), "NC"),
        (False, BAD_LAYOUT, (6, 4), "NHWC"),
    ]

    def cases(self):
        return [
            case(i, visible, (part,), {"shape": shape, "layout": layout}, f"bn_stat_shape({shape}, {layout!r})")
            for i, (visible, part, shape, layout) in enumerate(self.ROWS)
        ]

    def reference(self, case):
        return references.stat_shape(case.inputs["shape"], case.inputs["layout"])

    def judge(self, case, output, reference):
        what = case.label
        if reference is None:
            return {case.parts[0]: expect_value_error(output, what)}
        expected = tuple(reference)
        if "raised" in output:
            return {case.parts[0]: f"{what} {raised_text(output)}; expected {expected}"}
        value = output["value"]
        if isinstance(value, list) and all(is_int(v) for v in value) and tuple(value) == expected:
            return {case.parts[0]: f"{what} returned the list {value}; return a tuple {expected}"}
        if not (isinstance(value, tuple) and all(is_int(v) for v in value)):
            shown = describe_type(value) if isinstance(value, Opaque) else repr(value)
            return {case.parts[0]: f"{what} returned {shown}; expected a tuple of ints {expected}"}
        if value == expected:
            return {case.parts[0]: None}
        return {case.parts[0]: f"{what} returned {value}, expected {expected}" + self.hint(case.inputs, value)}

    @staticmethod
    def hint(inputs: dict, value: tuple) -> str:
        shape, layout = tuple(inputs["shape"]), inputs["layout"]
        channel = layout.index("C")
        kept = tuple(s if i == channel else 1 for i, s in enumerate(shape))
        per_position = tuple(s for i, s in enumerate(shape) if i != 0)
        if value == kept:
            return " (the reduced axes are kept as 1s; batch norm's mean is one number per channel: (C,))"
        if value == (shape[0],):
            return " (one value per example is what layer norm computes; batch norm averages over the batch)"
        if len(shape) == 4 and value == per_position:
            return " (statistics per position; for images batch norm shares one mean per channel over N, H and W)"
        if layout == "NHWC" and value == (shape[1],):
            return " (in NHWC the channels are the last axis)"
        return ""
