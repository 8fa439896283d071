"""Task 4: residual blocks and ResNet-18 (10 points).

You write the residual block of ResNet as an ``nn.Module`` and stack eighteen weighted
layers of them into ResNet-18.

Shapes: inputs are image batches (N, C, H, W). A residual block maps
(N, input_channels, H, W) to (N, num_channels, H', W'), with H' = H and W' = W when
``strides == 1`` and roughly H / strides, W / strides otherwise. The network maps
(N, in_channels, H, W), H and W at least 32, to (N, num_classes) logits.

Graded names and points:
    Residual    5
    get_resnet  5

Rules (the grader enforces them):
* Keep the class name and the function name, and its parameters in their order with their
  defaults. The grader passes parameters without a default by position and the others by
  name, so adding a parameter that has a default is fine (your feedback notes it), while
  a missing or renamed function, a removed or reordered parameter, a renamed parameter
  that has a default, or a changed default earns 0 for that name.
* Import only torch, NumPy and the Python standard library. Any other import
  (torchvision included) earns 0 for every name of this file.
* Replace each ``raise NotImplementedError(...)`` with your code. Keep the
  ``super().__init__()`` call at the start of ``Residual.__init__``.
"""
import torch
from torch import nn


class Residual(nn.Module):
    """A residual block: two 3x3 convolutions plus a shortcut connection.

    Main path: 3x3 convolution (``input_channels`` -> ``num_channels``, stride
    ``strides``, padding 1), batch normalization, ReLU, 3x3 convolution
    (``num_channels`` -> ``num_channels``, stride 1, padding 1), batch normalization.

    Shortcut: the input itself, or, when ``use_1x1conv`` is true, a 1x1 convolution
    (``input_channels`` -> ``num_channels``, stride ``strides``) applied to the input, so
    that its shape matches the main path's.

    Output: ReLU(main path + shortcut).

    Keep PyTorch's defaults for everything not stated (the convolutions have a bias).
    """

    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        """Create the layers of the block (convolutions, batch norms, optional shortcut).

        Args:
            input_channels: channels of the input.
            num_channels: channels of the output (and inside the block).
            use_1x1conv: if true, the shortcut is a 1x1 convolution with stride
                ``strides``; if false, it is the input unchanged, which only fits when
                ``input_channels == num_channels`` and ``strides == 1``.
            strides: stride of the first 3x3 convolution (and of the 1x1 shortcut).

        Pitfalls: create every layer here, as an attribute, so that PyTorch registers its
        parameters; layers created inside ``forward`` would be new (untrained) every call.
        """
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(num_channels)
        # The shortcut needs its own weights only when it must change the shape.
        self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        # END SOLUTION

    def forward(self, X):
        """Apply the block to ``X`` of shape (N, input_channels, H, W).

        Returns:
            A tensor of shape (N, num_channels, H', W').

        Pitfalls: the final ReLU comes after the addition; avoid in-place operations
        (such as ``+=`` on ``X``) on tensors that autograd still needs.
        """
        # BEGIN SOLUTION
        Y = torch.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        shortcut = self.conv3(X) if self.conv3 is not None else X
        return torch.relu(Y + shortcut)
        # END SOLUTION


def get_resnet(in_channels=1, num_classes=10):
    """Build ResNet-18 from ``Residual`` blocks.

    In order:
    1. Stem: ``Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)``,
       ``BatchNorm2d(64)``, ReLU, ``MaxPool2d(kernel_size=3, stride=2, padding=1)``.
    2. Four stages of two ``Residual`` blocks each, with 64, 128, 256 and 512 channels.
       The first stage keeps the size (64 -> 64, identity shortcuts). Each later stage
       starts with a block that doubles the channels and halves the height and width
       (``use_1x1conv=True, strides=2``), followed by a plain block.
    3. Head: ``AdaptiveAvgPool2d((1, 1))``, ``Flatten``, ``Linear(512, num_classes)``.

    Args:
        in_channels: channels of the input images (1 for grayscale).
        num_classes: number of output classes.

    Returns:
        An ``nn.Module`` mapping (N, in_channels, H, W) to (N, num_classes). With the
        defaults it has 11,178,378 parameters; check your count with
        ``sum(p.numel() for p in net.parameters())``.
    """
    # BEGIN SOLUTION
    def stage(input_channels, num_channels, first_stage=False):
        # The first stage follows the max-pool, which already halved the size.
        if first_stage:
            first = Residual(input_channels, num_channels)
        else:
            first = Residual(input_channels, num_channels, use_1x1conv=True, strides=2)
        return nn.Sequential(first, Residual(num_channels, num_channels))

    return nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        stage(64, 64, first_stage=True),
        stage(64, 128),
        stage(128, 256),
        stage(256, 512),
        nn.AdaptiveAvgPool2d((1, 1)),
        nn.Flatten(),
        nn.Linear(512, num_classes),
    )
    # END SOLUTION
