"""Checks for vgg: the VGG-11 builder and its training loop.

``get_vgg11`` runs with canonical weights (:func:`grader.probing.nets.canonical_forward`:
layers get weights by type, kernel size and execution order, so equal architectures
compute equal functions whatever their names or nesting). It is compared with the
reference in evaluation mode, and in training mode with the same random seed, which
checks the dropout layers (same places, same p) through the masks they draw. The default
network (fc_width=4096, 28 million parameters) is only counted, built on the meta
device; outputs are compared on networks with a narrow classifier.

``train_vgg`` trains a small network the grader hands it, on recording loaders; every
step is replayed with ``torch.optim.SGD(momentum=0.9)`` (see :mod:`.training`), and the
four returned curves are recomputed at the parameters the student's run produced.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...assignment import Check, MiB
from ...data import load_digits
from ...judging.compare import as_float, compare_arrays, network_tolerance
from ...judging.torchtools import Replayer, analyse_training, structure_problems
from ...probing.nets import build_chain
from ...wire import describe_type
from ..toolkit import compare_losses
from .common import case
from .probes import TRAIN_CHAIN, count_on_meta, run_vgg
from .training import momentum_sgd

SOLUTION = "vgg.py"


def padded_digits(split: str, count: int, channels: int, reverse: bool = False) -> np.ndarray:
    """Shipped digits padded from 28x28 to 32x32, repeated over ``channels``."""
    images, _ = load_digits(split)
    if reverse:
        images = images[::-1]
    x = np.pad(images[:count], ((0, 0), (0, 0), (2, 2), (2, 2)))
    return np.ascontiguousarray(np.repeat(x, channels, axis=1), dtype=np.float32)


STRUCTURE = "layers of VGG-11 (eight 3x3 convolutions, three Linear layers) and the parameter count"
EVAL = "output in evaluation mode"
DROPOUT = "dropout with p=0.5 after the first two Linear layers (training mode)"


class GetVgg11(Check):
    parts = {STRUCTURE: 2.0, EVAL: 2.5, DROPOUT: 1.5}
    # (visible, kwargs, batch or None for a parameter count only)
    ROWS = [
        (True, {"fc_width": 32}, 2),
        (True, {}, None),
        (False, {"in_channels": 3, "num_classes": 7, "fc_width": 24}, 1),
        (False, {"in_channels": 3, "num_classes": 100}, None),
        (False, {"in_channels": 1, "num_classes": 2}, None),
        (True, {"in_channels": 2, "num_classes": 5, "fc_width": 16}, 1),
    ]

    def cases(self):
        out = []
        for index, (visible, kwargs, batch) in enumerate(self.ROWS):
            call = "get_vgg11(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"
            if batch is None:
                out.append(
                    case(
                        index, visible, (STRUCTURE,), {"kwargs": kwargs, "count_only": True}, f"{call}: parameter count"
                    )
                )
                continue
            x = padded_digits("test", batch, kwargs.get("in_channels", 1), reverse=not visible)
            inputs = {"kwargs": kwargs, "count_only": False, "x": x, "seed": 17 + index}
            out.append(
                case(
                    index,
                    visible,
                    tuple(self.parts),
                    inputs,
                    f"{call} on {batch} padded digit(s) of shape {tuple(x.shape[1:])}",
                )
            )
        return out

    def reference(self, case):
        from ...judging.reference import solution

        if case.inputs["count_only"]:
            return {"parameters": count_on_meta(solution(SOLUTION), case.inputs["kwargs"])}
        return run_vgg(solution(SOLUTION), case.inputs, reference=True)

    def judge(self, case, output, reference):
        count = None
        if output["parameters"] != reference["parameters"]:
            count = f"the network has {output['parameters']:,} parameters, expected {reference['parameters']:,}"
        if case.inputs["count_only"]:
            return {STRUCTURE: count}
        problems = structure_problems(output["leaves"], reference["leaves"])
        structure = (
            problems[0] + (f" (and {len(problems) - 1} more difference(s))" if len(problems) > 1 else "")
            if problems
            else count
        )
        if output["error"]:
            failed = f"the forward pass failed: {output['error']}"
            return {STRUCTURE: structure or failed, EVAL: failed, DROPOUT: failed}
        rtol, atol = network_tolerance(reference["eval"])
        values = compare_arrays(output["eval"], reference["eval"], "the output in eval mode", rtol=rtol, atol=atol)
        if values and compare_arrays(output["eval"], reference["eval_seed_in_train"], rtol=rtol, atol=atol) is None:
            values = (
                "this is the training-mode output: dropout stays on in eval mode (F.dropout needs "
                f"training=self.training, or use nn.Dropout) ({values})"
            )
        elif values and problems:
            values += f" (structure: {problems[0]})"
        dropout = compare_arrays(
            output["train"], reference["train"], "the output in training mode", rtol=rtol, atol=atol
        )
        if dropout and values is None:
            if np.allclose(output["train"], output["eval"], rtol=rtol, atol=atol):
                dropout = "the training-mode output equals the eval-mode output: there is no dropout"
            else:
                dropout = f"dropout is missing, misplaced or has another p: with the same random seed, {dropout}"
        return {STRUCTURE: structure, EVAL: values, DROPOUT: dropout}


# --- train_vgg ---------------------------------------------------------------------------------


# train_vgg trains probes.TRAIN_CHAIN, a small network, so that every step can be replayed, on
# digits shrunk to 14x14 (2x2 averages) to keep the checks fast.
def small_digits(images: np.ndarray) -> np.ndarray:
    n = len(images)
    return np.ascontiguousarray(images.reshape(n, 1, 14, 2, 14, 2).mean(axis=(3, 5)), dtype=np.float32)


KEYS = ("train_loss", "train_acc", "test_loss", "test_acc")

STEPS = "one SGD step (momentum 0.9) per training batch, in order, on the mean cross-entropy"
LOSS = "train_loss: the mean batch loss of each epoch"
EVALUATION = "evaluation after each epoch on both loaders, in eval mode, without gradients"
ACCURACY = "train_acc and test_acc: the fraction of examples classified correctly"
TEST_LOSS = "test_loss: the mean cross-entropy per test example"


class TrainVgg(Check):
    parts = {STEPS: 3.0, LOSS: 1.5, EVALUATION: 1.5, ACCURACY: 1.5, TEST_LOSS: 1.5}
    output_limit = 64 * MiB  # the log holds the parameters after every step
    SPECS = {
        True: [dict(train=64, test=40, batch=24, epochs=2, lr=0.05, device=None)],
        False: [
            dict(train=60, test=45, batch=25, epochs=3, lr=0.1, device="cpu"),
            dict(train=32, test=21, batch=16, epochs=1, lr=0.02, device="cpu"),
        ],
    }

    def __init__(self) -> None:
        self._replayers: dict[str, Replayer] = {}

    def cases(self):
        out = []
        for visible, specs in self.SPECS.items():
            x, y = load_digits("train")
            xt, yt = load_digits("test")
            if not visible:
                x, y, xt, yt = x[::-1], y[::-1], xt[::-1], yt[::-1]
            for i, spec in enumerate(specs):
                data = {
                    "X": small_digits(x[: spec["train"]]),
                    "y": y[: spec["train"]].copy(),
                    "X_test": small_digits(xt[: spec["test"]]),
                    "y_test": yt[: spec["test"]].copy(),
                }
                label = (
                    f"{spec['train']} training and {spec['test']} test digits (14x14), batch {spec['batch']}, "
                    f"num_epochs={spec['epochs']}, lr={spec['lr']}"
                )
                out.append(case(i, visible, tuple(self.parts), {**data, **spec}, label))
        return out

    def replayer(self, case) -> Replayer:
        """One replayer per case, shared by every student (its cache makes correct runs cheap)."""
        if case.id not in self._replayers:
            i = case.inputs
            data = {"train": (i["X"], i["y"]), "test": (i["X_test"], i["y_test"])}
            self._replayers[case.id] = Replayer(lambda: build_chain(TRAIN_CHAIN), data, i["batch"])
        return self._replayers[case.id]

    def judge(self, case, output, reference):
        inputs = case.inputs
        replay = self.replayer(case)
        batches = -(-len(inputs["y"]) // inputs["batch"])
        log = output["log"]
        analysis = analyse_training(
            log,
            replay,
            inputs["lr"],
            inputs["epochs"],
            batches,
            "train",
            ("train", "test"),
            rule=momentum_sgd(inputs["lr"]),
        )
        verdicts = {STEPS: analysis.step_problem, EVALUATION: analysis.eval_problem}
        result = output["result"]
        shape = result_problem(result, inputs["epochs"])
        if shape:
            verdicts.update({LOSS: shape, ACCURACY: shape, TEST_LOSS: shape})
            return verdicts
        verdicts[LOSS] = compare_losses(
            result["train_loss"], analysis.epoch_losses, analysis.batch_losses, "train_loss"
        )
        if len(analysis.eval_snapshots) != inputs["epochs"]:
            missing = f"cannot be checked: {analysis.eval_problem or analysis.step_problem}"
            verdicts.update({ACCURACY: missing, TEST_LOSS: missing})
            return verdicts
        snapshots = [log["snapshots"][k] for k in analysis.eval_snapshots]
        verdicts[ACCURACY] = accuracy_problem(result, snapshots, replay)
        verdicts[TEST_LOSS] = test_loss_problem(result["test_loss"], snapshots, replay)
        return verdicts


def result_problem(result: Any, epochs: int) -> str | None:
    if not isinstance(result, dict):
        return f"train_vgg returned {describe_type(result)}, expected a dict with {', '.join(KEYS)}"
    for key in KEYS:
        if key not in result:
            return f"the returned dict has no '{key}'"
        if not isinstance(result[key], (list, tuple)):
            return f"result['{key}'] is {describe_type(result[key])}, expected a list of floats"
        if len(result[key]) != epochs:
            return f"result['{key}'] has {len(result[key])} entries, expected {epochs} (one per epoch)"
    return None


def accuracy_problem(result: dict, snapshots: list[np.ndarray], replay: Replayer) -> str | None:
    for key, loader in (("train_acc", "train"), ("test_acc", "test")):
        for epoch, (got, flat) in enumerate(zip(result[key], snapshots)):
            value, problem = as_float(got, f"{key}[{epoch}]")
            if problem:
                return problem
            assert value is not None  # as_float gives a problem whenever it has no value
            expected = replay.accuracy(flat, loader)
            if abs(value - expected) <= 1e-6:
                continue
            if abs(value - 100 * expected) <= 1e-4:
                return f"{key}[{epoch}] is {value:g}, a percentage; return a fraction in [0, 1] ({expected:.4f})"
            return (
                f"{key}[{epoch}] is {value:.4f}; after epoch {epoch + 1} the network classifies "
                f"{expected:.4f} of {loader}_loader's examples correctly (in eval mode)"
            )
    return None


def test_loss_problem(got: Any, snapshots: list[np.ndarray], replay: Replayer) -> str | None:
    for epoch, (item, flat) in enumerate(zip(got, snapshots)):
        value, problem = as_float(item, f"test_loss[{epoch}]")
        if problem:
            return problem
        assert value is not None  # as_float gives a problem whenever it has no value
        expected = replay.mean_loss(flat, "test")
        if abs(value - expected) <= 1e-5 + 1e-4 * abs(expected):
            continue
        if abs(value - replay.mean_loss(flat, "test", per_batch=True)) <= 1e-5 + 1e-4 * abs(expected):
            return (
                f"test_loss[{epoch}] is {value:.5g}, the mean of the batch means; the last batch is smaller, "
                f"so sum over the examples and divide by their number ({expected:.5g})"
            )
        return f"test_loss[{epoch}] is {value:.5g}; the mean cross-entropy per test example was {expected:.5g}"
    return None
