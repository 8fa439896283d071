"""The third assignment pack, "assignment4" (contract: ASSIGNMENT.md in this folder).

Four files: the arithmetic of convolutional networks (plain Python), VGG-11 and its
training loop, a character-level LSTM, and a variational auto-encoder. Like every pack,
this file is the single place where names, points, signatures, allowed imports and time
limits are declared; the checks live in the modules next to it.
"""

from __future__ import annotations

from ...assignment import Assignment, GradedName, Signature, TaskFile
from ...judging.reference import SOLUTIONS, TEMPLATES
from . import cnn, lstm, vae, vgg

TORCH = frozenset({"numpy", "torch"})


def _name(task: str, path: str, points: float, signature: str, check, timeout: float = 20.0) -> GradedName:
    return GradedName(task, path, points, Signature(signature), check, timeout)


ASSIGNMENT = Assignment(
    name="assignment4",
    title="Assignment 4: CNN arithmetic, VGG-11, a character LSTM and a VAE",
    solutions_dir=str(SOLUTIONS),
    templates_dir=str(TEMPLATES),
    files=(
        TaskFile(
            "cnn",
            "cnn_template.py",
            "cnn.py",
            (
                _name("cnn", "conv_output_size", 2, "(size, kernel, stride=1, padding=0)", cnn.ConvOutputSize(), 10),
                _name("cnn", "same_padding", 1, "(kernel)", cnn.SamePadding(), 10),
                _name("cnn", "receptive_field", 3, "(layers)", cnn.ReceptiveField(), 10),
                _name("cnn", "conv_params", 2, "(in_channels, out_channels, kernel, bias=True)", cnn.ConvParams(), 10),
                _name("cnn", "residual_block_params", 4, "(channels, bottleneck=False)", cnn.ResidualBlockParams(), 10),
                _name("cnn", "bn_stat_shape", 3, "(x_shape, layout)", cnn.BnStatShape(), 10),
            ),
            allowed_packages=frozenset(),
        ),
        TaskFile(
            "vgg",
            "vgg_template.py",
            "vgg.py",
            (
                _name("vgg", "get_vgg11", 6, "(in_channels=1, num_classes=10, fc_width=4096)", vgg.GetVgg11(), 60),
                _name(
                    "vgg",
                    "train_vgg",
                    9,
                    '(net, train_loader, test_loader, num_epochs, lr, device="cpu")',
                    vgg.TrainVgg(),
                    60,
                ),
            ),
            allowed_packages=TORCH,
        ),
        TaskFile(
            "lstm",
            "lstm_template.py",
            "lstm.py",
            (
                _name("lstm", "one_hot_ascii", 3, "(text)", lstm.OneHotAscii(), 10),
                _name("lstm", "CharLSTM", 6, "(self, hidden_size=128, num_classes=2)", lstm.CharLSTM(), 30),
                _name("lstm", "train_lstm", 6, "(net, batches, lr)", lstm.TrainLstm(), 30),
            ),
            allowed_packages=TORCH,
        ),
        TaskFile(
            "vae",
            "vae_template.py",
            "vae.py",
            (
                _name("vae", "kl_divergence", 3, "(mu, logvar)", vae.KlDivergence(), 10),
                _name("vae", "reparameterize", 2, "(mu, logvar, eps)", vae.Reparameterize(), 10),
                _name("vae", "bernoulli_nll", 3, "(x, logits)", vae.BernoulliNll(), 10),
                _name("vae", "VAE", 4, "(self, in_features=784, hidden=512, z_dim=2)", vae.Vae(), 30),
                _name("vae", "elbo_loss", 3, "(x, logits, mu, logvar)", vae.ElboLoss(), 10),
            ),
            allowed_packages=TORCH,
        ),
    ),
)
