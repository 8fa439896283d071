"""Checks for vae: the KL term, the reparameterization, the Bernoulli likelihood, the model
and the loss.

Every expected value comes from PyTorch: ``torch.distributions`` for the KL divergence,
``F.binary_cross_entropy_with_logits`` for the likelihood, autograd for the gradients.
The VAE's layers are found by their shapes (attribute names are free) and given known
weights; its outputs are then compared with the same computation written with
``torch.nn.functional``. Graded names that use other graded names run with the grader's
correct versions of those (``elbo_loss`` with ``bernoulli_nll`` and ``kl_divergence``,
``VAE.forward`` with ``reparameterize``), so each mistake costs only the name that holds it.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal, kl_divergence as torch_kl

from ...assignment import Check, ProbeError
from ...compare import as_float
from ...data import load_digits
from ...wire import Tensor, describe_type
from ..toolkit import substituted
from .common import case, compare_tensor, outcome, raised_text, rng

# --- the grader's correct versions, used in the child for one bug, one loss ----------------------


def oracle_kl_divergence(mu, logvar):
    return torch_kl(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(1)


def oracle_reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def oracle_bernoulli_nll(x, logits):
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.reshape(per_pixel.shape[0], -1).sum(1)


def tensors(inputs: dict, *names: str, grad: bool = False) -> list[torch.Tensor]:
    return [torch.tensor(inputs[n], requires_grad=grad) for n in names]


def gaussian(r: np.random.Generator, n: int, z: int, dtype=np.float32, spread: float = 1.0) -> dict:
    return {"mu": r.normal(0, 1.5, (n, z)).astype(dtype), "logvar": r.normal(0, spread, (n, z)).astype(dtype)}


# --- kl_divergence -----------------------------------------------------------------------------------

ONE, MANY = "one latent dimension", "several latent dimensions (summed over them)"


class KlDivergence(Check):
    parts = {ONE: 1.0, MANY: 2.0}
    # (visible, N, Z, dtype, logvar spread)
    ROWS = [(True, 4, 1, np.float32, 1.0), (True, 3, 2, np.float32, 1.0),
            (False, 1, 1, np.float64, 1.0), (False, 5, 1, np.float32, 3.0), (False, 6, 8, np.float32, 1.0),
            (False, 2, 3, np.float64, 2.0), (False, 7, 4, np.float32, 0.0)]

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.kl_divergence", visible)
            for visible_row, n, z, dtype, spread in self.ROWS:
                if visible_row != visible:
                    continue
                inputs = gaussian(r, n, z, dtype, spread)
                if spread == 0.0:          # the prior itself: KL is exactly 0
                    inputs = {k: np.zeros_like(v) for k, v in inputs.items()}
                out.append(case(len(out), visible, (ONE if z == 1 else MANY,), inputs,
                                f"mu and logvar of shape ({n}, {z}), {np.dtype(dtype).name}"
                                + (", both zero" if spread == 0.0 else "")))
        return out

    def probe(self, module, inputs):
        mu, logvar = tensors(inputs, "mu", "logvar")
        return module.kl_divergence(mu, logvar)

    def reference(self, case):
        mu, logvar = tensors(case.inputs, "mu", "logvar")
        return oracle_kl_divergence(mu, logvar).numpy()

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
                out.append(case(len(out), visible, tuple(self.parts), inputs,
                                f"mu, logvar and eps of shape ({n}, {z}), {np.dtype(dtype).name}"))
        return out

    def probe(self, module, inputs):
        mu, logvar = tensors(inputs, "mu", "logvar", grad=True)
        z = module.reparameterize(mu, logvar, torch.tensor(inputs["eps"]))
        result = {"z": z, "grad_mu": None, "grad_logvar": None, "grad_error": None}
        if isinstance(z, torch.Tensor) and z.shape == mu.shape and z.requires_grad:
            z.backward(torch.tensor(inputs["upstream"]))
            result.update(grad_mu=mu.grad, grad_logvar=logvar.grad)
        elif isinstance(z, torch.Tensor):
            result["grad_error"] = "the result does not depend on mu or logvar through autograd" \
                if not z.requires_grad else f"the result has shape {tuple(z.shape)}"
        return result

    def reference(self, case):
        mu, logvar = tensors(case.inputs, "mu", "logvar", grad=True)
        z = oracle_reparameterize(mu, logvar, torch.tensor(case.inputs["eps"]))
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
                rows = [(MODERATE, r.uniform(0, 1, (4, 6)).astype(np.float32), 2.0, "x in [0, 1] of shape (4, 6)"),
                        (MODERATE, (r.uniform(0, 1, (2, 1, 4, 4)) > 0.5).astype(np.float32), 2.0,
                         "binary x of shape (2, 1, 4, 4)"),
                        (LARGE, (r.uniform(0, 1, (2, 5)) > 0.5).astype(np.float32), 200.0,
                         "binary x of shape (2, 5), logits around +-200")]
            else:
                rows = [(MODERATE, digits[:1].reshape(1, 784), 3.0, "one digit of shape (1, 784)"),
                        (MODERATE, digits[1:4], 3.0, "three digits of shape (3, 1, 28, 28)"),
                        (MODERATE, r.uniform(0, 1, (5, 3)), 1.0, "x in [0, 1] of shape (5, 3), float64"),
                        (LARGE, (r.uniform(0, 1, (3, 8)) > 0.5).astype(np.float32), 1e4,
                         "binary x of shape (3, 8), logits around +-10,000"),
                        (LARGE, digits[4:6].reshape(2, 784), 50.0, "two digits, logits around +-50")]
            for part, x, scale, label in rows:
                sign = np.where(r.uniform(0, 1, x.shape) > 0.5, 1.0, -1.0)
                logits = (sign * scale * r.uniform(0.5, 1.5, x.shape) if part == LARGE
                          else r.normal(0, scale, x.shape)).astype(x.dtype)
                out.append(case(len(out), visible, (part,), {"x": x.astype(x.dtype), "logits": logits}, label))
        return out

    def probe(self, module, inputs):
        x, logits = tensors(inputs, "x", "logits")
        return module.bernoulli_nll(x, logits)

    def reference(self, case):
        x, logits = tensors(case.inputs, "x", "logits")
        return oracle_bernoulli_nll(x, logits).numpy()

    def judge(self, case, output, reference):
        problem = compare_tensor(output, reference, "-log p(x | z)")
        if problem and isinstance(output, Tensor) and output.array.shape == reference.shape:
            pixels = case.inputs["x"][0].size
            got = output.array.astype(np.float64)
            if np.allclose(got, reference / pixels, rtol=1e-4, atol=1e-6):
                problem = f"this is the mean over the pixels; sum them ({problem})"
            elif case.parts[0] == LARGE:
                problem = ("large logits need a stable formula (F.binary_cross_entropy_with_logits); sigmoid then "
                           f"log, or a loss that takes probabilities, breaks down there ({problem})")
        elif problem and isinstance(output, Tensor) and output.array.ndim == 0:
            problem = f"one value per example, not a single number for the batch ({problem})"
        return {case.parts[0]: problem}


# --- VAE ---------------------------------------------------------------------------------------------

ROLES = ("encoder", "head", "head", "decoder", "output")


def role_shapes(in_features: int, hidden: int, z_dim: int) -> dict[str, tuple[int, int]]:
    return {"encoder": (in_features, hidden), "head": (hidden, z_dim), "decoder": (z_dim, hidden),
            "output": (hidden, in_features)}


def vae_weights(seed: int, in_features: int, hidden: int, z_dim: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, bias) for the five layers in :data:`ROLES` order, PyTorch's init scale, fixed generator."""
    generator = torch.Generator().manual_seed(seed)
    shapes = role_shapes(in_features, hidden, z_dim)
    out = []
    for role in ROLES:
        fan_in, fan_out = shapes[role]
        bound = 1.0 / math.sqrt(fan_in)
        weight = (torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound
        bias = (torch.rand(fan_out, generator=generator) * 2 - 1) * bound
        out.append((weight, bias))
    return out


def find_linears(net: nn.Module, in_features: int, hidden: int, z_dim: int) -> tuple[str | None, list | None]:
    """(structure problem, the five layers in ROLES order) of a student's VAE, found by shape."""
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    shapes = role_shapes(in_features, hidden, z_dim)
    by_role = {role: [m for m in linears if (m.in_features, m.out_features) == shape] for role, shape in shapes.items()}
    wanted = {"encoder": 1, "head": 2, "decoder": 1, "output": 1}
    found = ", ".join(f"Linear({m.in_features}, {m.out_features})" for m in linears) or "none"
    expected = (f"Linear({in_features}, {hidden}), two Linear({hidden}, {z_dim}), Linear({z_dim}, {hidden}), "
                f"Linear({hidden}, {in_features})")
    if len(linears) != 5 or any(len(by_role[role]) != n for role, n in wanted.items()):
        return f"expected five Linear layers: {expected}; found {found}", None
    if any(m.bias is None for m in linears):
        return "every Linear layer needs a bias", None
    return None, [by_role["encoder"][0], *by_role["head"], by_role["decoder"][0], by_role["output"][0]]


def reference_parts(weights, x: torch.Tensor, z: torch.Tensor, eps: torch.Tensor) -> dict:
    (we, be), (w1, b1), (w2, b2), (wd, bd), (wo, bo) = weights
    h = torch.relu(F.linear(x.reshape(len(x), -1), we, be))
    head1, head2 = F.linear(h, w1, b1), F.linear(h, w2, b2)

    def decode(latent):
        return F.linear(torch.relu(F.linear(latent, wd, bd)), wo, bo)

    # Which head is mu is the student's choice (the two are alike): both readings are kept.
    return {"heads": (head1.numpy(), head2.numpy()), "decoded": decode(z).numpy(),
            "forward": (decode(oracle_reparameterize(head1, head2, eps)).numpy(),
                        decode(oracle_reparameterize(head2, head1, eps)).numpy())}


def raised(what: str, result: dict) -> str | None:
    return f"{what} {raised_text(result)}" if "raised" in result else None


STRUCTURE = "five Linear layers of the right shapes"
ENCODE, DECODE = "encode(x): mu and logvar (x flattened)", "decode(z): logits"
FORWARD = "forward(x, eps): (logits, mu, logvar); eps drawn from N(0, I) when None"
SAMPLES = 400


class Vae(Check):
    parts = {STRUCTURE: 1.0, ENCODE: 1.0, DECODE: 1.0, FORWARD: 1.0}
    # (visible, (in_features, hidden, z_dim) or None for the defaults, N, whether eps is drawn by forward)
    ROWS = [(True, None, 3, False), (True, (12, 10, 3), SAMPLES, True),
            (False, (20, 16, 3), 5, False), (False, (784, 64, 2), 4, False), (False, (30, 8, 5), 2, False),
            (False, (6, 9, 2), SAMPLES, True)]

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
                inputs = {"config": config, "x": x, "seed": 300 + len(out), "sampling": sampling,
                          "z": r.standard_normal((n, z_dim)).astype(np.float32),
                          "eps": r.standard_normal((n, z_dim)).astype(np.float32)}
                if sampling:
                    out.append(case(len(out), visible, (FORWARD,), inputs,
                                    f"{call}: forward(x) without eps on {n} inputs (the noise it draws)"))
                else:
                    out.append(case(len(out), visible, tuple(self.parts), inputs,
                                    f"{call} on x of shape {tuple(x.shape)}"))
        return out

    def probe(self, module, inputs):
        config = inputs["config"]
        in_features, hidden, z_dim = config or (784, 512, 2)
        net = module.VAE() if config is None else module.VAE(in_features=in_features, hidden=hidden, z_dim=z_dim)
        if not isinstance(net, nn.Module):
            raise ProbeError(f"VAE(...) is {type(net).__name__}, not an nn.Module")
        problem, layers = find_linears(net, in_features, hidden, z_dim)
        if layers is None:
            return {"structure": problem}
        with torch.no_grad():
            for layer, (weight, bias) in zip(layers, vae_weights(inputs["seed"], in_features, hidden, z_dim)):
                layer.weight.copy_(weight)
                layer.bias.copy_(bias)
        x = torch.from_numpy(inputs["x"])
        with torch.no_grad(), substituted(module, reparameterize=oracle_reparameterize):
            if inputs["sampling"]:
                return {"structure": None, **self.sampling(net, layers[3], x)}
            # Each method on its own: one that raises does not stop the others from being checked.
            return {"structure": None, "encoded": outcome(lambda: net.encode(x)),
                    "decoded": outcome(lambda: net.decode(torch.from_numpy(inputs["z"]))),
                    "forward": outcome(lambda: net(x, torch.from_numpy(inputs["eps"])))}

    @staticmethod
    def sampling(net: nn.Module, decoder_input: nn.Module, x: torch.Tensor) -> dict:
        """Two calls of forward(x): the latent vectors the decoder received, and mu, logvar."""
        seen: list[torch.Tensor] = []
        handle = decoder_input.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
        try:
            first, second = net(x), net(x)
        finally:
            handle.remove()
        if not all(isinstance(r, (tuple, list)) and len(r) == 3 for r in (first, second)):
            raise ProbeError("forward(x) must return (logits, mu, logvar)")
        return {"latents": seen, "mu": first[1], "logvar": first[2]}

    def reference(self, case):
        i = case.inputs
        in_features, hidden, z_dim = i["config"] or (784, 512, 2)
        weights = vae_weights(i["seed"], in_features, hidden, z_dim)
        with torch.no_grad():
            return reference_parts(weights, torch.from_numpy(i["x"]), torch.from_numpy(i["z"]),
                                   torch.from_numpy(i["eps"]))

    def judge(self, case, output, reference):
        if output["structure"] is not None:
            unchecked = f"cannot be checked: {output['structure']}"
            return {part: output["structure"] if part == STRUCTURE else unchecked for part in case.parts}
        if case.inputs["sampling"]:
            return {FORWARD: self.judge_sampling(output, reference)}
        encoded, order = self.judge_encoded(output["encoded"], reference["heads"])
        decoded = raised("decode(z)", output["decoded"]) or \
            compare_tensor(output["decoded"]["value"], reference["decoded"], "decode(z)")
        forward = raised("forward(x, eps)", output["forward"]) or \
            self.judge_forward(output["forward"]["value"], reference, order)
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
            problem = (problem or "mu is right but logvar is not") + \
                " (encoder: Linear, ReLU, then a Linear head each for mu and logvar; x flattened to (N, in_features))"
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
            return (f"with eps=None, the noise implied by z = mu + exp(logvar / 2) * eps has mean {mean:.3f} and "
                    f"standard deviation {std:.3f}; draw eps from N(0, I) (torch.randn_like(mu))")
        return None


# --- elbo_loss ---------------------------------------------------------------------------------------

VALUE, FORM = ("the batch mean of bernoulli_nll + kl_divergence",
               "a 0-d tensor whose gradients reach logits, mu and logvar")


class ElboLoss(Check):
    parts = {VALUE: 2.0, FORM: 1.0}
    ROWS = [(True, (4, 6), 2, np.float32), (False, (3, 1, 4, 4), 3, np.float32), (False, (1, 10), 1, np.float32),
            (False, (5, 7), 4, np.float64)]

    def cases(self):
        out = []
        for visible in (True, False):
            r = rng("vae.elbo_loss", visible)
            for visible_row, shape, z, dtype in self.ROWS:
                if visible_row != visible:
                    continue
                n = shape[0]
                inputs = {"x": r.uniform(0, 1, shape).astype(dtype), "logits": r.normal(0, 2, shape).astype(dtype),
                          **gaussian(r, n, z, dtype)}
                out.append(case(len(out), visible, tuple(self.parts), inputs,
                                f"x and logits of shape {shape}, mu and logvar of shape ({n}, {z}), "
                                f"{np.dtype(dtype).name}"))
        return out

    def probe(self, module, inputs):
        x = torch.tensor(inputs["x"])
        logits, mu, logvar = tensors(inputs, "logits", "mu", "logvar", grad=True)
        with substituted(module, bernoulli_nll=oracle_bernoulli_nll, kl_divergence=oracle_kl_divergence):
            loss = module.elbo_loss(x, logits, mu, logvar)
        grads = None
        if isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.requires_grad:
            loss.backward()
            grads = [t.grad for t in (logits, mu, logvar)]
        return {"loss": loss, "grads": grads}

    def reference(self, case):
        x = torch.tensor(case.inputs["x"])
        logits, mu, logvar = tensors(case.inputs, "logits", "mu", "logvar")
        per_example = oracle_bernoulli_nll(x, logits) + oracle_kl_divergence(mu, logvar)
        loss = per_example.mean()
        return {"loss": loss.item(), "per_example": per_example.detach().numpy()}

    def judge(self, case, output, reference):
        loss = output["loss"]
        value = self.value_problem(loss, reference)
        form = None
        if not isinstance(loss, Tensor):
            form = f"elbo_loss returned {describe_type(loss)}; return the tensor itself (no .item()), so that " \
                   "loss.backward() works"
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
