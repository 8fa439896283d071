"""Checks for task3: LeNet-5 and its training loop."""

from __future__ import annotations

import math

import numpy as np
from torch import nn

from ...data import load_digits
from ...judging.compare import as_float
from ...judging.torchtools import analyse_training
from ...wire import describe_type
from .common import case, rng
from .nets import ArchitectureCheck, TrainingCheck, compare_losses

LENET_PARAMETERS = 61_706
# LeNet-5 as the contract declares it; training checks hand this network to train_cnn.
LENET_CHAIN = [
    ("Conv2d", 1, 6, 5, {"padding": 2}),
    ("Sigmoid",),
    ("AvgPool2d", 2, 2),
    ("Conv2d", 6, 16, 5),
    ("Sigmoid",),
    ("AvgPool2d", 2, 2),
    ("Flatten",),
    ("Linear", 400, 120),
    ("Sigmoid",),
    ("Linear", 120, 84),
    ("Sigmoid",),
    ("Linear", 84, 10),
]


class GetLenet(ArchitectureCheck):
    parts = {
        "Conv2d and Linear layers of LeNet-5 (61,706 parameters)": 2.0,
        "output equals LeNet-5 (sigmoid, average pooling)": 3.0,
    }
    builder_name = "get_lenet"
    solution_file = "task3.py"

    def cases(self):
        digits, _ = load_digits("test", 12)
        r = rng("task3.get_lenet", False)
        rows = [
            (True, digits[:4], "4 digits of shape (1, 28, 28)"),
            (False, r.standard_normal((1, 1, 28, 28)).astype(np.float32), "1 random image"),
            (False, digits[4:11], "7 digits"),
        ]
        return [
            case("lenet", i, visible, tuple(self.parts), {"x": x}, label) for i, (visible, x, label) in enumerate(rows)
        ]

    def build(self, source, inputs):
        return source.get_lenet()

    def variants(self, case):
        def swap(old: str, new: str) -> list[tuple]:
            return [(new, *layer[1:]) if layer[0] == old else layer for layer in LENET_CHAIN]

        modern = [("ReLU",) if layer == ("Sigmoid",) else layer for layer in swap("AvgPool2d", "MaxPool2d")]
        found = {
            "uses max pooling where LeNet-5 averages (AvgPool2d)": swap("AvgPool2d", "MaxPool2d"),
            "uses ReLU where LeNet-5 uses Sigmoid": swap("Sigmoid", "ReLU"),
            "uses max pooling and ReLU where LeNet-5 uses average pooling and Sigmoid": modern,
        }
        sigmoids = [i for i, layer in enumerate(LENET_CHAIN) if layer == ("Sigmoid",)]
        for index in sigmoids:
            after = LENET_CHAIN[index - 1]
            found[f"the Sigmoid after {after[0]} #{_ordinal(LENET_CHAIN, index - 1)} is missing"] = (
                LENET_CHAIN[:index] + LENET_CHAIN[index + 1 :]
            )
        return found

    def train_mode(self, inputs):
        return False

    def judge(self, case, output, reference):
        structure, values = self.structure_and_values(output, reference, "the network's output", case)
        if structure is None and output["parameters"] != LENET_PARAMETERS:
            structure = f"the network has {output['parameters']:,} parameters, expected {LENET_PARAMETERS:,}"
        labels = tuple(self.parts)
        return {labels[0]: structure, labels[1]: values}


def _ordinal(chain: list[tuple], index: int) -> int:
    """1 for the first layer of its kind in ``chain``, 2 for the second, ..."""
    return sum(1 for layer in chain[: index + 1] if layer[0] == chain[index][0])


SETUP = "setup: Xavier-uniform weights in every Conv2d and Linear layer, net.to(device)"
STEPS = "one SGD step per training batch, in order, on the mean cross-entropy"
LOSS = "train_loss: the mean batch loss of each epoch"
EVAL = "evaluation after each epoch on both loaders, in eval mode, without gradients"
ACCURACY = "train_acc and test_acc values"


class TrainCnn(TrainingCheck):
    parts = {SETUP: 3.0, STEPS: 4.0, LOSS: 2.0, EVAL: 3.0, ACCURACY: 3.0}
    # Small on purpose: two or three batches per epoch already show every step, the mean of
    # the epoch's losses and an evaluation after each epoch.
    SPECS = {
        True: [dict(train=128, test=64, batch=64, epochs=2, lr=0.9, device=None)],
        False: [
            dict(train=144, test=48, batch=48, epochs=3, lr=0.5, device="cpu"),
            dict(train=100, test=60, batch=50, epochs=1, lr=1.5, device="cpu"),
        ],
    }

    def cases(self):
        out = []
        for visible, specs in self.SPECS.items():
            for i, spec in enumerate(specs):
                inputs = {**self.digits(spec["train"], spec["test"], reverse=not visible), **spec, "chain": LENET_CHAIN}
                label = (
                    f"{spec['train']} training and {spec['test']} test digits, batch {spec['batch']}, "
                    f"num_epochs={spec['epochs']}, lr={spec['lr']}"
                )
                out.append(case("train_cnn", i, visible, tuple(self.parts), inputs, label))
        return out

    def judge(self, case, output, reference):
        inputs = case.inputs
        replay = self.replayer(case)
        batches = self.batches(inputs)
        log = output["log"]
        analysis = analyse_training(log, replay, inputs["lr"], inputs["epochs"], batches, "train", ("train", "test"))
        result = output["result"]
        verdicts = {SETUP: self._setup(log, replay), STEPS: analysis.step_problem}
        shape_problem = self._result_shape(result, inputs["epochs"])
        verdicts[LOSS] = shape_problem or compare_losses(
            result["train_loss"], analysis.epoch_losses, analysis.batch_losses, "train_loss"
        )
        verdicts[EVAL] = analysis.eval_problem
        if shape_problem:
            verdicts[ACCURACY] = shape_problem
        elif len(analysis.eval_snapshots) != inputs["epochs"]:
            verdicts[ACCURACY] = f"cannot be checked: {analysis.eval_problem or analysis.step_problem}"
        else:
            verdicts[ACCURACY] = self._accuracies(result, analysis.eval_snapshots, log["snapshots"], replay)
        return verdicts

    @staticmethod
    def _result_shape(result, epochs: int) -> str | None:
        if not isinstance(result, dict):
            return f"train_cnn returned {describe_type(result)}, expected a dict with train_loss, train_acc, test_acc"
        for key in ("train_loss", "train_acc", "test_acc"):
            if key not in result:
                return f"the returned dict has no '{key}'"
            if not isinstance(result[key], (list, tuple)):
                return f"result['{key}'] is {describe_type(result[key])}, expected a list"
            if len(result[key]) != epochs:
                return f"result['{key}'] has {len(result[key])} entries, expected {epochs} (one per epoch)"
        return None

    @staticmethod
    def _setup(log: dict, replay) -> str | None:
        """Xavier-uniform weights at the first forward pass, and a call of net.to(device)."""
        if not log["snapshots"]:
            return "the network was never called"
        initial = log["snapshots"][0]
        offsets, start = {}, 0
        for p in replay.model.parameters():  # same order as the flat snapshots
            offsets[id(p)] = start
            start += p.numel()
        layers = [m for m in replay.model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        for number, module in enumerate(layers, start=1):
            weight = module.weight
            values = initial[offsets[id(weight)] : offsets[id(weight)] + weight.numel()]
            fan_in, fan_out = nn.init._calculate_fan_in_and_fan_out(weight)
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            largest = float(np.max(np.abs(values)))
            spread = float(np.std(values))
            kind = type(module).__name__
            if largest > bound * (1 + 1e-5):
                return (
                    f"{kind} layer {number}: weights reach {largest:.4f}, beyond the Xavier-uniform bound "
                    f"{bound:.4f} (use nn.init.xavier_uniform_ on every Conv2d and Linear weight)"
                )
            # A uniform draw on [-bound, bound] nearly reaches the bound and has std bound/sqrt(3).
            if largest < 0.8 * bound or abs(spread - bound / math.sqrt(3)) > 0.25 * bound / math.sqrt(3):
                return (
                    f"{kind} layer {number}: weights are not spread like Xavier-uniform (bound {bound:.4f}, "
                    f"largest {largest:.4f}); use nn.init.xavier_uniform_ before training"
                )
        if not log["to_calls"]:
            return "net.to(device) was never called"
        return None

    @staticmethod
    def _accuracies(result: dict, snapshots_at_eval: list[int], snapshots: list, replay) -> str | None:
        for key, loader in (("train_acc", "train"), ("test_acc", "test")):
            for epoch, (got, index) in enumerate(zip(result[key], snapshots_at_eval)):
                value, problem = as_float(got, f"{key}[{epoch}]")
                if problem:
                    return problem
                expected = replay.accuracy(snapshots[index], loader)
                if abs(value - expected) <= 1e-6:
                    continue
                if abs(value - 100 * expected) <= 1e-4:
                    return f"{key}[{epoch}] is {value:g}, a percentage; return a fraction in [0, 1] ({expected:.4f})"
                return (
                    f"{key}[{epoch}] is {value:.4f}; the network after epoch {epoch + 1} classifies "
                    f"{expected:.4f} of {loader}_loader correctly"
                )
        return None
