"""assignment2's references: the pack's own correct versions of what students write, and the
expected values computed with PyTorch.

Grader side. The checks call these in the grader's own process. The stand-ins (``relu``,
``DNNforward``, ``DNNbackward``) are also sent to a child, as source text, but only when
the graded name that runs with them has its turn, after every name they could answer is
done (see ``Check.stand_ins``); a stand-in therefore uses nothing but NumPy and torch.
The student kit has none of this file (:mod:`grader.authoring.student_kit`).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

PARAM_KEYS = ("W1", "b1", "W2", "b2")

# --- task1: stand-ins for the names train, DNNforward and DNNbackward call ----------------------


def relu(x):
    return np.maximum(x, 0)


def _torch_forward(X, params, requires_grad=False):
    tensors = {k: torch.tensor(v, requires_grad=requires_grad) for k, v in params.items()}
    hidden = torch.relu(torch.from_numpy(np.asarray(X)) @ tensors["W1"] + tensors["b1"])
    return hidden @ tensors["W2"] + tensors["b2"], tensors


def DNNforward(X, params):
    """The forward pass ``train`` is graded with, so that a bug in DNNforward costs only DNNforward."""
    logits, _ = _torch_forward(X, params)
    return logits.numpy(), {"X": X}


def DNNbackward(y, params, cache):
    """The matching backward pass, by autograd (mean softmax cross-entropy)."""
    logits, tensors = _torch_forward(cache["X"], params, requires_grad=True)
    loss = F.cross_entropy(logits, torch.as_tensor(np.asarray(y)).long())
    loss.backward()
    return loss.item(), {key: tensors[key].grad.numpy() for key in PARAM_KEYS}


# --- task1: expected values ---------------------------------------------------------------------


def relu_of(x: np.ndarray) -> np.ndarray:
    return torch.relu(torch.from_numpy(x)).numpy()


def prelu_of(x: np.ndarray, a) -> np.ndarray:
    t = torch.from_numpy(x)
    return torch.where(t > 0, t, torch.as_tensor(a, dtype=t.dtype) * t).numpy()


def logits_of(X: np.ndarray, params: dict) -> np.ndarray:
    return _torch_forward(X, params)[0].numpy()


def loss_and_grads(X: np.ndarray, y: np.ndarray, params: dict) -> dict:
    logits, tensors = _torch_forward(X, params, requires_grad=True)
    loss = F.cross_entropy(logits, torch.from_numpy(y).long())
    loss.backward()
    return {"loss": loss.item(), "grads": {k: tensors[k].grad.numpy() for k in PARAM_KEYS}}


# --- layers: Conv1D against torch.nn.functional.conv1d ------------------------------------------


def conv1d(x: np.ndarray, W: np.ndarray, b: np.ndarray | None, stride: int) -> np.ndarray:
    """torch's cross-correlation of one batch."""
    bias = None if b is None else torch.from_numpy(b)
    return F.conv1d(torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(W)), bias, stride=stride).numpy()


def conv_outputs(inputs: dict) -> dict:
    """y of the forward pass, and dx, dW and db of the backward pass with upstream ``delta``."""
    stride = inputs["sizes"][4]
    x = torch.tensor(inputs["x"], requires_grad=True)
    W = torch.tensor(inputs["W"], requires_grad=True)
    b = torch.tensor(inputs["b"], requires_grad=True)
    y = F.conv1d(x, W, b, stride=stride)
    y.backward(torch.from_numpy(inputs["delta"]))
    assert x.grad is not None and W.grad is not None and b.grad is not None  # backward() filled them
    return {"y": y.detach().numpy(), "dx": x.grad.numpy(), "dW": W.grad.numpy(), "db": b.grad.numpy()}


def conv_mistakes(inputs: dict) -> dict:
    """What classic wrong forward passes give on these inputs, for naming a student's mistake:
    the output shape without the stride, a flipped kernel, swapped channel axes."""
    _, cin, cout, kernel, stride, _ = inputs["sizes"]
    x, W, b = inputs["x"], inputs["W"], inputs["b"]
    return {
        "unstrided_shape": tuple(conv1d(x, W, b, 1).shape),
        "flipped": conv1d(x, W[:, :, ::-1], b, stride) if kernel > 1 else None,
        "swapped": conv1d(x, W.transpose(1, 0, 2), b, stride) if cin == cout and cin > 1 else None,
    }
