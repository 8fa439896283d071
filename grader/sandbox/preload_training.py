"""The forkserver's preload for runs with training checks: the light preload, plus torch's
optimizer machinery.

Building the first optimizer imports ``torch._dynamo`` and several hundred modules with
it (about 2.5 s on the machines this was measured on). Done here, once per server, every
child forked afterwards has it in memory; without it, each child of a training check
would pay those seconds again.
"""
import torch

from . import preload  # noqa: F401 - everything the light preload does, first


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
for _name in preload.PACKS:
    for _graded in preload.load_pack(_name).names:
        if _graded.check.needs_optimizer:
            _graded.check.warm_training()
preload.freeze_heap()
