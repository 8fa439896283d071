"""Assignment 3, convmat: a 1-D convolution written as a matrix (NumPy only).

One sample, several channels, no padding, no bias. As in torch.nn.functional.conv1d, the
kernel slides along the input without being reversed (a cross-correlation):

    Y[o, j] = sum over c and t of  W[o, c, t] * X[c, j * stride + t]

where W has shape (out_channels, in_channels, kernel), the input X has shape
(in_channels, in_width) and the output Y has shape (out_channels, out_width), with
out_width = (in_width - kernel) // stride + 1.

Flatten X and Y channel by channel, as ``ndarray.flatten()`` does: X.flatten() lists
X[0, 0], X[0, 1], ..., X[0, in_width - 1], then X[1, 0], and so on. The convolution is
then a fully connected layer without bias, Y.flatten() = A @ X.flatten(), and
backpropagation through it is a matrix too: dL/dX.flatten() = B @ dL/dY.flatten().

Only NumPy may be imported in this file.
"""
import numpy as np


def conv1d_matrix(W, in_width, stride=1):
    """The matrix A of the convolution: ``conv1d(X).flatten() == A @ X.flatten()``.

    Parameters
    ----------
    W : ndarray of shape (out_channels, in_channels, kernel)
        The kernels; W[o, c] connects input channel c to output channel o.
    in_width : int
        The width of the input, at least ``kernel``.
    stride : int
        How far the kernel moves between two output positions.

    Returns
    -------
    ndarray of shape (out_channels * out_width, in_channels * in_width)
        Row ``o * out_width + j`` belongs to output channel o at position j; column
        ``c * in_width + i`` to input channel c at position i.
    """
    # Hint: for output position j, the weights W[o, c, :] go to columns c * in_width + j * stride + (0, 1, ...)
    raise NotImplementedError("conv1d_matrix: not implemented yet (see the docstring)")


def conv1d_backward_matrix(W, in_width, stride=1):
    """The matrix B of backpropagation: ``dL/dX.flatten() == B @ dL/dY.flatten()``.

    Same parameters as :func:`conv1d_matrix`. Returns an ndarray of shape
    (in_channels * in_width, out_channels * out_width).
    """
    # Hint: Y.flatten() = A @ X.flatten() is linear in X; what does the chain rule make of it?
    raise NotImplementedError("conv1d_backward_matrix: not implemented yet (see the docstring)")
