"""Shared machinery for the PyTorch checks of this pack (task2, task3, task4).

* :class:`ArchitectureCheck` grades a function or class that builds a network. Both the
  student's network and the reference run with canonical weights (assigned by layer type
  and execution order, see :func:`grader.torchtools.canonical_forward`), so equal
  architectures give equal outputs whatever their attribute names, registration order or
  nesting. The reference side needs the solutions only to compute expected outputs,
  which is why self-check can ship them precomputed.
* :class:`TrainingCheck` grades a training function: the child hands it a network built
  from the declared layer chain and recording loaders; the parent checks every step.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ...assignment import Check, ProbeError
from ...compare import compare_arrays, network_tolerance
from ...data import load_digits
from ...torchtools import (Replayer, RecordingLoader, TrainingLog, build_chain, built_without_init, canonical_forward,
                           structure_problems, watch)
from ..toolkit import compare_losses  # noqa: F401 - task2 and task3 import it from here


def require_module(value: Any, what: str) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise ProbeError(f"{what} returned {type(value).__name__}, not an nn.Module")
    return value


class ArchitectureCheck(Check):
    """Base for checks of network builders.

    Subclasses implement ``build(source, inputs)``, which calls the builder on either the
    student's module (in the child) or the reference solution (in the parent), and say
    in ``train_mode(inputs)`` how the network runs.
    """

    def build(self, source: Any, inputs: dict) -> nn.Module:
        raise NotImplementedError

    def train_mode(self, inputs: dict) -> bool:
        return True

    builder_name = "the builder"
    solution_file = ""

    def variants(self, case) -> dict[str, list[tuple]]:
        """Common wrong architectures, as layer chains, each with the one line that names the mistake.

        When a student's output is wrong but equals one of these (under the same canonical
        weights), the feedback names the mistake instead of quoting numbers.
        """
        return {}

    def _variant_outputs(self, case) -> dict[str, np.ndarray]:
        cache = self.__dict__.setdefault("_variant_cache", {})
        if case.id not in cache:
            outputs = {}
            for message, chain in self.variants(case).items():
                result = canonical_forward(build_chain(chain), torch.from_numpy(case.inputs["x"]),
                                           self.train_mode(case.inputs))
                if result["out"] is not None:
                    outputs[message] = result["out"].numpy()
            cache[case.id] = outputs
        return cache[case.id]

    def diagnose(self, case, output: dict, reference: dict) -> str | None:
        """The named mistake this output shows, if it shows one of :meth:`variants`."""
        got = output.get("out")
        if not isinstance(got, np.ndarray):
            return None
        rtol, atol = network_tolerance(reference["out"])
        for message, expected in self._variant_outputs(case).items():
            if got.shape == expected.shape and compare_arrays(got, expected, "", rtol=rtol, atol=atol) is None:
                return message
        return None

    def run(self, source: Any, inputs: dict) -> dict:
        """Build with ``source`` (student module or reference), run with canonical weights."""
        # Built without PyTorch's random initialization: canonical weights overwrite it anyway.
        net = require_module(built_without_init(lambda: self.build(source, inputs)), self.builder_name)
        result = canonical_forward(net, torch.from_numpy(inputs["x"]), self.train_mode(inputs))
        if result["out"] is not None:
            result["out"] = result["out"].numpy()
        return result

    def probe(self, module, inputs):
        return self.run(module, inputs)

    def reference(self, case):
        from ...reference import solution
        return self.run(solution(self.solution_file), case.inputs)

    def structure_and_values(self, output: dict, reference: dict, what: str,
                             case=None) -> tuple[str | None, str | None]:
        """(structure problem, value problem) for one traced student network.

        With ``case``, a wrong output that matches a known mistake (:meth:`variants`) is
        reported as that mistake.
        """
        problems = structure_problems(output["leaves"], reference["leaves"])
        structure = problems[0] + (f" (and {len(problems) - 1} more difference(s))" if len(problems) > 1 else "") \
            if problems else None
        if output["error"]:
            return structure, f"the forward pass failed: {output['error']}"
        if reference["error"]:
            raise RuntimeError(f"the reference network failed: {reference['error']}")
        rtol, atol = network_tolerance(reference["out"])
        values = compare_arrays(output["out"], reference["out"], what, rtol=rtol, atol=atol)
        named = self.diagnose(case, output, reference) if values and case is not None else None
        if named:
            values = named
        elif values and structure:
            values = f"{values} (structure: {problems[0]})"
        return structure, values


class TrainingCheck(Check):
    """Base for training-function checks: data, recorded runs and their analysis.

    Case inputs hold the data, ``batch``, ``epochs``, ``lr`` and ``chain``, the declared
    layers of the network handed to the student's function.
    """

    def __init__(self) -> None:
        self._replayers: dict[str, Replayer] = {}

    @staticmethod
    def digits(train: int, test: int, reverse: bool = False) -> dict[str, np.ndarray]:
        """Shipped digits; hidden cases take them from the other end of the split."""
        x, y = load_digits("train")
        xt, yt = load_digits("test")
        if reverse:
            x, y, xt, yt = x[::-1], y[::-1], xt[::-1], yt[::-1]
        return {"X": x[:train].copy(), "y": y[:train].copy(), "X_test": xt[:test].copy(), "y_test": yt[:test].copy()}

    @staticmethod
    def batches(inputs: dict) -> int:
        return -(-len(inputs["y"]) // inputs["batch"])

    def replayer(self, case) -> Replayer:
        """One replayer per case, shared by every student (its cache makes correct runs cheap)."""
        if case.id not in self._replayers:
            inputs = case.inputs
            data = {"train": (inputs["X"], inputs["y"])}
            if len(inputs["y_test"]):
                data["test"] = (inputs["X_test"], inputs["y_test"])
            self._replayers[case.id] = Replayer(lambda: build_chain(inputs["chain"]), data, inputs["batch"])
        return self._replayers[case.id]

    @staticmethod
    def recording_run(net: nn.Module, inputs: dict, call: Callable[[nn.Module, Any, Any], Any]) -> dict:
        """Child side: give ``call`` the net and recording loaders; return result and log."""
        log = TrainingLog()
        train = RecordingLoader("train", torch.from_numpy(inputs["X"]), torch.from_numpy(inputs["y"]),
                                inputs["batch"], log)
        test = None
        if len(inputs["y_test"]):
            test = RecordingLoader("test", torch.from_numpy(inputs["X_test"]), torch.from_numpy(inputs["y_test"]),
                                   inputs["batch"], log)
        finish = watch(net, log)
        result = call(net, train, test)
        finish()
        return {"result": result, "log": log.export()}
