"""Checks for lstm: one-hot encoding, the character LSTM, and its Adam training loop.

``CharLSTM`` is found by its layers, not their names: the probe puts known weights into
the student's one ``nn.LSTM`` and one ``nn.Linear``, and the output is compared with what
PyTorch computes for every text on its own, without padding (the truest reading of "the
hidden state after the text's own last character"; references.py). ``train_lstm`` trains
a small network the grader hands it (:class:`probes.TrainingNet`, which reads text like a
CharLSTM but is not one) on recording batches of real tweets; each step is replayed with
``torch.optim.Adam`` (see :mod:`.training`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...assignment import Check, MiB
from ...data import load_tweets
from ...judging.compare import as_floats, compare_arrays
from ...judging.torchtools import Replayer, analyse_training
from ...wire import Tensor, describe_type
from . import references
from .common import case, raised_text, rng
from .probes import ASCII, TRAIN_HIDDEN, TrainingNet, charlstm_weights
from .training import adam


def encode(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-padded one-hot batch (N, T, 128) float32 and lengths (N,) int64 (the grader's own encoder)."""
    codes = [[ord(c) for c in text if ord(c) < ASCII] for text in texts]
    lengths = np.array([len(c) for c in codes], dtype=np.int64)
    x = np.zeros((len(texts), int(lengths.max()), ASCII), dtype=np.float32)
    for i, row in enumerate(codes):
        x[i, np.arange(len(row)), row] = 1.0
    return x, lengths


# --- one_hot_ascii -------------------------------------------------------------------------------

ROWS, FORM = (
    "one row per character with a 1 at its ASCII code, shape (len, 128)",
    "a float32 tensor; characters outside ASCII left out",
)


class OneHotAscii(Check):
    parts = {ROWS: 2.0, FORM: 1.0}
    TEXTS = [
        (True, "hello"),
        (True, "Café au lait \u2615 at 9:30!"),
        (False, "A"),
        (False, ""),
        (False, "tabs\tand\nnew lines, \x00 and \x7f (DEL)"),
        (False, "na\u00efve r\u00e9sum\u00e9 \U0001f600\U0001f600 end"),
        (False, "\u00e9\u00e8"),  # nothing left
    ]

    def cases(self):
        out = []
        for index, (visible, text) in enumerate(self.TEXTS):
            ascii_only = all(ord(c) < ASCII for c in text)
            parts = (ROWS, FORM) if ascii_only else (FORM,)
            out.append(case(index, visible, parts, {"text": text}, f"one_hot_ascii({text!r})"))
        r = rng("lstm.one_hot_ascii", False)
        texts, _ = load_tweets("test", 40)
        long_text = " ".join(texts)[:300]
        for text in (long_text, "".join(chr(int(c)) for c in r.integers(0, ASCII, 50))):
            out.append(
                case(
                    len(out),
                    False,
                    (ROWS, FORM),
                    {"text": text},
                    f"one_hot_ascii of a {len(text)}-character ASCII text",
                )
            )
        return out

    def reference(self, case):
        return references.one_hot(case.inputs["text"]).numpy()

    def judge(self, case, output, reference):
        what = "the result"
        if isinstance(output, np.ndarray):
            problem = f"{what} is a NumPy array; return a torch tensor (torch.from_numpy, or build it with torch)"
            return {part: problem for part in case.parts}
        if not isinstance(output, Tensor):
            problem = f"{what} is {describe_type(output)}, expected a torch tensor"
            return {part: problem for part in case.parts}
        values = compare_arrays(output.array.astype(np.float64), reference.astype(np.float64), what)
        text = case.inputs["text"]
        if values and output.array.shape == (len(text), ASCII) and len(text) != reference.shape[0]:
            values = (
                f"{what} has {len(text)} rows, one per character; characters outside ASCII (code 128 and "
                f"above) must be left out, leaving {reference.shape[0]}"
            )
        elif values and output.array.shape == reference.shape[::-1]:
            values += ": one row per character, one column per code"
        dtype = (
            None
            if output.array.dtype == np.float32
            else f"{what} has dtype {output.array.dtype}; expected float32 (torch.float32), the dtype the LSTM's weights have"
        )
        if ROWS in case.parts:
            return {ROWS: values, FORM: dtype}
        return {FORM: values or dtype}  # a text with non-ASCII characters


# --- CharLSTM --------------------------------------------------------------------------------

STRUCTURE = "one nn.LSTM(128, hidden_size) and one nn.Linear(hidden_size, num_classes)"
EQUAL = "log-probabilities for texts of equal length"
PADDED = "padded batches: the state after each text's own last character"


class CharLSTM(Check):
    parts = {STRUCTURE: 1.0, EQUAL: 2.0, PADDED: 3.0}
    # (visible, (hidden_size, num_classes) or None for the defaults, text lengths, padded length)
    ROWS = [
        (True, None, [6, 6, 6], 6),
        (True, (16, 3), [5, 9, 2, 9], 9),
        (False, (8, 2), [1], 1),
        (False, (5, 5), [10, 10], 10),
        (False, (32, 4), [1, 12, 7, 3, 12], 12),
        (False, None, [20, 35, 4], 35),
        (False, (12, 2), [11, 4, 8], 15),  # every text is shorter than the padded length
    ]

    def cases(self):
        out = []
        # Visible rows draw from the visible generator only: a student's kit has no hidden seed.
        generators = {visible: rng("lstm.CharLSTM", visible) for visible in (True, False)}
        texts, _ = load_tweets("train", 200)
        for index, (visible, config, lengths, width) in enumerate(self.ROWS):
            r = generators[visible]
            picked = ["".join(c for c in texts[int(r.integers(len(texts)))] if ord(c) < ASCII) * 3 for _ in lengths]
            x, _ = encode([t[:n] for t, n in zip(picked, lengths)])
            x = np.pad(x, ((0, 0), (0, width - x.shape[1]), (0, 0)))
            hidden, classes = config or (128, 2)
            padded = len(set(lengths)) > 1 or width > max(lengths)
            call = "CharLSTM()" if config is None else f"CharLSTM(hidden_size={hidden}, num_classes={classes})"
            inputs = {"config": config, "x": x, "lengths": np.array(lengths, dtype=np.int64), "seed": 100 + index}
            out.append(
                case(
                    index,
                    visible,
                    (STRUCTURE, PADDED if padded else EQUAL),
                    inputs,
                    f"{call} on {len(lengths)} text(s) of lengths {lengths}, padded to {width}",
                )
            )
        return out

    def reference(self, case):
        hidden, classes = case.inputs["config"] or (128, 2)
        weights = charlstm_weights(case.inputs["seed"], hidden, classes)
        return references.charlstm_outputs(
            weights, hidden, classes, torch.from_numpy(case.inputs["x"]), torch.from_numpy(case.inputs["lengths"])
        )

    def judge(self, case, output, reference):
        values_part = case.parts[1]
        if not output["loaded"]:
            return {STRUCTURE: output["structure"], values_part: f"cannot be checked: {output['structure']}"}
        return {STRUCTURE: output["structure"], values_part: self.values(output, reference)}

    @staticmethod
    def values(output: dict, reference: dict) -> str | None:
        what = "the output"
        if "raised" in output:
            return f"forward(x, lengths) {raised_text(output)}"
        got = output["value"]
        if not isinstance(got, Tensor):
            return f"{what} is {describe_type(got)}, expected a tensor of log-probabilities"
        expected = reference["expected"]
        problem = compare_arrays(got, expected, what, allow_tensor=True)
        if problem is None:
            return None
        array = got.array
        if array.shape != expected.shape:
            return problem
        array = array.astype(np.float64)
        if compare_arrays(array, reference["last_step"].astype(np.float64)) is None:
            return (
                f"this reads the LSTM's output at the last time step, which belongs to the padding for shorter "
                f"texts; take each text's output at step lengths[i] - 1 ({problem})"
            )
        if np.allclose(array.sum(axis=1), 1.0, atol=1e-4) and np.all(array >= 0):
            return f"these are probabilities; return log-probabilities (torch.log_softmax) ({problem})"
        shifted = (
            array
            - np.log(np.exp(array - array.max(1, keepdims=True)).sum(1, keepdims=True))
            - array.max(1, keepdims=True)
        )
        if compare_arrays(shifted, expected.astype(np.float64), rtol=2e-4, atol=1e-5) is None:
            return f"these are raw scores; apply torch.log_softmax over the classes ({problem})"
        return problem


# --- train_lstm --------------------------------------------------------------------------------

STEPS = "one Adam step per batch, in order, on the mean negative log-likelihood"
LOSSES = "returns the loss of each batch as a Python float"


class TrainLstm(Check):
    parts = {STEPS: 4.0, LOSSES: 2.0}
    output_limit = 64 * MiB  # the log holds the parameters after every step
    SPECS = {
        True: [dict(texts=24, batch=8, lr=0.01)],
        False: [dict(texts=30, batch=7, lr=0.005), dict(texts=16, batch=16, lr=0.02)],
    }

    def __init__(self) -> None:
        self._replayers: dict[str, Replayer] = {}

    def cases(self):
        out = []
        texts, labels = load_tweets("train")
        short = [(t[:40], int(y)) for t, y in zip(texts, labels) if len(t) <= 60]
        for visible, specs in self.SPECS.items():
            pool = short if visible else short[::-1]
            for i, spec in enumerate(specs):
                chosen = pool[i * 40 : i * 40 + spec["texts"]]
                x, lengths = encode([t for t, _ in chosen])
                y = np.array([label for _, label in chosen], dtype=np.int64)
                inputs = {"x": x, "lengths": lengths, "y": y, "batch": spec["batch"], "lr": spec["lr"], "seed": 7 + i}
                label = (
                    f"{spec['texts']} tweets (one-hot, padded to {x.shape[1]}), batches of {spec['batch']}, "
                    f"lr={spec['lr']}, the grader's small text classifier"
                )
                out.append(case(i, visible, tuple(self.parts), inputs, label))
        return out

    def replayer(self, case) -> Replayer:
        if case.id not in self._replayers:
            i = case.inputs
            self._replayers[case.id] = Replayer(
                lambda: TrainingNet(TRAIN_HIDDEN, 2),
                {"batches": (i["x"], i["lengths"], i["y"])},
                i["batch"],
                loss=F.nll_loss,
            )
        return self._replayers[case.id]

    def judge(self, case, output, reference):
        inputs = case.inputs
        batches = -(-len(inputs["y"]) // inputs["batch"])
        analysis = analyse_training(
            output["log"], self.replayer(case), inputs["lr"], 1, batches, "batches", rule=adam(inputs["lr"])
        )
        expected = analysis.batch_losses[0] if analysis.batch_losses else []
        sizes = [min(inputs["batch"], len(inputs["y"]) - k * inputs["batch"]) for k in range(batches)]
        return {STEPS: analysis.step_problem, LOSSES: losses_problem(output["result"], expected, sizes)}


def losses_problem(got: Any, expected: list[float], sizes: list[int]) -> str | None:
    what = "the returned list"
    if not isinstance(got, (list, tuple)):
        return f"train_lstm returned {describe_type(got)}, expected a list of floats (one per batch)"
    values, problem = as_floats(got, what)
    if problem:
        return problem
    assert values is not None  # as_floats gives a problem whenever it has no values
    if len(values) != len(sizes):
        return f"{what} has {len(values)} entries, expected {len(sizes)} (one per batch)"
    if len(expected) != len(sizes):
        return "cannot be checked: the batches were not each used for one step"
    for index, (value, want, size) in enumerate(zip(values, expected, sizes)):
        if abs(value - want) <= 1e-5 + 1e-4 * abs(want):
            continue
        if abs(value - want * size) <= 1e-4 * abs(want * size) + 1e-5:
            return f"loss {index + 1} is {value:.5g}, the sum over the batch; expected the mean ({want:.5g})"
        return f"loss {index + 1} is {value:.5g}; the batch's mean negative log-likelihood was {want:.5g}"
    return None
