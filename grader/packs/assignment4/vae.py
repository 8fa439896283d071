"""Checks for vae: the KL term, the reparameterization, the Bernoulli likelihood, the model
and the loss.

Every expected value comes from PyTorch (references.py): ``torch.distributions`` for the KL divergence,
``F.binary_cross_entropy_with_logits`` for the likelihood, autograd for the gradients.
The VAE's layers are found by their shapes (attribute names are free) and given known
weights; its outputs are then compared with the same computation written with
``torch.nn.functional``. Graded names that use other graded names run with the grader's
correct versions of those (``elbo_loss`` with ``bernoulli_nll`` and ``kl_divergence``,
``VAE.forward`` with ``reparameterize``), so each mistake costs only the name that holds it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ...assignment import Check
from ...data import load_digits
from ...judging.compare import as_float
from ...wire import Tensor, describe_type
from . import references
from .common import case, compare_tensor, raised_text, rng
from .probes import tensors, vae_weights


def gaussian(r: np.random.Generator, n: int, z: int, dtype=np.float32, spread: float = 1.0) -> dict:
    return {"mu": r.normal(0, 1.5, (n, z)).astype(dtype), "logvar": r.normal(0, spread, (n, z)).astype(dtype)}


# --- kl_divergence -----------------------------------------------------------------------------------

ONE, MANY = "one latent dimension", "several latent dimensions (summed over them)"


class KlDivergence(Check):
    parts = {ONE: 1.0, MANY: 2.0}
    # (visible, N, Z, dtype, logvar spread)
    ROWS = [
        (True, 4, 1, np.float32, 1.0),
        (True, 3, 2, np.float32, 1.0),
        (False, 1, 1, np.float64, 1.0),
        (False, 5, 1, np.float32, 3.0),
        (False, 6, 8, np.float32, 1.0),
        (False, 2, 3, np.float64, 2.0),
        (False, 7, 4, np.float32, 0.0),
    ]

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.kl_divergence", visible)
            for visible_row, n, z, dtype, spread in self.ROWS:
                if visible_row != visible:
                    continue
                inputs = gaussian(r, n, z, dtype, spread)
                if spread == 0.0:  # the prior itself: KL is exactly 0
                    inputs = {k: np.zeros_like(v) for k, v in inputs.items()}
                out.append(
                    case(
                        len(out),
                        visible,
                        (ONE if z == 1 else MANY,),
                        inputs,
                        f"mu and logvar of shape ({n}, {z}), {np.dtype(dtype).name}"
                        + (", both zero" if spread == 0.0 else ""),
                    )
                )
        return out

    def reference(self, case):
        mu, logvar = tensors(case.inputs, "mu", "logvar")
        return references.kl_divergence(mu, logvar).numpy()

    def judge(self, case, output, reference):
        problem = compare_tensor(output, reference, "the KL divergence")
        if problem and isinstance(output, Tensor) and output.array.shape == reference.shape:
            got = output.array.astype(np.float64)
            z = case.inputs["mu"].shape[1]
            if np.allclose(got, -reference, rtol=1e-4, atol=1e-6):
                problem = f"the sign is flipped; KL is never negative ({problem})"
            elif z > 1 and np.allclose(got, reference / z, rtol=1e-4, atol=1e-6):
                problem = f"this is the mean over the latent dimensions; sum them ({problem})"
            elif np.allclose(got, 2 * reference, rtol=1e-4, atol=1e-6):
                problem = f"twice the KL divergence: the factor 1/2 is missing ({problem})"
        elif problem and isinstance(output, Tensor) and output.array.ndim == 0:
            problem = f"one value per example, not a single number for the batch ({problem})"
        return {case.parts[0]: problem}


# --- reparameterize ----------------------------------------------------------------------------------

SAMPLE, GRADS = "values mu + exp(logvar / 2) * eps", "gradients reach mu and logvar"


class Reparameterize(Check):
    parts = {SAMPLE: 1.0, GRADS: 1.0}
    ROWS = [(True, 3, 2, np.float32), (False, 1, 1, np.float32), (False, 5, 4, np.float64), (False, 4, 3, np.float32)]

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.reparameterize", visible)
            for visible_row, n, z, dtype in self.ROWS:
                if visible_row != visible:
                    continue
                inputs = gaussian(r, n, z, dtype)
                inputs["eps"] = r.standard_normal((n, z)).astype(dtype)
                inputs["upstream"] = r.standard_normal((n, z)).astype(dtype)
                out.append(
                    case(
                        len(out),
                        visible,
                        tuple(self.parts),
                        inputs,
                        f"mu, logvar and eps of shape ({n}, {z}), {np.dtype(dtype).name}",
                    )
                )
        return out

    def reference(self, case):
        mu, logvar = tensors(case.inputs, "mu", "logvar", grad=True)
        z = references.reparameterize(mu, logvar, torch.tensor(case.inputs["eps"]))
        z.backward(torch.tensor(case.inputs["upstream"]))
        return {"z": z.detach().numpy(), "grad_mu": mu.grad.numpy(), "grad_logvar": logvar.grad.numpy()}

    def judge(self, case, output, reference):
        sample = compare_tensor(output["z"], reference["z"], "the sample")
        if sample and isinstance(output["z"], Tensor) and output["z"].array.shape == reference["z"].shape:
            mu, logvar, eps = case.inputs["mu"], case.inputs["logvar"], case.inputs["eps"]
            if np.allclose(output["z"].array, mu + np.exp(logvar) * eps, rtol=1e-4, atol=1e-6):
                sample = f"exp(logvar) is the variance; the standard deviation is exp(logvar / 2) ({sample})"
        grads = output["grad_error"]
        if grads is None and not isinstance(output["z"], Tensor):
            grads = sample
        for key, name in (("grad_mu", "mu"), ("grad_logvar", "logvar")):
            if grads is not None:
                break
            if output[key] is None:
                grads = f"no gradient reaches {name} (is it detached, or replaced by a new tensor?)"
            else:
                grads = compare_tensor(output[key], reference[key], f"the gradient of {name}")
        return {SAMPLE: sample, GRADS: grads}


# --- bernoulli_nll -----------------------------------------------------------------------------------

MODERATE, LARGE = "values for moderate logits (flat and image-shaped inputs)", "stable for large logits"


class BernoulliNll(Check):
    parts = {MODERATE: 2.0, LARGE: 1.0}

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.bernoulli_nll", visible)
            digits, _ = load_digits("test", 8)
            if visible:
                rows = [
                    (MODERATE, r.uniform(0, 1, (4, 6)).astype(np.float32), 2.0, "x in [0, 1] of shape (4, 6)"),
                    (
                        MODERATE,
                        (r.uniform(0, 1, (2, 1, 4, 4)) > 0.5).astype(np.float32),
                        2.0,
                        "binary x of shape (2, 1, 4, 4)",
                    ),
                    (
                        LARGE,
                        (r.uniform(0, 1, (2, 5)) > 0.5).astype(np.float32),
                        200.0,
                        "binary x of shape (2, 5), logits around +-200",
                    ),
                ]
            else:
                rows = [
                    (MODERATE, digits[:1].reshape(1, 784), 3.0, "one digit of shape (1, 784)"),
                    (MODERATE, digits[1:4], 3.0, "three digits of shape (3, 1, 28, 28)"),
                    (MODERATE, r.uniform(0, 1, (5, 3)), 1.0, "x in [0, 1] of shape (5, 3), float64"),
                    (
                        LARGE,
                        (r.uniform(0, 1, (3, 8)) > 0.5).astype(np.float32),
                        1e4,
                        "binary x of shape (3, 8), logits around +-10,000",
                    ),
                    (LARGE, digits[4:6].reshape(2, 784), 50.0, "two digits, logits around +-50"),
                ]
            for part, x, scale, label in rows:
                sign = np.where(r.uniform(0, 1, x.shape) > 0.5, 1.0, -1.0)
                logits = (
                    sign * scale * r.uniform(0.5, 1.5, x.shape) if part == LARGE else r.normal(0, scale, x.shape)
                ).astype(x.dtype)
                out.append(case(len(out), visible, (part,), {"x": x.astype(x.dtype), "logits": logits}, label))
        return out

    def reference(self, case):
        x, logits = tensors(case.inputs, "x", "logits")
        return references.bernoulli_nll(x, logits).numpy()

    def judge(self, case, output, reference):
        problem = compare_tensor(output, reference, "-log p(x | z)")
        if problem and isinstance(output, Tensor) and output.array.shape == reference.shape:
            pixels = case.inputs["x"][0].size
            got = output.array.astype(np.float64)
            if np.allclose(got, reference / pixels, rtol=1e-4, atol=1e-6):
                problem = f"this is the mean over the pixels; sum them ({problem})"
            elif case.parts[0] == LARGE:
                problem = (
                    "large logits need a stable formula (F.binary_cross_entropy_with_logits); sigmoid then "
                    f"log, or a loss that takes probabilities, breaks down there ({problem})"
                )
        elif problem and isinstance(output, Tensor) and output.array.ndim == 0:
            problem = f"one value per example, not a single number for the batch ({problem})"
        return {case.parts[0]: problem}


# --- VAE ---------------------------------------------------------------------------------------------


def raised(what: str, result: dict) -> str | None:
    return f"{what} {raised_text(result)}" if "raised" in result else None


STRUCTURE = "five Linear layers of the right shapes"
ENCODE, DECODE = "encode(x): mu and logvar (x flattened)", "decode(z): logits"
FORWARD = "forward(x, eps): (logits, mu, logvar); eps drawn from N(0, I) when None"
SAMPLES = 400


class Vae(Check):
    parts = {STRUCTURE: 1.0, ENCODE: 1.0, DECODE: 1.0, FORWARD: 1.0}
    stand_ins = {"reparameterize": "references"}  # forward runs with the reference reparameterize
    # (visible, (in_features, hidden, z_dim) or None for the defaults, N, whether eps is drawn by forward)
    ROWS = [
        (True, None, 3, False),
        (True, (12, 10, 3), SAMPLES, True),
        (False, (20, 16, 3), 5, False),
        (False, (784, 64, 2), 4, False),
        (False, (30, 8, 5), 2, False),
        (False, (6, 9, 2), SAMPLES, True),
    ]

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.VAE", visible)
            digits, _ = load_digits("test", 10)
            for visible_row, config, n, sampling in self.ROWS:
                if visible_row != visible:
                    continue
                in_features, hidden, z_dim = config or (784, 512, 2)
                x = digits[:n] if in_features == 784 else r.uniform(0, 1, (n, in_features)).astype(np.float32)
                call = "VAE()" if config is None else f"VAE(in_features={in_features}, hidden={hidden}, z_dim={z_dim})"
                inputs = {
                    "config": config,
                    "x": x,
                    "seed": 300 + len(out),
                    "sampling": sampling,
                    "z": r.standard_normal((n, z_dim)).astype(np.float32),
                    "eps": r.standard_normal((n, z_dim)).astype(np.float32),
                }
                if sampling:
                    out.append(
                        case(
                            len(out),
                            visible,
                            (FORWARD,),
                            inputs,
                            f"{call}: forward(x) without eps on {n} inputs (the noise it draws)",
                        )
                    )
                else:
                    out.append(
                        case(len(out), visible, tuple(self.parts), inputs, f"{call} on x of shape {tuple(x.shape)}")
                    )
        return out

    def reference(self, case):
        i = case.inputs
        in_features, hidden, z_dim = i["config"] or (784, 512, 2)
        weights = vae_weights(i["seed"], in_features, hidden, z_dim)
        with torch.no_grad():
            return references.vae_parts(
                weights, torch.from_numpy(i["x"]), torch.from_numpy(i["z"]), torch.from_numpy(i["eps"])
            )

    def judge(self, case, output, reference):
        if output["structure"] is not None:
            unchecked = f"cannot be checked: {output['structure']}"
            return {part: output["structure"] if part == STRUCTURE else unchecked for part in case.parts}
        if case.inputs["sampling"]:
            return {FORWARD: self.judge_sampling(output, reference)}
        encoded, order = self.judge_encoded(output["encoded"], reference["heads"])
        decoded = raised("decode(z)", output["decoded"]) or compare_tensor(
            output["decoded"]["value"], reference["decoded"], "decode(z)"
        )
        forward = raised("forward(x, eps)", output["forward"]) or self.judge_forward(
            output["forward"]["value"], reference, order
        )
        return {STRUCTURE: None, ENCODE: encoded, DECODE: decoded, FORWARD: forward}

    @staticmethod
    def judge_encoded(got: Any, heads: tuple) -> tuple[str | None, int]:
        """(problem, which head is mu: 0 or 1)."""
        if "raised" in got:
            return raised("encode(x)", got), 0
        got = got["value"]
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            return f"encode(x) returned {describe_type(got)}, expected a pair (mu, logvar)", 0
        for order in (0, 1):
            mu, logvar = heads[order], heads[1 - order]
            if compare_tensor(got[0], mu, "mu") is None and compare_tensor(got[1], logvar, "logvar") is None:
                return None, order
        problem = compare_tensor(got[0], heads[0], "mu")
        if problem and isinstance(got[0], Tensor) and got[0].array.shape == heads[0].shape:
            problem = compare_tensor(got[0], heads[1], "mu")
            problem = (
                problem or "mu is right but logvar is not"
            ) + " (encoder: Linear, ReLU, then a Linear head each for mu and logvar; x flattened to (N, in_features))"
        return problem, 0

    @staticmethod
    def judge_forward(got: Any, reference: dict, order: int) -> str | None:
        if not (isinstance(got, (tuple, list)) and len(got) == 3):
            return f"forward(x, eps) returned {describe_type(got)}, expected (logits, mu, logvar)"
        heads = reference["heads"]
        problem = compare_tensor(got[0], reference["forward"][order], "the logits of forward(x, eps)")
        problem = problem or compare_tensor(got[1], heads[order], "the mu of forward(x, eps)")
        return problem or compare_tensor(got[2], heads[1 - order], "the logvar of forward(x, eps)")

    @staticmethod
    def judge_sampling(output: dict, reference: dict) -> str | None:
        latents = output["latents"]
        if len(latents) != 2 or not all(isinstance(z, Tensor) for z in latents):
            return "the decoder's first layer did not run once per call of forward(x)"
        mu, logvar = output["mu"], output["logvar"]
        if not (isinstance(mu, Tensor) and isinstance(logvar, Tensor)):
            return "forward(x) must return (logits, mu, logvar) as tensors"
        first, second = (z.array.astype(np.float64) for z in latents)
        if first.shape != mu.array.shape:
            return f"the latent vectors have shape {first.shape}, expected {mu.array.shape}"
        if np.array_equal(first, second):
            return "two calls of forward(x) decoded the same z: eps must be drawn afresh each time"
        eps = (first - mu.array) / np.exp(0.5 * logvar.array.astype(np.float64))
        mean, std = float(eps.mean()), float(eps.std())
        # 400 samples of a few dimensions: the mean is within 0.1 and the std within 0.1 of N(0, 1)'s
        # with overwhelming probability.
        if abs(mean) > 0.2 or abs(std - 1.0) > 0.15:
            return (
                f"with eps=None, the noise implied by z = mu + exp(logvar / 2) * eps has mean {mean:.3f} and "
                f"standard deviation {std:.3f}; draw eps from N(0, I) (torch.randn_like(mu))"
            )
        return None


# --- elbo_loss ---------------------------------------------------------------------------------------

VALUE, FORM = (
    "the batch mean of bernoulli_nll + kl_divergence",
    "a 0-d tensor whose gradients reach logits, mu and logvar",
)


class ElboLoss(Check):
    parts = {VALUE: 2.0, FORM: 1.0}
    stand_ins = {"bernoulli_nll": "references", "kl_divergence": "references"}
    ROWS = [
        (True, (4, 6), 2, np.float32),
        (False, (3, 1, 4, 4), 3, np.float32),
        (False, (1, 10), 1, np.float32),
        (False, (5, 7), 4, np.float64),
    ]

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.elbo_loss", visible)
            for visible_row, shape, z, dtype in self.ROWS:
                if visible_row != visible:
                    continue
                n = shape[0]
                inputs = {
                    "x": r.uniform(0, 1, shape).astype(dtype),
                    "logits": r.normal(0, 2, shape).astype(dtype),
                    **gaussian(r, n, z, dtype),
                }
                out.append(
                    case(
                        len(out),
                        visible,
                        tuple(self.parts),
                        inputs,
                        f"x and logits of shape {shape}, mu and logvar of shape ({n}, {z}), {np.dtype(dtype).name}",
                    )
                )
        return out

    def reference(self, case):
        x = torch.tensor(case.inputs["x"])
        logits, mu, logvar = tensors(case.inputs, "logits", "mu", "logvar")
        per_example = references.bernoulli_nll(x, logits) + references.kl_divergence(mu, logvar)
        loss = per_example.mean()
        return {"loss": loss.item(), "per_example": per_example.detach().numpy()}

    def judge(self, case, output, reference):
        loss = output["loss"]
        value = self.value_problem(loss, reference)
        form = None
        if not isinstance(loss, Tensor):
            form = (
                f"elbo_loss returned {describe_type(loss)}; return the tensor itself (no .item()), so that "
                "loss.backward() works"
            )
        elif loss.array.ndim != 0:
            form = f"the loss has shape {loss.array.shape}; expected a 0-d tensor (the mean over the batch)"
        elif output["grads"] is None:
            form = "the loss does not depend on logits, mu and logvar through autograd"
        else:
            # Only that the gradients arrive: their values follow from the value, judged above.
            for name, got in zip(("logits", "mu", "logvar"), output["grads"]):
                if not isinstance(got, Tensor):
                    form = f"no gradient reaches {name} (is part of the loss detached?)"
                    break
                if not np.all(np.isfinite(got.array)):
                    form = f"the gradient with respect to {name} is not finite"
                    break
        return {VALUE: value, FORM: form}

    @staticmethod
    def value_problem(loss: Any, reference: dict) -> str | None:
        expected = reference["loss"]
        array = loss.array if isinstance(loss, Tensor) else loss
        if isinstance(array, np.ndarray) and array.size != 1:
            if array.shape == reference["per_example"].shape:
                return "the loss has one value per example; return their mean over the batch"
            return f"the loss has shape {array.shape}; expected a single number"
        number, problem = as_float(array, "the loss")
        if problem:
            return problem
        tolerance = 1e-5 + 2e-5 * abs(expected)
        if abs(number - expected) <= tolerance:
            return None
        n = len(reference["per_example"])
        if n > 1 and abs(number - expected * n) <= tolerance * n:
            return f"the loss is {number:.6g}, the sum over the batch; expected the mean {expected:.6g}"
        if abs(number + expected) <= tolerance:
            return f"the loss is {number:.6g}, the ELBO itself; the loss is its negative, {expected:.6g}"
        return f"the loss is {number:.6g}, expected {expected:.6g}"
