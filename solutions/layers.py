"""Layers: a 1-D convolution layer written with NumPy only (15 points).

You implement the forward and backward passes of ``Conv1D``, a one-dimensional
convolution (cross-correlation, as in deep-learning libraries) without padding and without
dilation. It must agree with ``torch.nn.Conv1d`` given the same weights and bias.

Shapes:
    x      (batch, in_channel, in_width)              input of forward
    W      (out_channel, in_channel, kernel_size)     weights
    b      (out_channel,)                             bias
    y      (batch, out_channel, out_width)            output of forward,
           out_width = (in_width - kernel_size) // stride + 1
    delta  (batch, out_channel, out_width)            gradient of the loss w.r.t. y
    dx     (batch, in_channel, in_width)              gradient of the loss w.r.t. x

Output position ``w`` looks at the input positions ``w * stride`` to
``w * stride + kernel_size - 1``:

    y[n, o, w] = b[o] + sum over c and k of W[o, c, k] * x[n, c, w * stride + k]

Graded names and points:
    Conv1D.forward   5
    Conv1D.backward 10 (scored separately for dx, dW and db)

Rules (the grader enforces them):
* Keep the class name, the method names and their parameters, and keep the given
  ``__init__`` and ``__call__``. Adding a parameter that has a default (to ``__init__``,
  say) is fine and noted in your feedback; a missing or renamed name, or a removed,
  reordered or renamed parameter, earns 0 for it.
* Import only NumPy and the Python standard library. Any other import (torch included)
  earns 0 for both methods.
* Replace each ``raise NotImplementedError(...)`` with your code. A loop over the
  batch or over the channels makes the layer very slow; use NumPy's whole-array
  operations (a loop over the kernel_size positions is fine).
"""
import numpy as np


class Conv1D:
    """A 1-D convolution layer with weights ``W``, bias ``b`` and their gradients."""

    def __init__(self, in_channel, out_channel, kernel_size, stride):
        self.in_channel = in_channel
        self.out_channel = out_channel
        self.kernel_size = kernel_size
        self.stride = stride

        self.W = np.random.normal(0, 1, (out_channel, in_channel, kernel_size))
        self.b = np.random.normal(0, 1, (out_channel,))

        self.dW = np.zeros(self.W.shape)
        self.db = np.zeros(self.b.shape)

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        """Compute the convolution of ``x`` with ``self.W``, plus ``self.b``.

        Args:
            x: array of shape (batch, in_channel, in_width).

        Returns:
            y: array of shape (batch, out_channel, out_width) with
            ``out_width = (in_width - kernel_size) // stride + 1``; the input positions
            left over at the right end, when the stride does not fit exactly, are unused.

        Pitfalls:
        * Remember on ``self`` whatever ``backward`` will need (at least ``x``).
        * The bias is added once per output channel, at every position of every example.
        * Do not convert to another dtype: float64 inputs and weights give float64.
        * Hint: ``numpy.lib.stride_tricks.sliding_window_view`` gives every window of
          ``x`` without copying; ``np.einsum`` or ``np.tensordot`` can then contract the
          channel and kernel axes with ``W`` in a single call.
        """
        # BEGIN SOLUTION
        self.x = x
        # windows[n, c, w, k] = x[n, c, w * stride + k], shape (batch, in_channel, out_width, kernel_size).
        # A view on x: nothing is copied here.
        windows = np.lib.stride_tricks.sliding_window_view(x, self.kernel_size, axis=2)[:, :, ::self.stride, :]
        self.windows = windows
        y = np.einsum("ncwk,ock->now", windows, self.W, optimize=True)
        return y + self.b[:, None]
        # END SOLUTION

    def backward(self, delta):
        """Back-propagate ``delta``, the gradient of the loss with respect to the output.

        Args:
            delta: array of shape (batch, out_channel, out_width), like ``forward``'s
                output.

        Returns:
            dx: array of shape (batch, in_channel, in_width), the gradient of the loss
            with respect to the ``x`` of the last ``forward`` call.

        Also sets (assigns, does not add to) the parameter gradients:
            self.dW: shape (out_channel, in_channel, kernel_size)
            self.db: shape (out_channel,)
        both summed over the examples of the batch (not averaged).

        Pitfalls:
        * An input position can belong to several windows (when stride < kernel_size):
          its gradient is the sum over all of them. Input positions that no window uses
          get a zero gradient.
        * Calling ``backward`` twice with the same ``delta`` must give the same
          ``self.dW`` and ``self.db``.
        """
        # BEGIN SOLUTION
        out_width = delta.shape[2]
        # Every output position received the bias once.
        self.db = delta.sum(axis=(0, 2))
        # dW[o, c, k] = sum over n, w of delta[n, o, w] * x[n, c, w * stride + k]
        self.dW = np.einsum("now,ncwk->ock", delta, self.windows, optimize=True)
        # W[:, :, k] met the input positions k, k + stride, ..., k + stride * (out_width - 1),
        # one per output position, so it sends delta back to them; overlapping windows add up.
        dx = np.zeros_like(self.x)
        for k in range(self.kernel_size):
            dx[:, :, k:k + self.stride * out_width:self.stride] += self.W[:, :, k].T @ delta
        return dx
        # END SOLUTION
