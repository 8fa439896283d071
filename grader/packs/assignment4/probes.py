"""assignment4's probes: what runs next to the student's code (child side).

One probe per graded name: it calls the student's code on one case's inputs and returns
plain data; nothing here knows a right answer (the checks in cnn.py ... vae.py judge,
with references.py). What a probe and the grader's references share (how known weights
are drawn, how a VGG runs) lives here, because the child may hold it and the grader may
import it. Probes with a ``stand_ins`` parameter run the student's code with reference
versions of the names it calls (empty in the student kit: there the student's own run).
"""

from __future__ import annotations

import math
import zlib
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...probing import ProbeError, outcome, probe, substituted, warm
from ...probing.nets import build_chain, built_without_init, canonical_forward, count_parameters, portable_dropout
from ...probing.training import RecordingBatches, TrainingLog, loaders, watch

ASCII = 128

# --- cnn: integer arithmetic ---------------------------------------------------------------------


def _call(name: str):
    def run(module, inputs):
        function = getattr(module, name)
        return outcome(lambda: function(*inputs["args"], **inputs["kwargs"]))

    return run


for _name in ("conv_output_size", "same_padding", "conv_params"):
    probe(f"cnn.{_name}")(_call(_name))


@probe("cnn.receptive_field")
def receptive_field(module, inputs):
    layers = [tuple(layer) for layer in inputs["args"][0]]
    return outcome(lambda: module.receptive_field(layers))


@probe("cnn.residual_block_params")
def residual_block_params(module, inputs, stand_ins):
    with substituted(module, **stand_ins):  # conv_params
        return outcome(lambda: module.residual_block_params(*inputs["args"], **inputs["kwargs"]))


@probe("cnn.bn_stat_shape")
def bn_stat_shape(module, inputs):
    return outcome(lambda: module.bn_stat_shape(tuple(inputs["shape"]), inputs["layout"]))


# --- vgg: VGG-11 and its training loop -------------------------------------------------------------


def require_module(value: Any) -> nn.Module:
    if not isinstance(value, nn.Module):
        raise ProbeError(f"get_vgg11 returned {type(value).__name__}, not an nn.Module")
    return value


def build(source: Any, kwargs: dict) -> nn.Module:
    return require_module(source.get_vgg11(**kwargs))


def count_on_meta(source: Any, kwargs: dict) -> int:
    """Parameters of the network, built without memory on the meta device (or normally if that fails)."""
    try:
        with torch.device("meta"):
            net = build(source, kwargs)
    except ProbeError:
        raise
    except Exception:  # noqa: BLE001 - some code cannot run on meta tensors: build it for real
        net = build(source, kwargs)
    return count_parameters(net)


def build_for_values(source: Any, kwargs: dict) -> nn.Module:
    """The network without PyTorch's random initialization (see ``probing.nets.built_without_init``)."""
    return built_without_init(lambda: build(source, kwargs))


BLOCK = 4099  # a prime: a repeated block lines up with no axis of any weight tensor


def quick_fill(module: nn.Module, group: str, index: int, seed: int) -> None:
    """Canonical weights that cost little for millions of entries.

    Like the default of :func:`grader.probing.nets.canonical_forward`, the values depend
    only on the layer's group and its position in execution order, at PyTorch's scale;
    but each tensor repeats one random block of :data:`BLOCK` values instead of drawing
    every entry.
    """
    generator = torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(f"{group}#{index}".encode())) % 2**63)
    weight = getattr(module, "weight", None)
    fan_in = weight[0].numel() if isinstance(weight, torch.Tensor) and weight.dim() > 1 else 1
    bound = 1.0 / math.sqrt(max(fan_in, 1))
    norm = "BatchNorm" in type(module).__name__
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)]:
            if not tensor.is_floating_point():
                continue
            low, high = NORM_RANGES.get(name, (0.0, 1.0)) if norm else (-bound, bound)
            block = torch.empty(min(BLOCK, tensor.numel())).uniform_(low, high, generator=generator)
            repeats = -(-tensor.numel() // block.numel())
            tensor.copy_(block.repeat(repeats)[: tensor.numel()].view_as(tensor))


NORM_RANGES = {"weight": (0.5, 1.5), "bias": (-0.5, 0.5), "running_mean": (-0.2, 0.2), "running_var": (0.5, 1.5)}


def run_vgg(source: Any, inputs: dict, reference: bool = False) -> dict:
    """Outputs with canonical weights: in eval mode, and in training mode with a seeded RNG.

    Both runs start from a seeded random generator, so dropout left on in eval mode shows
    as the reference's training-mode output for the eval seed (which the reference adds).
    Dropout draws portable masks (:func:`portable_dropout`), so the stored visible outputs
    hold on every torch version the student kit accepts.
    """
    net = build_for_values(source, inputs["kwargs"])
    x = torch.from_numpy(inputs["x"])
    with torch.random.fork_rng(devices=[]), portable_dropout():
        torch.manual_seed(inputs["seed"])
        traced = canonical_forward(net, x, train_mode=False, fill=quick_fill)  # the weights stay
        out = {
            "leaves": traced["leaves"],
            "error": traced["error"],
            "parameters": traced["parameters"],
            "eval": None if traced["out"] is None else traced["out"].numpy(),
            "train": None,
        }
        if traced["error"] is None:
            with torch.no_grad():
                for key, seed in (("train", inputs["seed"] + 1), ("eval_seed_in_train", inputs["seed"]))[
                    : 1 + reference
                ]:
                    torch.manual_seed(seed)
                    out[key] = net.train()(x).numpy()
    return out


@probe("vgg.get_vgg11")
def get_vgg11(module, inputs):
    if inputs["count_only"]:
        return {"parameters": count_on_meta(module, inputs["kwargs"])}
    return run_vgg(module, inputs)


# The network the grader hands to train_vgg: small, so that every step can be replayed.
TRAIN_CHAIN = [("Conv2d", 1, 4, 3, {"padding": 1}), ("ReLU",), ("MaxPool2d", 2, 2), ("Flatten",), ("Linear", 196, 10)]


@probe("vgg.train_vgg")
def train_vgg(module, inputs):
    net = build_chain(TRAIN_CHAIN)
    log = TrainingLog()
    train, test = loaders(inputs, log)
    finish = watch(net, log)
    device = {"device": inputs["device"]} if inputs["device"] else {}  # a default: passed by keyword
    result = module.train_vgg(net, train, test, inputs["epochs"], inputs["lr"], **device)
    finish()
    return {"result": result, "log": log.export()}


@warm
def _momentum_once() -> None:
    """Momentum's first step sets up lazily; pay for it once, in the forkserver."""
    net = build_chain(TRAIN_CHAIN)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(torch.zeros(2, 1, 14, 14)), torch.tensor([0, 1])).backward()
        optimizer.step()


# --- lstm: one-hot text, the character LSTM, its training loop --------------------------------------


@probe("lstm.one_hot_ascii")
def one_hot_ascii(module, inputs):
    return module.one_hot_ascii(inputs["text"])


def charlstm_weights(seed: int, hidden: int, classes: int) -> dict[str, torch.Tensor]:
    """The weights every CharLSTM is checked with (PyTorch's init scale, a fixed generator)."""
    generator = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(hidden)

    def uniform(*shape: int) -> torch.Tensor:
        return (torch.rand(*shape, generator=generator) * 2 - 1) * bound * 2

    return {
        "weight_ih": uniform(4 * hidden, ASCII),
        "weight_hh": uniform(4 * hidden, hidden),
        "bias_ih": uniform(4 * hidden),
        "bias_hh": uniform(4 * hidden),
        "out_weight": uniform(classes, hidden),
        "out_bias": uniform(classes),
    }


def find_layers(net: nn.Module, hidden: int, classes: int) -> tuple[str | None, nn.Module | None, nn.Linear | None]:
    """(structure problem, recurrent layer, linear layer) of a student's CharLSTM.

    The values can be checked when one recurrent layer (an ``nn.LSTM`` or, off the
    contract, an ``nn.LSTMCell``) of the right sizes and one ``nn.Linear(hidden, classes)``
    are there; the structure part asks for exactly the contract's layers.
    """
    lstms = [m for m in net.modules() if isinstance(m, nn.LSTM)]
    cells = [m for m in net.modules() if isinstance(m, nn.LSTMCell)]
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    want_lstm = f"nn.LSTM(128, {hidden}, batch_first=True)"
    recurrent: nn.Module | None  # an nn.LSTM or nn.LSTMCell
    recurrent, problem = None, None
    if len(lstms) == 1:
        lstm = lstms[0]
        settings = {
            "input_size": ASCII,
            "hidden_size": hidden,
            "num_layers": 1,
            "bidirectional": False,
            "bias": True,
            "proj_size": 0,
        }
        wrong = [f"{k}={getattr(lstm, k)!r}" for k, v in settings.items() if getattr(lstm, k) != v]
        if wrong:
            problem = f"the nn.LSTM has {', '.join(wrong)}; expected {want_lstm}"
        else:
            recurrent = lstm
    elif len(lstms) > 1:
        problem = f"found {len(lstms)} nn.LSTM layers, expected one: {want_lstm}"
    elif len(cells) == 1 and cells[0].input_size == ASCII and cells[0].hidden_size == hidden and cells[0].bias:
        problem, recurrent = f"an nn.LSTMCell stands where the contract has {want_lstm}", cells[0]
    else:
        problem = f"no nn.LSTM found; expected {want_lstm}"
    fitting = [m for m in linears if (m.in_features, m.out_features) == (hidden, classes) and m.bias is not None]
    linear = fitting[0] if len(fitting) == 1 else None
    if len(linears) != 1 or linear is None:
        shapes = ", ".join(f"Linear({m.in_features}, {m.out_features})" for m in linears) or "none"
        problem = problem or f"expected one nn.Linear({hidden}, {classes}) with a bias; found {shapes}"
    return problem, recurrent, linear


def load_weights(recurrent: nn.Module, linear: nn.Linear, weights: dict[str, torch.Tensor]) -> None:
    suffix = "_l0" if isinstance(recurrent, nn.LSTM) else ""
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(recurrent, name + suffix).copy_(weights[name])
        linear.weight.copy_(weights["out_weight"])
        linear.bias.copy_(weights["out_bias"])


@probe("lstm.CharLSTM")
def char_lstm(module, inputs):
    config = inputs["config"]
    net = module.CharLSTM() if config is None else module.CharLSTM(hidden_size=config[0], num_classes=config[1])
    if not isinstance(net, nn.Module):
        raise ProbeError(f"CharLSTM(...) is {type(net).__name__}, not an nn.Module")
    hidden, classes = config or (128, 2)
    problem, recurrent, linear = find_layers(net, hidden, classes)
    if recurrent is None or linear is None:
        return {"structure": problem, "loaded": False}
    load_weights(recurrent, linear, charlstm_weights(inputs["seed"], hidden, classes))
    x, lengths = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["lengths"])
    with torch.no_grad():
        result = outcome(lambda: net(x, lengths))
    return {"structure": problem, "loaded": True, **result}


TRAIN_HIDDEN = 8


class TrainingNet(nn.Module):
    """The network train_lstm is graded with: called like a CharLSTM, ``net(x, lengths)`` ->
    log-probabilities, but not one (no LSTM: a mean over each text's characters), so that
    the child and the student kit hold no answer to CharLSTM."""

    def __init__(self, hidden_size: int = TRAIN_HIDDEN, num_classes: int = 2) -> None:
        super().__init__()
        self.embed = nn.Linear(ASCII, hidden_size)
        self.out = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).to(x.dtype)
        mean = (torch.tanh(self.embed(x)) * mask[:, :, None]).sum(1) / lengths[:, None].to(x.dtype)
        return torch.log_softmax(self.out(mean), dim=1)


@probe("lstm.train_lstm")
def train_lstm(module, inputs):
    torch.manual_seed(inputs["seed"])
    net = TrainingNet(TRAIN_HIDDEN, 2)
    log = TrainingLog()
    batches = RecordingBatches(
        "batches",
        torch.from_numpy(inputs["x"]),
        torch.from_numpy(inputs["lengths"]),
        torch.from_numpy(inputs["y"]),
        inputs["batch"],
        log,
    )
    finish = watch(net, log)
    result = module.train_lstm(net, batches, inputs["lr"])
    finish()
    return {"result": result, "log": log.export()}


@warm
def _lstm_and_adam_once() -> None:
    """The first LSTM pass sets up lazily, and so does the first Adam step; pay for both once."""
    x = torch.zeros(2, 3, ASCII)
    with torch.no_grad():
        nn.LSTM(ASCII, TRAIN_HIDDEN, batch_first=True)(x)
    net = TrainingNet(TRAIN_HIDDEN, 2)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    for _ in range(2):
        optimizer.zero_grad()
        F.nll_loss(net(x, torch.tensor([3, 2])), torch.tensor([0, 1])).backward()
        optimizer.step()


# --- vae: the KL term, the reparameterization, the likelihood, the model, the loss -------------------


def tensors(inputs: dict, *names: str, grad: bool = False) -> list[torch.Tensor]:
    return [torch.tensor(inputs[n], requires_grad=grad) for n in names]


@probe("vae.kl_divergence")
def kl_divergence(module, inputs):
    mu, logvar = tensors(inputs, "mu", "logvar")
    return module.kl_divergence(mu, logvar)


@probe("vae.reparameterize")
def reparameterize(module, inputs):
    mu, logvar = tensors(inputs, "mu", "logvar", grad=True)
    z = module.reparameterize(mu, logvar, torch.tensor(inputs["eps"]))
    result = {"z": z, "grad_mu": None, "grad_logvar": None, "grad_error": None}
    if isinstance(z, torch.Tensor) and z.shape == mu.shape and z.requires_grad:
        z.backward(torch.tensor(inputs["upstream"]))
        result.update(grad_mu=mu.grad, grad_logvar=logvar.grad)
    elif isinstance(z, torch.Tensor):
        result["grad_error"] = (
            "the result does not depend on mu or logvar through autograd"
            if not z.requires_grad
            else f"the result has shape {tuple(z.shape)}"
        )
    return result


@probe("vae.bernoulli_nll")
def bernoulli_nll(module, inputs):
    x, logits = tensors(inputs, "x", "logits")
    return module.bernoulli_nll(x, logits)


ROLES = ("encoder", "head", "head", "decoder", "output")


def role_shapes(in_features: int, hidden: int, z_dim: int) -> dict[str, tuple[int, int]]:
    return {
        "encoder": (in_features, hidden),
        "head": (hidden, z_dim),
        "decoder": (z_dim, hidden),
        "output": (hidden, in_features),
    }


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
    expected = (
        f"Linear({in_features}, {hidden}), two Linear({hidden}, {z_dim}), Linear({z_dim}, {hidden}), "
        f"Linear({hidden}, {in_features})"
    )
    if len(linears) != 5 or any(len(by_role[role]) != n for role, n in wanted.items()):
        return f"expected five Linear layers: {expected}; found {found}", None
    if any(m.bias is None for m in linears):
        return "every Linear layer needs a bias", None
    return None, [by_role["encoder"][0], *by_role["head"], by_role["decoder"][0], by_role["output"][0]]


@probe("vae.VAE")
def vae(module, inputs, stand_ins):
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
    with torch.no_grad(), substituted(module, **stand_ins):  # reparameterize
        if inputs["sampling"]:
            return {"structure": None, **_sampling(net, layers[3], x)}
        # Each method on its own: one that raises does not stop the others from being checked.
        return {
            "structure": None,
            "encoded": outcome(lambda: net.encode(x)),
            "decoded": outcome(lambda: net.decode(torch.from_numpy(inputs["z"]))),
            "forward": outcome(lambda: net(x, torch.from_numpy(inputs["eps"]))),
        }


def _sampling(net: nn.Module, decoder_input: nn.Module, x: torch.Tensor) -> dict:
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


@probe("vae.elbo_loss")
def elbo_loss(module, inputs, stand_ins):
    x = torch.tensor(inputs["x"])
    logits, mu, logvar = tensors(inputs, "logits", "mu", "logvar", grad=True)
    with substituted(module, **stand_ins):  # bernoulli_nll, kl_divergence
        loss = module.elbo_loss(x, logits, mu, logvar)
    grads = None
    if isinstance(loss, torch.Tensor) and loss.dim() == 0 and loss.requires_grad:
        loss.backward()
        grads = [t.grad for t in (logits, mu, logvar)]
    return {"loss": loss, "grads": grads}
