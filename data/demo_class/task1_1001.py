"""Task 1: a two-layer perceptron written with NumPy only (20 points).

You build, by hand, a small classifier with one hidden layer:

    hidden = relu(X @ W1 + b1)        X (N, D)  ->  hidden (N, H)
    logits = hidden @ W2 + b2         hidden (N, H)  ->  logits (N, C)

and train it with softmax cross-entropy and full-batch gradient descent. The weights
travel in a dict ``params`` with the keys ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C) and
``b2`` (C,). N is the number of examples, D the number of input features, H the hidden
width and C the number of classes.

Graded names and points:
    relu         3
    prelu        2
    DNNforward   5
    DNNbackward  5
    train        5

Rules (the grader enforces them):
* Keep every graded function's name, and its parameters in their order with their
  defaults. The grader passes parameters without a default by position and the others by
  name, so adding a parameter that has a default is fine (your feedback notes it), while
  a missing or renamed function, a removed or reordered parameter, a renamed parameter
  that has a default, or a changed default earns 0 for that function.
* Import only NumPy and the Python standard library. Any other import (torch included)
  earns 0 for every function of this file.
* Do not modify the arrays or the dict you are given; build new ones.
* Replace each ``raise NotImplementedError(...)`` with your code. Helper functions of your
  own are fine, but the graded functions must keep working when called on their own.
"""
import numpy as np


def relu(x):
    """Rectified linear unit, elementwise: ``max(x, 0)``.

    Args:
        x: a NumPy array of any shape (float32 or float64).

    Returns:
        A new array with the same shape and dtype as ``x``: positive entries are kept,
        the others become 0.

    Pitfalls: do not write into ``x`` (e.g. ``x[x < 0] = 0`` changes the caller's
    array), and do not let the dtype change (a float32 input must give float32).
    """
    # BEGIN SOLUTION
    # A plain Python 0 does not change the dtype: float32 in, float32 out.
    return np.maximum(x, 0)
    # END SOLUTION


def prelu(x, a):
    """Parametric ReLU: ``x`` where ``x > 0``, ``a * x`` everywhere else.

    Args:
        x: a NumPy array of any shape.
        a: the slope used for the non-positive entries; either a number or an array that
            broadcasts against ``x`` (for example one slope per column).

    Returns:
        A new array with the broadcast shape of ``x`` and ``a``.

    Pitfalls: do not modify ``x``; with an array ``a``, let NumPy broadcasting pair each
    entry of ``x`` with its slope instead of looping.
    """
    # BEGIN SOLUTION
    return np.where(x > 0, x, a * x)
    # END SOLUTION


def DNNforward(X, params):
    """Forward pass of the two-layer perceptron.

    Args:
        X: inputs, shape (N, D).
        params: dict with ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,).

    Returns:
        ``(logits, cache)``:
        * ``logits``: shape (N, C), ``relu(X @ W1 + b1) @ W2 + b2``.
        * ``cache``: anything you want ``DNNbackward`` to receive to compute the
          gradients (for example a dict holding X, the pre-activation and the hidden
          layer). Its content is up to you; the grader only passes it back to your
          ``DNNbackward``.

    Pitfalls: the biases are added to every row (broadcasting); no softmax here, the
    logits are the raw scores.
    """
    # BEGIN SOLUTION
    z1 = X @ params["W1"] + params["b1"]          # (N, H) pre-activation
    h = relu(z1)                                  # (N, H) hidden layer
    logits = h @ params["W2"] + params["b2"]      # (N, C)
    cache = {"X": X, "z1": z1, "h": h, "logits": logits}
    return logits, cache
    # END SOLUTION


def DNNbackward(y, params, cache):
    """Loss and gradients of the two-layer perceptron.

    The loss is softmax cross-entropy averaged over the N examples:
    ``loss = mean_i( -log softmax(logits_i)[y_i] )``.

    Args:
        y: integer class labels, shape (N,), values in ``0 .. C-1``.
        params: the same dict as given to ``DNNforward``.
        cache: what your ``DNNforward`` returned as its second value.

    Returns:
        ``(loss, grads)``:
        * ``loss``: a Python float.
        * ``grads``: a dict with the keys ``W1``, ``b1``, ``W2``, ``b2``; each gradient of
          the loss has the same shape as the parameter it belongs to.

    Pitfalls:
    * Compute the softmax stably: subtract each row's maximum from the logits before
      exponentiating (work with log-sum-exp). Huge logits must not give nan or inf.
    * The loss is a mean, so the gradients carry a factor 1/N.
    * ReLU lets the gradient through only where its input was positive.
    """
    # BEGIN SOLUTION
    X, z1, h, logits = cache["X"], cache["z1"], cache["h"], cache["logits"]
    n = X.shape[0]
    rows = np.arange(n)

    # Stable log-softmax: shifting each row by its maximum leaves softmax unchanged
    # but keeps exp() from overflowing.
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[rows, y].mean()

    # d loss / d logits = (softmax - one_hot(y)) / N
    dlogits = np.exp(log_probs)
    dlogits[rows, y] -= 1
    dlogits /= n

    dW2 = h.T @ dlogits
    db2 = dlogits.sum(axis=0)
    dh = dlogits @ params["W2"].T
    dz1 = dh * (z1 > 0)                           # ReLU passes gradient where z1 > 0
    dW1 = X.T @ dz1
    db1 = dz1.sum(axis=0)
    return float(loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END SOLUTION


def train(X, y, params, lr=0.1, epochs=100):
    """Train the perceptron with full-batch gradient descent.

    Each epoch uses all of ``X`` at once: run ``DNNforward``, then ``DNNbackward``, record
    the loss, and update every parameter with ``p = p - lr * grad``.

    Args:
        X: inputs, shape (N, D).
        y: integer labels, shape (N,).
        params: the initial parameters (dict, as in ``DNNforward``).
        lr: the learning rate.
        epochs: the number of gradient-descent steps.

    Returns:
        ``(params, losses)``: the trained parameters (a new dict with the same keys and
        shapes) and a list of ``epochs`` Python floats, where ``losses[k]`` is the loss
        computed in epoch k, that is before that epoch's update (so ``losses[0]`` is the
        loss of the initial parameters).

    Pitfalls:
    * Call ``DNNforward`` and ``DNNbackward`` (the grader checks ``train`` with its own
      versions of those two, so a bug there does not cost you here twice).
    * Do not change the caller's ``X``, ``y`` or ``params``: work on copies.
      ``W -= lr * dW`` on the caller's array would change it.
    """
    # BEGIN SOLUTION
    # Copies, so that in-place updates below never reach the caller's arrays.
    params = {name: value.copy() for name, value in params.items()}
    losses = []
    for _ in range(epochs):
        _, cache = DNNforward(X, params)
        loss, grads = DNNbackward(y, params, cache)
        losses.append(float(loss))
        for name in params:
            params[name] -= lr * grads[name]
    return params, losses
    # END SOLUTION
