"""Task 2: the two-layer perceptron again, this time with PyTorch (10 points).

Task 1 made you write the forward pass, the gradients and the update by hand. Here PyTorch
does that work: you assemble the same network from ``torch.nn`` layers and write the
usual training loop around an optimizer.

Shapes: the network receives a batch of shape (N, ...) (for example images (N, 1, 28, 28)),
flattens each example to ``input_size`` numbers and returns logits of shape
(N, output_size).

Graded names and points:
    get_DNN      5
    train_torch  5

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


def get_DNN(input_size, hidden_size, output_size):
    """Build the perceptron as a PyTorch module.

    The layers, in this order: flatten each example, a fully connected layer from
    ``input_size`` to ``hidden_size``, ReLU, a fully connected layer from ``hidden_size``
    to ``output_size``. ``nn.Sequential`` is the natural container.

    Args:
        input_size: number of values in one flattened example (784 for 28x28 images).
        hidden_size: width of the hidden layer.
        output_size: number of classes.

    Returns:
        An ``nn.Module`` mapping (N, ...) inputs to (N, output_size) logits.

    Pitfalls: no softmax at the end (``nn.CrossEntropyLoss`` expects raw logits), and
    keep the default initialization of the layers.
    """
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(input_size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, output_size),
    )
    # END SOLUTION


def train_torch(net, train_loader, num_epochs, lr):
    """Train ``net`` in place with mini-batch SGD.

    Use ``torch.optim.SGD(net.parameters(), lr=lr)`` and the mean cross-entropy
    (``nn.CrossEntropyLoss()``). For every batch ``(X, y)`` of ``train_loader``, in the
    order the loader gives them, take exactly one optimizer step: reset the gradients,
    compute the outputs and the loss, back-propagate, step.

    Args:
        net: the ``nn.Module`` to train (for example from ``get_DNN``).
        train_loader: an iterable of ``(X, y)`` batches, e.g. a ``DataLoader``;
            ``y`` holds integer class labels.
        num_epochs: the number of passes over ``train_loader``.
        lr: the learning rate.

    Returns:
        A list of ``num_epochs`` Python floats: entry k is the mean of the batch losses
        of epoch k (the average of ``loss.item()`` over that epoch's batches).

    Pitfalls: forgetting to reset the gradients makes them add up across batches; store
    ``loss.item()``, not the tensor (keeping tensors keeps their graphs alive); put the
    network in training mode first.
    """
    # BEGIN SOLUTION
    net.train()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    epoch_losses = []
    for _ in range(num_epochs):
        batch_losses = []
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(net(X), y)
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
        epoch_losses.append(sum(batch_losses) / len(batch_losses))
    return epoch_losses
    # END SOLUTION
