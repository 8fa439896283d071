"""Checks for task2: the perceptron in PyTorch."""

from __future__ import annotations

import numpy as np

from ...judging.torchtools import analyse_training
from .common import case, rng
from .nets import ArchitectureCheck, TrainingCheck, compare_losses


def dnn_chain(input_size: int, hidden_size: int, output_size: int) -> list[tuple]:
    """The network get_DNN must build, as declared in the contract."""
    return [("Flatten",), ("Linear", input_size, hidden_size), ("ReLU",), ("Linear", hidden_size, output_size)]


class GetDNN(ArchitectureCheck):
    parts = {"two Linear layers: input -> hidden -> output": 2.0, "output equals Flatten, Linear, ReLU, Linear": 3.0}
    builder_name = "get_DNN"
    solution_file = "task2.py"
    VISIBLE = [((784, 32, 10), (3, 1, 28, 28)), ((12, 5, 3), (4, 3, 4))]
    HIDDEN = [((20, 7, 4), (1, 20)), ((48, 16, 6), (5, 3, 4, 4)), ((6, 100, 2), (7, 6))]

    def cases(self):
        out = []
        for visible, rows in ((True, self.VISIBLE), (False, self.HIDDEN)):
            r = rng("task2.get_DNN", visible)
            for i, (sizes, shape) in enumerate(rows):
                x = r.standard_normal(shape).astype(np.float32)
                out.append(
                    case(
                        "dnn",
                        i,
                        visible,
                        tuple(self.parts),
                        {"sizes": sizes, "x": x},
                        f"get_DNN{sizes} on input of shape {shape}",
                    )
                )
        return out

    def build(self, source, inputs):
        return source.get_DNN(*inputs["sizes"])

    def variants(self, case):
        flatten, first, relu, last = dnn_chain(*case.inputs["sizes"])
        return {
            "the ReLU between the two Linear layers is missing": [flatten, first, last],
            "uses Sigmoid where the network has ReLU": [flatten, first, ("Sigmoid",), last],
            "applies ReLU after the last Linear layer too (the output should be raw logits)": [
                flatten,
                first,
                relu,
                last,
                ("ReLU",),
            ],
        }

    def judge(self, case, output, reference):
        structure, values = self.structure_and_values(output, reference, "the network's output", case)
        labels = tuple(self.parts)
        return {labels[0]: structure, labels[1]: values}


class TrainTorch(TrainingCheck):
    # The network handed to train_torch is get_DNN's answer (the chain): its inputs reach the
    # child only when train_torch's turn comes, after get_DNN is done.
    parts = {
        "one SGD step per batch, in loader order, on the mean cross-entropy": 3.0,
        "returns the mean batch loss of each epoch": 2.0,
    }
    SPECS = {
        True: [dict(train=96, batch=32, epochs=2, lr=0.1, hidden=32)],
        False: [
            dict(train=120, batch=40, epochs=3, lr=0.3, hidden=16),
            dict(train=50, batch=25, epochs=1, lr=0.05, hidden=8),
        ],
    }

    def cases(self):
        out = []
        for visible, specs in self.SPECS.items():
            for i, spec in enumerate(specs):
                inputs = {
                    **self.digits(spec["train"], 0, reverse=not visible),
                    **spec,
                    "chain": dnn_chain(784, spec["hidden"], 10),
                }
                label = (
                    f"{spec['train']} digits, batch {spec['batch']}, num_epochs={spec['epochs']}, "
                    f"lr={spec['lr']}, net get_DNN(784, {spec['hidden']}, 10)"
                )
                out.append(case("train_torch", i, visible, tuple(self.parts), inputs, label))
        return out

    def judge(self, case, output, reference):
        inputs = case.inputs
        replay = self.replayer(case)
        analysis = analyse_training(output["log"], replay, inputs["lr"], inputs["epochs"], self.batches(inputs))
        labels = tuple(self.parts)
        return {
            labels[0]: analysis.step_problem,
            labels[1]: compare_losses(
                output["result"], analysis.epoch_losses, analysis.batch_losses, "the returned list"
            ),
        }
