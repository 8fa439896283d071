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
    raise NotImplementedError("conv_output_size: not implemented yet (see the docstring)")


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
    raise NotImplementedError("same_padding: not implemented yet (see the docstring)")


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
    raise NotImplementedError("receptive_field: not implemented yet (see the docstring)")


def conv_params(in_channels, out_channels, kernel, bias=True):
    """Trainable parameters of a 2-D convolution layer (``torch.nn.Conv2d``).

    Args:
        in_channels, out_channels: channel counts.
        kernel: an int for a square kernel, or a ``(kh, kw)`` pair.
        bias: whether the layer has one bias per output channel.

    Returns:
        The number of weights plus, with ``bias``, the number of biases (an int).
    """
    raise NotImplementedError("conv_params: not implemented yet (see the docstring)")


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
    raise NotImplementedError("residual_block_params: not implemented yet (see the docstring)")


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
    raise NotImplementedError("bn_stat_shape: not implemented yet (see the docstring)")
