"""Checks for task4: the residual block and ResNet-18."""

from __future__ import annotations

import numpy as np

from ...judging.compare import network_tolerance
from .common import case, rng
from .nets import ArchitectureCheck

SHAPE = "output shape in every configuration"
IDENTITY = "identity shortcut: output values"
PROJECTION = "1x1-convolution shortcut: output values"


def shape_problem(output: dict, reference: dict, what: str) -> str | None:
    if output["error"]:
        return f"the forward pass failed: {output['error']}"
    got = output["out"]
    shape = tuple(got.shape) if isinstance(got, np.ndarray) else None
    if shape != reference["out"].shape:
        return f"{what} has shape {shape}, expected {reference['out'].shape}"
    return None


class Residual(ArchitectureCheck):
    parts = {SHAPE: 1.0, IDENTITY: 2.0, PROJECTION: 2.0}
    builder_name = "Residual(...)"
    solution_file = "task4.py"
    VISIBLE = [(3, 3, False, 1, (2, 3, 6, 6)), (3, 6, True, 2, (2, 3, 6, 6))]
    HIDDEN = [
        (4, 4, False, 1, (1, 4, 5, 5)),
        (5, 8, True, 2, (3, 5, 7, 7)),
        (4, 4, True, 1, (2, 4, 6, 6)),
        (2, 6, True, 3, (2, 2, 9, 8)),
    ]

    def cases(self):
        out = []
        for visible, rows in ((True, self.VISIBLE), (False, self.HIDDEN)):
            r = rng("task4.Residual", visible)
            for i, (cin, cout, use, strides, shape) in enumerate(rows):
                x = r.standard_normal(shape).astype(np.float32)
                parts = (SHAPE, PROJECTION if use else IDENTITY)
                label = f"Residual({cin}, {cout}, use_1x1conv={use}, strides={strides}) on input {shape}, training mode"
                out.append(case("residual", i, visible, parts, {"config": (cin, cout, use, strides), "x": x}, label))
        return out

    def build(self, source, inputs):
        cin, cout, use, strides = inputs["config"]
        return source.Residual(cin, cout, use_1x1conv=use, strides=strides)

    def judge(self, case, output, reference):
        _, values = self.structure_and_values(output, reference, "the block's output")
        got, expected = output.get("out"), reference["out"]
        if values and isinstance(got, np.ndarray) and got.shape == expected.shape and (got < 0).any():
            rtol, atol = network_tolerance(expected)
            if np.allclose(np.maximum(got, 0), expected, rtol=rtol, atol=atol):
                values = (
                    "the block's output has negative values where ReLU(main path + shortcut) has zeros: "
                    "the final ReLU, after adding the shortcut, is missing"
                )
        return {SHAPE: shape_problem(output, reference, "the block's output"), case.parts[1]: values}


PARAMS = "parameter count (11,178,378 for in_channels=1, num_classes=10)"
SHAPES = "output shape at 32x32 and 64x64"
VALUES = "output equals ResNet-18"


class GetResnet(ArchitectureCheck):
    parts = {PARAMS: 1.0, SHAPES: 1.0, VALUES: 3.0}
    builder_name = "get_resnet"
    solution_file = "task4.py"
    # (in_channels, num_classes) or None for the defaults, input shape, training mode.
    # Values are compared in training mode, where batch norm uses batch statistics: a
    # bias-free convolution before batch norm is then equivalent (only the parameter
    # count tells it apart), as it should be.
    # At 32x32 the last stage is 1x1, so its batch norm sees one value per example: a
    # batch of 4 keeps that well conditioned.
    # 64x64 leaves a 2x2 map before the global pool: a network that only works at 32x32 shows.
    VISIBLE = [(None, (4, 1, 32, 32), True), (None, (2, 1, 64, 64), True)]
    HIDDEN = [((3, 7), (3, 3, 40, 40), True), ((2, 5), (2, 2, 64, 64), True), ((1, 10), (3, 1, 33, 47), True)]

    def cases(self):
        out = []
        for visible, rows in ((True, self.VISIBLE), (False, self.HIDDEN)):
            r = rng("task4.get_resnet", visible)
            for i, (args, shape, train) in enumerate(rows):
                x = r.standard_normal(shape).astype(np.float32)
                call = "get_resnet()" if args is None else f"get_resnet{args}"
                mode = "training mode" if train else "eval mode"
                out.append(
                    case(
                        "resnet",
                        i,
                        visible,
                        tuple(self.parts),
                        {"args": args, "x": x, "train": train},
                        f"{call} on input {shape}, {mode}",
                    )
                )
        return out

    # One bug, one loss: get_resnet is built with the reference Residual, from the solution
    # (probes.py; where the student's get_resnet calls Residual in a way the reference does
    # not accept, it is built with their own, and the feedback says so).
    stand_ins = {"Residual": "solution"}

    def build(self, source, inputs):
        if inputs["args"] is None:
            return source.get_resnet()
        in_channels, num_classes = inputs["args"]  # defaults in the contract: passed by keyword
        return source.get_resnet(in_channels=in_channels, num_classes=num_classes)

    def train_mode(self, inputs):
        return inputs["train"]

    def judge(self, case, output, reference):
        _, values = self.structure_and_values(output, reference, "the network's output")
        block = output.get("block", "reference")
        if values and block != "reference":
            values += f" (built with {block})"
        params = None
        if output["parameters"] != reference["parameters"]:
            params = f"the network has {output['parameters']:,} parameters, expected {reference['parameters']:,}"
        return {PARAMS: params, SHAPES: shape_problem(output, reference, "the network's output"), VALUES: values}
