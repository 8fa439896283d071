"""Checks for task1: a two-layer perceptron in NumPy (probes: probes.py; references: references.py)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...assignment import Check, MiB
from ...judging.compare import as_float, compare_arrays, compare_float, unchanged
from ...judging.reference import solution
from ...wire import describe_type
from . import references
from .common import case, rng

SOLUTION = "task1.py"
PARAM_KEYS = ("W1", "b1", "W2", "b2")


def make_params(r: np.random.Generator, d: int, h: int, c: int, dtype=np.float64, scale: float = 1.0) -> dict:
    return {
        "W1": (r.standard_normal((d, h)) / np.sqrt(d)).astype(dtype),
        "b1": (0.1 * r.standard_normal(h)).astype(dtype),
        "W2": (scale * r.standard_normal((h, c)) / np.sqrt(h)).astype(dtype),
        "b2": (0.1 * r.standard_normal(c)).astype(dtype),
    }


def params_unchanged(before: dict, after: Any, what: str = "params") -> str | None:
    if not isinstance(after, dict):
        return f"{what} was replaced"
    for key, value in before.items():
        problem = unchanged(value, after.get(key), f"{what}['{key}']")
        if problem:
            return problem
    return None


def check_grads(got: Any, expected: dict, keys: tuple[str, ...], batch: int) -> str | None:
    if not isinstance(got, dict):
        return f"grads is {describe_type(got)}, expected a dict with keys {', '.join(PARAM_KEYS)}"
    for key in keys:
        if key not in got:
            return f"grads has no key '{key}' (keys must match params: {', '.join(PARAM_KEYS)})"
        problem = compare_arrays(got[key], expected[key], f"grads['{key}']")
        if problem and isinstance(got[key], np.ndarray) and got[key].shape == expected[key].shape:
            if np.allclose(got[key], expected[key] * batch, rtol=1e-6, atol=1e-12):
                return f"grads['{key}'] is {batch}x too large: the loss is the mean over the batch, so divide by N"
            if np.allclose(got[key] * batch, expected[key], rtol=1e-6, atol=1e-12) and batch > 1:
                return f"grads['{key}'] is divided by N twice"
        if problem:
            return problem
    return None


class Relu(Check):
    parts = {"values": 2.0, "keeps shape and dtype, leaves x unchanged": 1.0}

    def cases(self):
        both = tuple(self.parts)
        out = [case("relu", 0, True, both, {"x": np.array([-1.0, -0.5, 0.0, 0.5, 1.0])}, "x = [-1, -0.5, 0, 0.5, 1]")]
        r = rng("task1.relu", True)
        out.append(case("relu", 1, True, both, {"x": r.standard_normal((3, 4))}, "x of shape (3, 4), float64"))
        out.append(
            case(
                "relu", 2, True, both, {"x": r.standard_normal((2, 3)).astype(np.float32)}, "x of shape (2, 3), float32"
            )
        )
        r = rng("task1.relu", False)
        hidden = [
            r.standard_normal((5, 7)).astype(np.float32),
            r.standard_normal((2, 3, 4)),
            1e6 * r.standard_normal(9),
            np.zeros((2, 2)),
            r.standard_normal((1,)).astype(np.float32),
        ]
        for i, x in enumerate(hidden):
            out.append(case("relu", i, False, both, {"x": x}, f"x of shape {x.shape}, {x.dtype}"))
        return out

    def reference(self, case):
        return references.relu_of(case.inputs["x"])

    def judge(self, case, output, reference):
        x = case.inputs["x"]
        values = compare_arrays(output["y"], reference, "relu(x)")
        form = None
        y = output["y"]
        if isinstance(y, np.ndarray) and y.shape == x.shape and y.dtype != x.dtype:
            form = f"relu(x) has dtype {y.dtype} for a {x.dtype} input; keep the input's dtype"
        elif isinstance(y, np.ndarray) and y.shape != x.shape:
            form = f"relu(x) has shape {y.shape}, expected {x.shape}"
        elif not isinstance(y, np.ndarray):
            form = values
        form = form or unchanged(x, output["x_after"], "x")
        return {"values": values, "keeps shape and dtype, leaves x unchanged": form}


class Prelu(Check):
    parts = {"scalar slope": 1.0, "array slope (broadcast)": 1.0}

    def cases(self):
        scalar, array = "scalar slope", "array slope (broadcast)"
        out = [
            case(
                "prelu",
                0,
                True,
                (scalar,),
                {"x": np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), "a": 0.1},
                "x = [-2, -1, 0, 1, 2], a = 0.1",
            )
        ]
        r = rng("task1.prelu", True)
        out.append(
            case(
                "prelu",
                1,
                True,
                (array,),
                {"x": r.standard_normal((3, 4)), "a": np.array([0.1, 0.2, 0.3, 0.4])},
                "x of shape (3, 4), a = [0.1, 0.2, 0.3, 0.4]",
            )
        )
        out.append(
            case(
                "prelu",
                2,
                True,
                (scalar,),
                {"x": r.standard_normal(6), "a": 1.5},
                "x of shape (6,), a = 1.5 (a slope above 1)",
            )
        )
        out.append(
            case(
                "prelu",
                3,
                True,
                (array,),
                {"x": r.standard_normal((2, 3)), "a": np.array([0.5, 1.5, 3.0])},
                "x of shape (2, 3), a = [0.5, 1.5, 3] (slopes above 1)",
            )
        )
        r = rng("task1.prelu", False)
        hidden = [
            (scalar, r.standard_normal((5, 6)).astype(np.float32), 0.25),
            (scalar, r.standard_normal((4, 3)), 2.0),
            (scalar, r.standard_normal(7), -0.3),
            (scalar, r.standard_normal((2, 5)), np.array(0.05)),
            (array, r.standard_normal((4, 6)), r.uniform(0, 0.5, (1, 6))),
            (array, r.standard_normal((5, 3)), r.uniform(0, 3, (5, 1))),
            (array, r.standard_normal((2, 3, 4)), r.uniform(-1, 1, 4)),
        ]
        for i, (part, x, a) in enumerate(hidden):
            a_text = f"a = {a:g}" if np.ndim(a) == 0 else f"a of shape {np.shape(a)}"
            out.append(case("prelu", i, False, (part,), {"x": x, "a": a}, f"x of shape {x.shape}, {x.dtype}, {a_text}"))
        return out

    def reference(self, case):
        return references.prelu_of(case.inputs["x"], case.inputs["a"])

    def judge(self, case, output, reference):
        x = case.inputs["x"]
        problem = compare_arrays(output["y"], reference, "prelu(x, a)") or unchanged(x, output["x_after"], "x")
        if problem and "differs" in problem and np.ndim(case.inputs["a"]) == 0 and float(case.inputs["a"]) > 1:
            problem += " (with a > 1, max(x, a*x) is not PReLU)"
        return {part: problem for part in case.parts}


class DNNForward(Check):
    stand_ins = {"relu": "references"}
    parts = {"logits": 4.0, "returns (logits, cache), leaves X and params unchanged": 1.0}
    SHAPES_VISIBLE = [(4, 5, 3, 2), (6, 8, 16, 10)]
    SHAPES_HIDDEN = [(1, 3, 2, 5), (9, 784, 32, 10), (7, 3, 50, 4), (5, 6, 7, 3)]

    def cases(self):
        out = []
        for visible, shapes in ((True, self.SHAPES_VISIBLE), (False, self.SHAPES_HIDDEN)):
            r = rng("task1.DNNforward", visible)
            for i, (n, d, h, c) in enumerate(shapes):
                dtype = np.float32 if (not visible and i == 3) else np.float64
                X = r.standard_normal((n, d)).astype(dtype)
                params = make_params(r, d, h, c, dtype)
                out.append(
                    case(
                        "fwd",
                        i,
                        visible,
                        tuple(self.parts),
                        {"X": X, "params": params},
                        f"N={n}, D={d}, H={h}, C={c}, {np.dtype(dtype).name}",
                    )
                )
        return out

    def reference(self, case):
        return references.logits_of(case.inputs["X"], case.inputs["params"])

    def judge(self, case, output, reference):
        logits = output["logits"] if output["pair"] else None
        shape_problem = None if output["pair"] else "DNNforward must return a pair (logits, cache)"
        values = shape_problem or compare_arrays(logits, reference, "logits")
        form = (
            shape_problem
            or unchanged(case.inputs["X"], output["X_after"], "X")
            or params_unchanged(case.inputs["params"], output["params_after"])
        )
        labels = tuple(self.parts)
        return {labels[0]: values, labels[1]: form}


class DNNBackward(Check):
    stand_ins = {"relu": "references"}  # its cache comes from the student's own DNNforward
    parts = {"loss": 1.0, "gradients of W2 and b2": 2.0, "gradients of W1 and b1": 2.0}
    SHAPES_VISIBLE = [(4, 5, 3, 2), (6, 8, 16, 10)]
    SHAPES_HIDDEN = [(1, 3, 4, 5), (9, 784, 32, 10), (7, 3, 50, 4), (12, 6, 7, 3)]

    def cases(self):
        out = []
        for visible, shapes in ((True, self.SHAPES_VISIBLE), (False, self.SHAPES_HIDDEN)):
            r = rng("task1.DNNbackward", visible)
            for i, (n, d, h, c) in enumerate(shapes):
                X = r.standard_normal((n, d))
                params = make_params(r, d, h, c)
                y = r.integers(0, c, n).astype(np.int64 if visible else np.int32)
                out.append(
                    case(
                        "bwd",
                        i,
                        visible,
                        tuple(self.parts),
                        {"X": X, "y": y, "params": params},
                        f"N={n}, D={d}, H={h}, C={c}",
                    )
                )
            # Logits in the thousands: exp() overflows unless the softmax subtracts the row maximum.
            n, d, h, c = (8, 5, 6, 4) if not visible else (4, 3, 5, 3)
            X = r.standard_normal((n, d))
            params = make_params(r, d, h, c, scale=2000.0)
            y = r.integers(0, c, n)
            out.append(
                case(
                    "bwd",
                    len(shapes),
                    visible,
                    tuple(self.parts),
                    {"X": X, "y": y, "params": params},
                    "logits in the thousands (numerical stability)",
                )
            )
        return out

    def reference(self, case):
        return references.loss_and_grads(case.inputs["X"], case.inputs["y"], case.inputs["params"])

    def judge(self, case, output, reference):
        n = len(case.inputs["y"])
        loss = compare_float(output["loss"], reference["loss"], "the loss")
        value, _ = as_float(output["loss"], "the loss")
        if loss and value is not None and np.isfinite(value):
            if np.isclose(value, reference["loss"] * n, rtol=1e-7):
                loss = f"the loss is {value:.6g}, the sum over the batch; expected the mean {reference['loss']:.6g}"
        grads = output["grads"]
        labels = tuple(self.parts)
        return {
            labels[0]: loss,
            labels[1]: check_grads(grads, reference["grads"], ("W2", "b2"), n),
            labels[2]: check_grads(grads, reference["grads"], ("W1", "b1"), n),
        }


class Train(Check):
    output_limit = 64 * MiB
    stand_ins = {"relu": "references", "DNNforward": "references", "DNNbackward": "references"}
    parts = {
        "losses: one per epoch, each before its update": 2.0,
        "trained parameters": 2.0,
        "leaves the caller's X, y and params unchanged": 1.0,
    }

    def cases(self):
        out = []
        specs = {
            True: [(20, 4, 5, 3, None, None), (16, 6, 8, 4, 0.5, 7)],
            False: [(50, 10, 8, 4, 0.05, 30), (9, 3, 4, 2, 1.0, 1), (30, 784, 16, 10, 0.2, 5)],
        }
        for visible, rows in specs.items():
            r = rng("task1.train", visible)
            for i, (n, d, h, c, lr, epochs) in enumerate(rows):
                X = r.standard_normal((n, d))
                y = r.integers(0, c, n)
                params = make_params(r, d, h, c)
                label = f"N={n}, D={d}, H={h}, C={c}, " + (
                    "default lr and epochs" if lr is None else f"lr={lr}, epochs={epochs}"
                )
                out.append(
                    case(
                        "train",
                        i,
                        visible,
                        tuple(self.parts),
                        {"X": X, "y": y, "params": params, "lr": lr, "epochs": epochs},
                        label,
                    )
                )
        return out

    def reference(self, case):
        ref = solution(SOLUTION)
        inputs = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in case.inputs.items()}
        params = {k: v.copy() for k, v in inputs["params"].items()}
        if inputs["lr"] is None:
            trained, losses = ref.train(inputs["X"], inputs["y"], params)
        else:
            trained, losses = ref.train(inputs["X"], inputs["y"], params, lr=inputs["lr"], epochs=inputs["epochs"])
        return {"params": trained, "losses": np.array([float(v) for v in losses])}

    def judge(self, case, output, reference):
        labels = tuple(self.parts)
        return {
            labels[0]: self._losses(output["losses"], reference["losses"]),
            labels[1]: self._params(output["params"], reference["params"], case.inputs["params"]),
            labels[2]: (
                unchanged(case.inputs["X"], output["X_after"], "X")
                or unchanged(case.inputs["y"], output["y_after"], "y")
                or params_unchanged(case.inputs["params"], output["params_after"])
            ),
        }

    @staticmethod
    def _losses(got: Any, expected: np.ndarray) -> str | None:
        if isinstance(got, np.ndarray):
            got = list(got.reshape(-1))
        if not isinstance(got, (list, tuple)):
            return f"losses is {describe_type(got)}, expected a list of floats"
        values = []
        for item in got:
            value, problem = as_float(item, "each loss")
            if problem:
                return problem
            values.append(value)
        if len(values) != len(expected):
            return f"returned {len(values)} losses, expected {len(expected)} (one per epoch)"
        array = np.array(values)
        if np.allclose(array, expected, rtol=1e-6, atol=1e-10):
            return None
        if len(array) > 1 and np.allclose(array[:-1], expected[1:], rtol=1e-6, atol=1e-10):
            return "each loss is recorded after its update; record it before updating"
        first = int(np.argmax(~np.isclose(array, expected, rtol=1e-6, atol=1e-10)))
        return f"loss of epoch {first + 1} is {array[first]:.6g}, expected {expected[first]:.6g}"

    @staticmethod
    def _params(got: Any, expected: dict, initial: dict) -> str | None:
        if not isinstance(got, dict):
            return f"the returned params is {describe_type(got)}, expected a dict"
        for key in PARAM_KEYS:
            if key not in got:
                return f"the returned params has no '{key}'"
            problem = compare_arrays(got[key], expected[key], f"params['{key}']", rtol=1e-6, atol=1e-9)
            if problem:
                if (
                    isinstance(got[key], np.ndarray)
                    and got[key].shape == initial[key].shape
                    and np.array_equal(got[key], initial[key])
                ):
                    return f"params['{key}'] is unchanged from the initial value (were the updates applied?)"
                return problem
        return None
