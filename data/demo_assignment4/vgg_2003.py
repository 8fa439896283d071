"""Assignment 4, vgg: VGG-11 for 32x32 digits, and a training loop with four curves (15 points).

VGG-11 is configuration "A" of the VGG family: eight 3x3 convolutions in five blocks,
each block closed by a 2x2 max-pool, then three fully connected layers. The original
network takes 224x224 colour images; here it takes 32x32 images (MNIST digits padded
from 28 to 32), so five poolings bring the feature maps down to 1x1 and the first
fully connected layer has 512 inputs.

Shapes: images come in batches of shape (N, in_channels, 32, 32); the network returns
logits of shape (N, num_classes).

Graded names and points:
    get_vgg11   6
    train_vgg   9

Rules (the grader enforces them):
* Keep every graded function's name, and its parameters in their order with their
  defaults. The grader passes parameters without a default by position and the others by
  name, so adding a parameter that has a default is fine (your feedback notes it), while
  a missing or renamed function, a removed or reordered parameter, a renamed parameter
  that has a default, or a changed default earns 0 for that function.
* Import only torch, NumPy and the Python standard library. Any other import
  (torchvision included) earns 0 for every function of this file.
* Replace each ``raise NotImplementedError(...)`` with your code.
"""
import torch
from torch import nn

# The convolution widths of VGG configuration "A"; "M" is a 2x2 max-pool with stride 2.
VGG11_CONFIG = (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")


def get_vgg11(in_channels=1, num_classes=10, fc_width=4096):
    """Build VGG-11 for (N, in_channels, 32, 32) inputs.

    1. The feature extractor, following ``VGG11_CONFIG``: each number is a
       ``Conv2d(previous_channels, number, kernel_size=3, padding=1)`` followed by a ReLU
       (the first convolution has ``in_channels`` inputs); each ``"M"`` is a
       ``MaxPool2d(kernel_size=2, stride=2)``.
    2. The classifier: flatten (an ``nn.Flatten()`` layer, or ``torch.flatten(x, 1)`` in
       a ``forward`` of your own), ``Linear(512, fc_width)``, ReLU, ``Dropout(0.5)``,
       ``Linear(fc_width, fc_width)``, ReLU, ``Dropout(0.5)``,
       ``Linear(fc_width, num_classes)``.

    Keep PyTorch's default initialization and biases everywhere. With the defaults the
    network has 28,142,858 parameters; ``fc_width`` lets you build a much smaller one
    (the notebook trains one with ``fc_width=64``).

    Returns:
        An ``nn.Module`` mapping (N, in_channels, 32, 32) to (N, num_classes) logits.

    Pitfalls: count the pools (five, so 32 -> 1); dropout belongs after the first two
    fully connected layers only, and must switch off in evaluation mode.
    """
    raise NotImplementedError("get_vgg11: not implemented yet (see the docstring)")


def train_vgg(net, train_loader, test_loader, num_epochs, lr, device="cpu"):
    """Train ``net`` with SGD and momentum, and record four curves.

    Steps:
    1. Move the network to ``device``. Create one optimizer,
       ``torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)``, and use the mean
       cross-entropy (``nn.CrossEntropyLoss()``).
    2. In each epoch, with the network in training mode, take one optimizer step per
       batch of ``train_loader``, in order: reset the gradients, forward, loss,
       backward, step. Move each batch to ``device``.
    3. After each epoch's training, evaluate on ``train_loader`` and on ``test_loader``
       with the network in evaluation mode (``net.eval()``) and without gradients
       (``torch.no_grad()``): the mean cross-entropy per example and the fraction of
       examples classified correctly.

    Args:
        net: the ``nn.Module`` to train (for example from ``get_vgg11``).
        train_loader, test_loader: iterables of ``(X, y)`` batches, e.g. ``DataLoader``s.
        num_epochs: the number of passes over ``train_loader``.
        lr: the learning rate.
        device: where to train, e.g. ``"cpu"`` or ``"cuda"``.

    Returns:
        A dict of four lists, each with one Python float per epoch:
        * ``"train_loss"``: the mean of the epoch's batch losses, taken during training;
        * ``"train_acc"``: accuracy on ``train_loader`` in the evaluation after the epoch;
        * ``"test_loss"``: mean cross-entropy per test example in that evaluation;
        * ``"test_acc"``: accuracy on ``test_loader`` in that evaluation.
        Accuracies are fractions between 0 and 1.

    Pitfalls: the last batch may be smaller than the others, so sum the losses and the
    correct guesses over all examples and divide by the number of examples, rather than
    averaging per-batch values; create the optimizer once (its momentum lives in it);
    never train on ``test_loader``.
    """
    raise NotImplementedError("train_vgg: not implemented yet (see the docstring)")
