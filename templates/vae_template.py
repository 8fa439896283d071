"""Assignment 4, vae: a variational auto-encoder for digits (15 points).

The encoder maps an image x to the parameters of a Gaussian q(z | x) = N(mu, exp(logvar))
over a small latent vector z (one mean and one log-variance per latent dimension). A
sample z = mu + exp(logvar / 2) * eps, with eps drawn from N(0, I), goes through the
decoder, which returns one logit per pixel: the pixels are modelled as independent
Bernoulli variables with probabilities sigmoid(logits).

Training minimizes the negative evidence lower bound, per example:

    -log p(x | z)  +  KL( q(z | x) || N(0, I) )
    reconstruction    keeps q close to the prior

Shapes: N examples, D pixels (784 for a flattened 28x28 digit), Z latent dimensions.

Graded names and points:
    kl_divergence   3
    reparameterize  2
    bernoulli_nll   3
    VAE             4
    elbo_loss       3

Rules (the grader enforces them):
* Keep every graded name, and its parameters in their order with their
  defaults. The grader passes parameters without a default by position and the others by
  name, so adding a parameter that has a default is fine (your feedback notes it), while
  a missing or renamed name, a removed or reordered parameter, a renamed parameter
  that has a default, or a changed default earns 0 for that name.
* Import only torch, NumPy and the Python standard library. Any other import earns 0 for
  every name of this file.
* Replace each ``raise NotImplementedError(...)`` with your code. Keep the
  ``super().__init__()`` call at the start of ``VAE.__init__``.
* Where one graded function uses another (``elbo_loss`` uses ``bernoulli_nll`` and
  ``kl_divergence``, ``VAE.forward`` uses ``reparameterize``), call it by its name: the
  grader then checks each one on its own, so a mistake costs only the function that
  holds it.
"""
import torch
from torch import nn
import torch.nn.functional as F


def kl_divergence(mu, logvar):
    """KL( N(mu, exp(logvar)) || N(0, I) ) for each example.

    Args:
        mu, logvar: tensors of shape (N, Z), the mean and the log-variance of a Gaussian
            with a diagonal covariance.

    Returns:
        A tensor of shape (N,): for each example, the sum over the Z latent dimensions
        of the KL divergence of that dimension's Gaussian from the standard normal.
        Every term is at least 0, and 0 exactly where mu = 0 and logvar = 0.

    Hint: for one dimension, KL( N(m, s^2) || N(0, 1) ) = (s^2 + m^2 - 1 - log s^2) / 2.
    """
    raise NotImplementedError("kl_divergence: not implemented yet (see the docstring)")


def reparameterize(mu, logvar, eps):
    """A sample of N(mu, exp(logvar)) written as a differentiable function of mu and logvar.

    Args:
        mu, logvar: tensors of shape (N, Z).
        eps: a tensor of shape (N, Z) drawn from N(0, I) by the caller.

    Returns:
        ``mu + sigma * eps`` with the standard deviation ``sigma = exp(logvar / 2)``, of
        shape (N, Z). Gradients must flow back to ``mu`` and ``logvar``.
    """
    raise NotImplementedError("reparameterize: not implemented yet (see the docstring)")


def bernoulli_nll(x, logits):
    """-log p(x | z) for each example, pixels being independent Bernoulli variables.

    Args:
        x: pixel values in [0, 1], shape (N, ...) (e.g. (N, 784) or (N, 1, 28, 28)).
        logits: the decoder's logits, the same shape as ``x``; pixel j is 1 with
            probability sigmoid(logits[..., j]).

    Returns:
        A tensor of shape (N,): the binary cross-entropy of every pixel, summed over all
        axes but the first.

    Pitfalls: work from the logits (``F.binary_cross_entropy_with_logits`` does it
    stably). Taking ``log(sigmoid(logits))`` yourself, or passing probabilities to a loss
    made for probabilities, breaks down for large logits.
    """
    raise NotImplementedError("bernoulli_nll: not implemented yet (see the docstring)")


class VAE(nn.Module):
    """A fully connected VAE with one hidden layer in the encoder and in the decoder."""

    def __init__(self, in_features=784, hidden=512, z_dim=2):
        """Create the layers.

        Encoder: ``Linear(in_features, hidden)`` followed by a ReLU, then two heads,
        ``Linear(hidden, z_dim)`` for mu and ``Linear(hidden, z_dim)`` for logvar.
        Decoder: ``Linear(z_dim, hidden)``, ReLU, ``Linear(hidden, in_features)`` giving
        the logits (no sigmoid: ``bernoulli_nll`` takes logits).

        Keep PyTorch's default initialization; every layer has a bias.
        """
        super().__init__()
        raise NotImplementedError("VAE.__init__: not implemented yet (see the docstring)")

    def encode(self, x):
        """Return ``(mu, logvar)``, each (N, z_dim), for ``x`` of shape (N, ...).

        ``x`` may be a batch of images such as (N, 1, 28, 28): flatten it to
        (N, in_features) first.
        """
        raise NotImplementedError("VAE.encode: not implemented yet (see the docstring)")

    def decode(self, z):
        """Return the logits (N, in_features) for latent vectors ``z`` (N, z_dim)."""
        raise NotImplementedError("VAE.decode: not implemented yet (see the docstring)")

    def forward(self, x, eps=None):
        """Encode, sample and decode.

        Args:
            x: a batch (N, ...) of inputs.
            eps: noise of shape (N, z_dim); when None, draw it from N(0, I)
                (``torch.randn_like``).

        Returns:
            ``(logits, mu, logvar)``: the decoder's logits for
            ``z = reparameterize(mu, logvar, eps)``, and the encoder's mu and logvar.
        """
        raise NotImplementedError("VAE.forward: not implemented yet (see the docstring)")


def elbo_loss(x, logits, mu, logvar):
    """The VAE's training loss: the negative ELBO, averaged over the batch.

    Args:
        x: inputs (N, ...) with pixels in [0, 1].
        logits: the decoder's logits, the same shape as ``x``.
        mu, logvar: the encoder's outputs (N, Z).

    Returns:
        A 0-d tensor: the mean over the N examples of
        ``bernoulli_nll(x, logits) + kl_divergence(mu, logvar)``. Keep it a tensor (no
        ``.item()``), so that ``loss.backward()`` works.
    """
    raise NotImplementedError("elbo_loss: not implemented yet (see the docstring)")
