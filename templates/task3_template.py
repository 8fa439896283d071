"""Task 3: LeNet-5, a small convolutional network, and its training loop (20 points).

You build the classic LeNet-5 for 28x28 grayscale images and write a training function
that also measures accuracy after every epoch.

Shapes: images come in batches of shape (N, 1, 28, 28); the network returns logits of
shape (N, 10), one score per class.

Graded names and points:
    get_lenet   5
    train_cnn  15

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


def get_lenet():
    """Build LeNet-5 as an ``nn.Sequential``, layer by layer in this order:

    1. ``Conv2d(1, 6, kernel_size=5, padding=2)``, then ``Sigmoid``
    2. ``AvgPool2d(kernel_size=2, stride=2)``
    3. ``Conv2d(6, 16, kernel_size=5)``, then ``Sigmoid``
    4. ``AvgPool2d(kernel_size=2, stride=2)``
    5. ``Flatten``
    6. ``Linear(16 * 5 * 5, 120)``, ``Sigmoid``, ``Linear(120, 84)``, ``Sigmoid``,
       ``Linear(84, 10)``

    Returns:
        An ``nn.Module`` mapping (N, 1, 28, 28) to (N, 10) logits, with 61,706
        parameters in total.

    Pitfalls: follow the list exactly (sigmoid, not ReLU; average, not max pooling);
    check the shapes by sending a random batch through the network, and the size with
    ``sum(p.numel() for p in net.parameters())``.
    """
    raise NotImplementedError("get_lenet: not implemented yet (see the docstring)")


def train_cnn(net, train_loader, test_loader, num_epochs, lr, device="cpu"):
    """Initialize, train and evaluate a network.

    Steps:
    1. Give the weight of every ``nn.Conv2d`` and ``nn.Linear`` layer of ``net`` a fresh
       Xavier-uniform initialization (``nn.init.xavier_uniform_``); leave the biases as
       they are. ``net.apply(fn)`` calls ``fn`` on every submodule.
    2. Move the network to ``device`` with ``net.to(device)``.
    3. Train with ``torch.optim.SGD(net.parameters(), lr=lr)`` on the mean cross-entropy
       (``nn.CrossEntropyLoss()``). In each epoch, put the network in training mode and
       take one optimizer step per batch of ``train_loader``, in order (reset the
       gradients, forward, loss, backward, step). Move each batch to ``device``.
    4. After each epoch's training, measure the accuracy on ``train_loader`` and on
       ``test_loader`` with the network in evaluation mode (``net.eval()``) and without
       tracking gradients (``torch.no_grad()``).

    Args:
        net: the ``nn.Module`` to train (for example from ``get_lenet``).
        train_loader, test_loader: iterables of ``(X, y)`` batches, e.g. ``DataLoader``s.
        num_epochs: the number of passes over ``train_loader``.
        lr: the learning rate.
        device: where to train, e.g. ``"cpu"`` or ``"cuda"``.

    Returns:
        A dict of three lists, each with ``num_epochs`` Python floats:
        * ``"train_loss"``: the mean of the batch losses of each epoch;
        * ``"train_acc"``, ``"test_acc"``: the fraction of correctly classified examples
          (between 0 and 1, not a percentage): total correct over total examples.

    Pitfalls: never train on ``test_loader``; forgetting ``zero_grad`` adds up the
    gradients of all batches; evaluating in training mode or with gradients is wrong
    (and slow); the last batch may be smaller, so count examples, do not average the
    per-batch accuracies.
    """
    raise NotImplementedError("train_cnn: not implemented yet (see the docstring)")
