"""Shared machinery for the PyTorch checks of this pack (task2, task3, task4); grader side.

* :class:`ArchitectureCheck` grades a function or class that builds a network. Both the
  student's network (in the child, probes.py) and the reference (here) run with canonical
  weights (assigned by layer type and execution order, see
  :func:`grader.probing.nets.canonical_forward`), so equal architectures give equal
  outputs whatever their attribute names, registration order or nesting. The reference
  side needs the solutions only to compute expected outputs, which is why self-check can
  ship them precomputed.
* :class:`TrainingCheck` grades a training function: the child hands it a network built
  from the declared layer chain and recording loaders; the grader checks every step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ...assignment import Check, MiB
from ...data import load_digits
from ...judging.compare import compare_arrays, network_tolerance
from ...judging.torchtools import Replayer, structure_problems
from ...probing.nets import build_chain, canonical_forward, run_network
from ..toolkit import compare_losses  # noqa: F401 - task2 and task3 import it from here


class ArchitectureCheck(Check):
    """Base for checks of network builders.

    Subclasses implement ``build(source, inputs)``, which calls the builder of the
    reference solution the way the probe calls the student's, and say in
    ``train_mode(inputs)`` how the network runs.
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

    def variant_outputs(self, case) -> dict[str, np.ndarray]:
        """The outputs of :meth:`variants` under the same canonical weights (part of the reference)."""
        outputs = {}
        for message, chain in self.variants(case).items():
            result = canonical_forward(
                build_chain(chain), torch.from_numpy(case.inputs["x"]), self.train_mode(case.inputs)
            )
            if result["out"] is not None:
                outputs[message] = result["out"].numpy()
        return outputs

    def diagnose(self, case, output: dict, reference: dict) -> str | None:
        """The named mistake this output shows, if it shows one of :meth:`variants`."""
        got = output.get("out")
        if not isinstance(got, np.ndarray):
            return None
        rtol, atol = network_tolerance(reference["out"])
        for message, expected in reference.get("variants", {}).items():
            if got.shape == expected.shape and compare_arrays(got, expected, "", rtol=rtol, atol=atol) is None:
                return message
        return None

    def reference(self, case):
        from ...judging.reference import solution

        source = solution(self.solution_file)
        result = run_network(
            lambda: self.build(source, case.inputs), case.inputs["x"], self.train_mode(case.inputs), self.builder_name
        )
        return {**result, "variants": self.variant_outputs(case)}

    def structure_and_values(
        self, output: dict, reference: dict, what: str, case=None
    ) -> tuple[str | None, str | None]:
        """(structure problem, value problem) for one traced student network.

        With ``case``, a wrong output that matches a known mistake (:meth:`variants`) is
        reported as that mistake.
        """
        problems = structure_problems(output["leaves"], reference["leaves"])
        structure = (
            problems[0] + (f" (and {len(problems) - 1} more difference(s))" if len(problems) > 1 else "")
            if problems
            else None
        )
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

    output_limit = 64 * MiB  # the log holds the parameters after every step

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
