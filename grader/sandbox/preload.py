"""Imported once by the forkserver, before any child is forked.

Everything imported here is already in memory in every child, so isolation costs a
fork, not an interpreter start and a torch import. The sandbox layers are prepared here
too: their bindings load the C libraries they need (which may run ``ldconfig``, a
subprocess no child may start), and the list of folders imports come from is computed
once, from the libraries this warm process has mapped.
"""
import numpy  # noqa: F401
import torch
import torch.nn  # noqa: F401
import torch.nn.functional  # noqa: F401
import torch.optim  # noqa: F401
import torch.utils.data  # noqa: F401

from .. import wire  # noqa: F401
from ..packs import PACKS, load_pack
from . import child, filesystem, probe, syscalls  # noqa: F401

torch.set_num_threads(1)


def _exercise_torch() -> None:
    """Run each kind of operation once, so children do not pay for torch's lazy imports.

    The first optimizer alone pulls in several hundred modules (about 2 s); done here,
    it is done once per grading run instead of once per child. Everything runs on this
    one thread, so the server stays single-threaded and safe to fork.
    """
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2), torch.nn.ReLU(), torch.nn.Sigmoid(),
        torch.nn.MaxPool2d(2), torch.nn.AvgPool2d(1), torch.nn.AdaptiveAvgPool2d((1, 1)), torch.nn.Flatten(),
        torch.nn.Linear(2, 3))
    for module in net.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.xavier_uniform_(module.weight)
    for optimizer in (torch.optim.SGD(net.parameters(), lr=0.1), torch.optim.Adam(net.parameters())):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(torch.randn(2, 1, 4, 4)), torch.tensor([0, 1]))
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        net.eval()(torch.randn(1, 1, 4, 4))
    torch.nn.functional.conv1d(torch.randn(1, 1, 5, dtype=torch.float64), torch.randn(1, 1, 2, dtype=torch.float64))


_exercise_torch()
for _name in PACKS:
    for _graded in load_pack(_name).names:
        _graded.check.warm()
filesystem.prepare()
