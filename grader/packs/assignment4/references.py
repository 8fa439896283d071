"""assignment4's references: expected values computed with PyTorch, and the pack's own
correct versions of what students write.

Grader side: called in the grader's own process. The stand-ins (``conv_params``,
``reparameterize``, ``bernoulli_nll``, ``kl_divergence``) are also sent to a child, as
source text, when the graded name that runs with them has its turn (after every name
they could answer is done), so they use nothing but torch. The student kit has none of
this file.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal
from torch.distributions import kl_divergence as distributions_kl

ASCII = 128


# --- cnn: expected values, from PyTorch ---------------------------------------------------------


def output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int | None:
    """The length F.conv1d returns, or None when it refuses the input (the kernel does not fit)."""
    x, w = torch.zeros(1, 1, size), torch.zeros(1, 1, kernel)
    try:
        return int(F.conv1d(x, w, stride=stride, padding=padding).shape[-1])
    except RuntimeError:
        return None


def same_padding(kernel: int) -> int | None:
    """The symmetric padding that keeps conv1d's length for several lengths, or None."""
    for padding in range(kernel):
        if all(output_size(n, kernel, 1, padding) == n for n in (kernel, kernel + 1, 2 * kernel + 3)):
            return padding
    return None


def receptive_field(layers: list[tuple[int, int]]) -> int:
    """How many input positions autograd finds behind the first unit of the last layer.

    Each layer is a conv1d with positive weights, so the gradient of that unit is
    positive exactly on the input positions it depends on.
    """
    length = 1
    while True:
        x = torch.zeros(1, 1, length, dtype=torch.float64, requires_grad=True)
        y = x
        try:
            for kernel, stride in layers:
                y = F.conv1d(y, torch.ones(1, 1, kernel, dtype=torch.float64), stride=stride)
        except RuntimeError:  # the input is too short for the chain
            length *= 2
            continue
        y[0, 0, 0].backward()
        assert x.grad is not None  # backward() filled it
        used = torch.nonzero(x.grad[0, 0]).flatten()
        return int(used.max() - used.min() + 1)


def count(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def conv_params(in_channels, out_channels, kernel, bias=True):
    """The parameters of nn.Conv2d; also the conv_params residual_block_params runs with (a
    stand-in: it reaches that child once conv_params is done)."""
    return count(nn.Conv2d(in_channels, out_channels, kernel, bias=bias, device="meta"))


def residual_block(channels: int, bottleneck: bool, conv_bias: bool = False, norm: bool = True) -> nn.Module:
    """The block as torch modules (on the meta device); variants name common slips."""

    def conv(cin: int, cout: int, kernel: int) -> list[nn.Module]:
        layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=conv_bias, device="meta")]
        return layers + ([nn.BatchNorm2d(cout, device="meta")] if norm else [])

    if not bottleneck:
        return nn.Sequential(*conv(channels, channels, 3), nn.ReLU(), *conv(channels, channels, 3))
    inner = channels // 4
    return nn.Sequential(
        *conv(channels, inner, 1), nn.ReLU(), *conv(inner, inner, 3), nn.ReLU(), *conv(inner, channels, 1)
    )


def block_params(channels: int, bottleneck: bool) -> int:
    return count(residual_block(channels, bottleneck))


def block_params_slips(channels: int, bottleneck: bool) -> list[tuple[int, str]]:
    """What typical slips count for a residual block, each with what went wrong."""
    expected = block_params(channels, bottleneck)
    slips = [
        (
            count(residual_block(channels, bottleneck, norm=False)),
            "batch norm is left out: it learns a scale and a shift per channel",
        ),
        (
            count(residual_block(channels, bottleneck, conv_bias=True)),
            "the convolutions are counted with biases; here they have none (batch norm follows them)",
        ),
        (
            expected
            + sum(
                m.num_features for m in residual_block(channels, bottleneck).modules() if isinstance(m, nn.BatchNorm2d)
            )
            * 2,
            "batch norm's running mean and variance are counted; they are not trained",
        ),
    ]
    if bottleneck:
        inner = channels // 4
        wide = nn.Sequential(
            nn.Conv2d(channels, inner, 1, bias=False, device="meta"),
            nn.BatchNorm2d(inner),
            nn.Conv2d(inner, channels, 3, bias=False, device="meta"),
            nn.BatchNorm2d(channels),
            nn.Conv2d(channels, channels, 1, bias=False, device="meta"),
            nn.BatchNorm2d(channels),
        )
        slips.append((count(wide), "the 3x3 convolution works at channels // 4 on both sides"))
    return slips


LAYOUTS = ("NC", "NCHW", "NHWC")


def stat_shape(shape: tuple[int, ...], layout: str) -> tuple[int, ...] | None:
    """The shape of batch norm's running mean after one training step on such an input, or None."""
    if layout not in LAYOUTS or len(shape) != len(layout):
        return None
    x = torch.randn(shape)
    if layout == "NHWC":
        x = x.permute(0, 3, 1, 2)  # PyTorch's batch norm wants channels first
    norm = nn.BatchNorm1d(x.shape[1]) if x.dim() == 2 else nn.BatchNorm2d(x.shape[1])
    norm.train()
    with torch.no_grad():
        norm(x)
    assert norm.running_mean is not None  # batch norm tracks running statistics by default
    return tuple(int(s) for s in norm.running_mean.shape)


# --- lstm ----------------------------------------------------------------------------------------


def one_hot(text: str) -> torch.Tensor:
    codes = [ord(c) for c in text if ord(c) < ASCII]
    return F.one_hot(torch.tensor(codes, dtype=torch.long), ASCII).to(torch.float32)


class ReferenceCharLSTM(nn.Module):
    """The contract's CharLSTM: the outputs a student's is compared with."""

    def __init__(self, hidden_size: int = 128, num_classes: int = 2) -> None:
        super().__init__()
        self.lstm = nn.LSTM(ASCII, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, num_classes)

    def load(self, weights: dict) -> ReferenceCharLSTM:
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.lstm, f"{name}_l0").copy_(weights[name])
            self.out.weight.copy_(weights["out_weight"])
            self.out.bias.copy_(weights["out_bias"])
        return self

    def one_by_one(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Each text alone, cut to its length: no padding at all."""
        rows = []
        for i, length in enumerate(lengths.tolist()):
            _, (h, _) = self.lstm(x[i : i + 1, :length])
            rows.append(self.out(h[-1]))
        return torch.log_softmax(torch.cat(rows), dim=1)


def charlstm_outputs(weights: dict, hidden: int, classes: int, x: torch.Tensor, lengths: torch.Tensor) -> dict:
    """The right log-probabilities, and those of the classic slip (the padded last step)."""
    net = ReferenceCharLSTM(hidden, classes).load(weights)
    with torch.no_grad():
        expected = net.one_by_one(x, lengths).numpy()
        outputs, _ = net.lstm(x)
        last_step = torch.log_softmax(net.out(outputs[:, -1]), dim=1).numpy()
    return {"expected": expected, "last_step": last_step}


# --- vae: stand-ins (the names VAE and elbo_loss call), and expected values -------------------------


def kl_divergence(mu, logvar):
    return distributions_kl(Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu))).sum(
        1
    )


def reparameterize(mu, logvar, eps):
    return mu + torch.exp(0.5 * logvar) * eps


def bernoulli_nll(x, logits):
    per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.reshape(per_pixel.shape[0], -1).sum(1)


def vae_parts(weights, x: torch.Tensor, z: torch.Tensor, eps: torch.Tensor) -> dict:
    """The encoder's two heads, decode(z), and forward(x, eps) under both readings of which head is mu."""
    (we, be), (w1, b1), (w2, b2), (wd, bd), (wo, bo) = weights
    h = torch.relu(F.linear(x.reshape(len(x), -1), we, be))
    head1, head2 = F.linear(h, w1, b1), F.linear(h, w2, b2)

    def decode(latent):
        return F.linear(torch.relu(F.linear(latent, wd, bd)), wo, bo)

    # Which head is mu is the student's choice (the two are alike): both readings are kept.
    return {
        "heads": (head1.numpy(), head2.numpy()),
        "decoded": decode(z).numpy(),
        "forward": (
            decode(reparameterize(head1, head2, eps)).numpy(),
            decode(reparameterize(head2, head1, eps)).numpy(),
        ),
    }
