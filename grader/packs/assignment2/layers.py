"""Checks for layers.Conv1D: forward and backward against torch.nn.functional.conv1d
(probes: probes.py; references: references.py).

Like the CMU 11-785 check this pack learned from, each trial draws random sizes
(channels 5-14, kernel and stride 1-9, batch 1-3, width 20-299), copies the same W and b
into the student's layer and into PyTorch (float64), and compares y, dx, dW and db.
"""

from __future__ import annotations

import numpy as np

from ...assignment import Check
from ...judging.compare import compare_arrays, tolerance
from . import references
from .common import case, rng

HIDDEN_TRIALS = 15


def trial(
    r: np.random.Generator, batch: int, cin: int, cout: int, kernel: int, stride: int, width: int, dtype=np.float64
) -> dict:
    return {
        "sizes": (batch, cin, cout, kernel, stride, width),
        "x": r.standard_normal((batch, cin, width)).astype(dtype),
        "W": r.standard_normal((cout, cin, kernel)).astype(dtype),
        "b": r.standard_normal(cout).astype(dtype),
        "delta": r.standard_normal((batch, cout, (width - kernel) // stride + 1)).astype(dtype),
    }


def random_trial(r: np.random.Generator) -> dict:
    kernel = int(r.integers(1, 10))
    return trial(
        r,
        int(r.integers(1, 4)),
        int(r.integers(5, 15)),
        int(r.integers(5, 15)),
        kernel,
        int(r.integers(1, 10)),
        int(r.integers(max(20, kernel), 300)),
    )


def label(inputs: dict) -> str:
    batch, cin, cout, kernel, stride, width = inputs["sizes"]
    return (
        f"batch={batch}, in_channel={cin}, out_channel={cout}, kernel_size={kernel}, stride={stride}, "
        f"in_width={width}, {inputs['x'].dtype}"
    )


VISIBLE_SIZES = [(2, 3, 4, 3, 1, 10), (1, 2, 3, 1, 1, 5), (2, 3, 2, 3, 2, 11), (3, 4, 5, 4, 3, 20)]


def all_trials(key: str) -> list[tuple[bool, dict]]:
    r = rng(key, True)
    out = [(True, trial(r, *sizes)) for sizes in VISIBLE_SIZES]
    r = rng(key, False)
    out += [(False, random_trial(r)) for _ in range(HIDDEN_TRIALS)]
    # Edge cases: kernel as wide as the input, stride larger than the kernel, float32.
    out.append((False, trial(r, 2, 3, 4, 7, 1, 7)))
    out.append((False, trial(r, 1, 6, 5, 2, 7, 40)))
    out.append((False, trial(r, 2, 5, 6, 3, 2, 31, np.float32)))
    return out


def _bias_mistakes(cin: int, kernel: int) -> dict[int, str]:
    """How many times a misplaced bias lands in each output entry -> what the mistake is."""
    places: dict[int, list[str]] = {}
    for count, where in (
        (cin, "once per input channel"),
        (kernel, "once per kernel tap"),
        (cin * kernel, "inside the sum over channels and taps"),
    ):
        if count > 1:
            places.setdefault(count, []).append(where)
    found = {0: "the bias is missing (it belongs once in every output entry)"}
    found.update(
        {
            count: f"the bias is added {count} times instead of once ({' or '.join(where)})"
            for count, where in places.items()
        }
    )
    found.setdefault(2, "the bias is added twice")
    return found


def diagnose_forward(got, inputs: dict, reference: dict) -> str | None:
    """One line naming a classic Conv1D forward mistake this output shows, if it shows one.

    ``reference`` holds the right output ``y`` and what the classic mistakes give
    (:func:`references.conv_mistakes`)."""
    expected = reference["y"]
    if not isinstance(got, np.ndarray) or got.ndim != 3:
        return None
    _, cin, cout, kernel, stride, width = inputs["sizes"]
    b = inputs["b"]
    if got.shape[:2] == expected.shape[:2] and abs(got.shape[2] - expected.shape[2]) == 1:
        return (
            f"the output width is {got.shape[2]}, off by one: (in_width - kernel_size) // stride + 1 = "
            f"({width} - {kernel}) // {stride} + 1 = {expected.shape[2]}"
        )
    if stride > 1 and got.shape == tuple(reference["mistakes"]["unstrided_shape"]):
        return "the stride is ignored: the output has the width of a stride-1 convolution"
    if got.shape != expected.shape:
        return None
    rtol, atol = tolerance(got, expected)

    def same(candidate: np.ndarray) -> bool:
        return np.allclose(got, candidate, rtol=rtol, atol=max(atol, 1e-9 * np.abs(candidate).max()))

    plain = expected - b[None, :, None]
    for count, message in _bias_mistakes(cin, kernel).items():
        if same(plain + count * b[None, :, None]):
            return message
    flipped, swapped = reference["mistakes"]["flipped"], reference["mistakes"]["swapped"]
    if flipped is not None and same(flipped):
        return (
            "the kernel is flipped: this layer, like torch.nn.Conv1d, computes a cross-correlation, "
            "sum_c sum_k W[o, c, k] * x[c, t*stride + k], without reversing W"
        )
    if swapped is not None and same(swapped):
        return "W's channel axes are swapped: W[o, c, k] is out_channel o, in_channel c"
    return None


class Forward(Check):
    parts = {"stride 1": 2.0, "stride > 1": 3.0}

    def cases(self):
        out = []
        for index, (visible, inputs) in enumerate(all_trials("layers.Conv1D.forward")):
            part = "stride 1" if inputs["sizes"][4] == 1 else "stride > 1"
            out.append(case("conv-fwd", index, visible, (part,), inputs, label(inputs)))
        return out

    def reference(self, case):
        return {"y": references.conv_outputs(case.inputs)["y"], "mistakes": references.conv_mistakes(case.inputs)}

    def judge(self, case, output, reference):
        problem = compare_arrays(output["y"], reference["y"], "forward(x)")
        named = diagnose_forward(output["y"], case.inputs, reference) if problem else None
        if named:
            problem = named
        elif problem and "shape" in problem and isinstance(output["y"], np.ndarray):
            problem += f" (output width is (in_width - kernel_size) // stride + 1 = {reference['y'].shape[-1]})"
        return {part: problem for part in case.parts}


class Backward(Check):
    parts = {"dx": 4.0, "dW": 3.0, "db": 3.0}

    def cases(self):
        return [
            case("conv-bwd", i, visible, tuple(self.parts), inputs, label(inputs))
            for i, (visible, inputs) in enumerate(all_trials("layers.Conv1D.backward"))
        ]

    def reference(self, case):
        return references.conv_outputs(case.inputs)

    def judge(self, case, output, reference):
        batch = case.inputs["sizes"][0]
        verdicts = {}
        for name in ("dx", "dW", "db"):
            what = "backward(delta)" if name == "dx" else f"self.{name}"
            problem = compare_arrays(output[name], reference[name], what)
            got = output[name]
            if (
                problem
                and name != "dx"
                and batch > 1
                and isinstance(got, np.ndarray)
                and got.shape == reference[name].shape
                and np.allclose(got * batch, reference[name], rtol=1e-6, atol=1e-10)
            ):
                problem = f"{what} is averaged over the batch; it should be the sum"
            verdicts[name] = problem
        return verdicts
