"""Assignment 4, cnn: the arithmetic of convolutional networks (15 points).

Sizes, receptive fields, parameter counts and batch-norm statistics, computed with plain
Python integers. Everything here works along one spatial dimension unless a docstring
says otherwise: a square 3x3 convolution on a 32x32 image is "kernel 3 on size 32".

Graded names and points:
    conv_output_size       2
    same_padding           1
    receptive_field        3
    conv_params            2
    residual_block_params  4
    bn_stat_shape          3

Rules (the grader enforces them):
* Keep every graded function's name, and its parameters in their order with their
  defaults. The grader passes parameters without a default by position and the others by
  name, so adding a parameter that has a default is fine (your feedback notes it), while
  a missing or renamed function, a removed or reordered parameter, a renamed parameter
  that has a default, or a changed default earns 0 for that function.
* Import only the Python standard library (no NumPy, no torch: none is needed). Any
  other import earns 0 for every function of this file.
* Return Python ints (and tuples of ints), not floats: ``7``, not ``7.0``.
* Replace each ``raise NotImplementedError(...)`` with your code.

The grader compares your answers with what PyTorch's own layers do (the output length of
``torch.nn.Conv1d``, the parameter count of ``torch.nn.Conv2d``, the statistics of
``torch.nn.BatchNorm2d``, ...), on inputs you can see in the self-check and on hidden ones.
"""


def conv_output_size(size, kernel, stride=1, padding=0):
    """The output length of a convolution (or pooling) along one spatial dimension.

    The input of length ``size`` gets ``padding`` extra positions on each side; the window
    of ``kernel`` positions starts at 0 and moves ``stride`` positions at a time, and only
    windows that fit entirely inside the padded input produce an output.

    Args:
        size: input length (a positive int).
        kernel: window length (a positive int).
        stride: step between windows (a positive int).
        padding: zeros added on each side (an int >= 0).

    Returns:
        The number of windows, an int (at least 1).

    Raises:
        ValueError: if the window is longer than the padded input.

    Examples: ``conv_output_size(256, 3)`` is 254; ``conv_output_size(255, 5, stride=3)``
    is 84 (the last window starts at position 249, so position 254 is never read).
    """
    # BEGIN SOLUTION
    padded = size + 2 * padding
    if kernel > padded:
        raise ValueError(f"a kernel of {kernel} does not fit in an input of {size} padded by {padding} per side")
    return (padded - kernel) // stride + 1
    # END SOLUTION


def same_padding(kernel):
    """The padding per side that keeps the length unchanged for stride 1.

    Args:
        kernel: an odd window length, e.g. 3, 5 or 7.

    Returns:
        An int ``p`` with ``conv_output_size(n, kernel, 1, p) == n`` for every ``n``.

    Raises:
        ValueError: for an even kernel, which cannot keep the length with the same
            padding on both sides.
    """
    # BEGIN SOLUTION
    if kernel % 2 == 0:
        raise ValueError(f"an even kernel ({kernel}) needs different padding on the two sides")
    return (kernel - 1) // 2
    # END SOLUTION


def receptive_field(layers):
    """The receptive field of one unit of the last layer, in input positions.

    Args:
        layers: a list of ``(kernel, stride)`` pairs, first layer first. Convolutions and
            pooling layers count alike: both look at ``kernel`` neighbouring positions of
            their input and move ``stride`` positions at a time.

    Returns:
        How many consecutive input positions can influence one unit of the last layer
        (an int). One 3x3 convolution sees 3; two of them (stride 1) see 5.

    Hint: work layer by layer, keeping track of how far apart (in input positions) two
    neighbouring units of the current layer are.
    """
    # BEGIN SOLUTION
    field, jump = 1, 1            # jump: input positions between neighbouring units of the current layer
    for kernel, stride in layers:
        field += (kernel - 1) * jump
        jump *= stride
    return field
    # END SOLUTION


def conv_params(in_channels, out_channels, kernel, bias=True):
    """Trainable parameters of a 2-D convolution layer (``torch.nn.Conv2d``).

    Args:
        in_channels, out_channels: channel counts.
        kernel: an int for a square kernel, or a ``(kh, kw)`` pair.
        bias: whether the layer has one bias per output channel.

    Returns:
        The number of weights plus, with ``bias``, the number of biases (an int).
    """
    # BEGIN SOLUTION
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return out_channels * in_channels * kh * kw + (out_channels if bias else 0)
    # END SOLUTION


def residual_block_params(channels, bottleneck=False):
    """Trainable parameters of a residual block with an identity shortcut.

    Every convolution has no bias and is followed by batch norm, which learns a scale and
    a shift per channel (2 parameters per channel; its running statistics are not
    trained). The shortcut adds nothing.

    * Basic block: two 3x3 convolutions, ``channels -> channels``.
    * Bottleneck block: a 1x1 convolution ``channels -> channels // 4``, a 3x3
      convolution ``channels // 4 -> channels // 4``, and a 1x1 convolution back to
      ``channels``.

    Args:
        channels: channels of the block's input and output.
        bottleneck: which of the two blocks.

    Returns:
        The number of trainable parameters (an int).
    """
    # BEGIN SOLUTION
    if not bottleneck:
        return 2 * (conv_params(channels, channels, 3, bias=False) + 2 * channels)
    inner = channels // 4
    return (conv_params(channels, inner, 1, bias=False) + 2 * inner
            + conv_params(inner, inner, 3, bias=False) + 2 * inner
            + conv_params(inner, channels, 1, bias=False) + 2 * channels)
    # END SOLUTION


def bn_stat_shape(x_shape, layout):
    """The shape of the mean (and of the variance) batch norm computes in training.

    Batch norm keeps one mean and one variance per channel, computed over every other
    axis of the batch.

    Args:
        x_shape: the input's shape, a tuple of ints.
        layout: what the axes are: ``"NC"`` (output of a fully connected layer: batch,
            features), ``"NCHW"`` (PyTorch's image layout) or ``"NHWC"`` (channels
            last, as in TensorFlow).

    Returns:
        A tuple of ints, e.g. ``(C,)``.

    Raises:
        ValueError: for another layout, or one whose length differs from ``x_shape``'s.
    """
    # BEGIN SOLUTION
    if layout not in ("NC", "NCHW", "NHWC"):
        raise ValueError(f"unknown layout {layout!r}; expected 'NC', 'NCHW' or 'NHWC'")
    if len(x_shape) != len(layout):
        raise ValueError(f"layout {layout!r} needs {len(layout)} axes, the shape {tuple(x_shape)} has {len(x_shape)}")
    return (int(x_shape[layout.index("C")]),)
    # END SOLUTION
