"""The first assignment pack, "assignment2" (its contract: ASSIGNMENT.md in this folder).

``pack.py`` is the single place where names, points, signatures, allowed imports and time
limits are declared. Templates, notebooks, reports and the grader read them from here.
"""

from __future__ import annotations

from ...assignment import Assignment, GradedName, Signature, TaskFile
from ...judging.reference import SOLUTIONS, TEMPLATES
from . import layers, task1, task2, task3, task4


def _name(
    task: str,
    path: str,
    points: float,
    signature: str,
    check,
    timeout: float = 20.0,
    requires: tuple[tuple[str, str], ...] = (),
    after: tuple[str, ...] = (),
) -> GradedName:
    return GradedName(task, path, points, Signature(signature), check, timeout, requires, after)


CONV_INIT = (("Conv1D.__init__", "(self, in_channel, out_channel, kernel_size, stride)"),)

ASSIGNMENT = Assignment(
    name="assignment2",
    title="Assignment 2: perceptrons, LeNet-5, ResNet-18 and a NumPy Conv1D",
    solutions_dir=str(SOLUTIONS),
    templates_dir=str(TEMPLATES),
    files=(
        TaskFile(
            "task1",
            "task1_template.py",
            "task1.py",
            (
                _name("task1", "relu", 3, "(x)", task1.Relu(), 10),
                _name("task1", "prelu", 2, "(x, a)", task1.Prelu(), 10),
                _name("task1", "DNNforward", 5, "(X, params)", task1.DNNForward(), 10),
                _name(
                    "task1",
                    "DNNbackward",
                    5,
                    "(y, params, cache)",
                    task1.DNNBackward(),
                    10,
                    after=("task1.DNNforward",),
                ),  # its cache comes from the student's own forward
                _name("task1", "train", 5, "(X, y, params, lr=0.1, epochs=100)", task1.Train(), 30),
            ),
            allowed_packages=frozenset({"numpy"}),
        ),
        TaskFile(
            "task2",
            "task2_template.py",
            "task2.py",
            (
                _name("task2", "get_DNN", 5, "(input_size, hidden_size, output_size)", task2.GetDNN(), 20),
                _name("task2", "train_torch", 5, "(net, train_loader, num_epochs, lr)", task2.TrainTorch(), 30),
            ),
            allowed_packages=frozenset({"numpy", "torch"}),
        ),
        TaskFile(
            "task3",
            "task3_template.py",
            "task3.py",
            (
                _name("task3", "get_lenet", 5, "()", task3.GetLenet(), 20),
                _name(
                    "task3",
                    "train_cnn",
                    15,
                    '(net, train_loader, test_loader, num_epochs, lr, device="cpu")',
                    task3.TrainCnn(),
                    60,
                ),
            ),
            allowed_packages=frozenset({"numpy", "torch"}),
        ),
        TaskFile(
            "task4",
            "task4_template.py",
            "task4.py",
            (
                _name(
                    "task4",
                    "Residual",
                    5,
                    "(self, input_channels, num_channels, use_1x1conv=False, strides=1)",
                    task4.Residual(),
                    30,
                ),
                _name("task4", "get_resnet", 5, "(in_channels=1, num_classes=10)", task4.GetResnet(), 60),
            ),
            allowed_packages=frozenset({"numpy", "torch"}),
        ),
        TaskFile(
            "layers",
            "layers_template.py",
            "layers.py",
            (
                _name("layers", "Conv1D.forward", 5, "(self, x)", layers.Forward(), 20, CONV_INIT),
                _name(
                    "layers",
                    "Conv1D.backward",
                    10,
                    "(self, delta)",
                    layers.Backward(),
                    20,
                    CONV_INIT,
                    after=("layers.Conv1D.forward",),
                ),
            ),
            allowed_packages=frozenset({"numpy"}),
        ),
    ),
)
