"""Imported once by the forkserver, before any child is forked.

Everything imported here is already in memory in every child, so isolation costs a
fork, not an interpreter start and a torch import. And everything imported here is in
every child that runs student code, where the student's code can read it: so this
imports the child side only (:mod:`grader.probing` and each pack's ``probes.py``), never a
check, a reference, a solution or a label. ``tests/test_boundary.py`` holds it to that.

Each kind of torch operation the probes use runs once here too (the first of each sets
things up lazily), and so do the probes' own warm-ups. The sandbox layers are prepared
here as well: their bindings load the C libraries they need (which may run ``ldconfig``,
a subprocess no child may start), and the list of folders imports come from is computed
once, from the libraries this warm process has mapped.

torch's compiler (``torch._dynamo``), which the first optimizer would import for over a
second, stays unloaded: see :mod:`.dynamo_deferral`.
"""

import gc
import importlib
import multiprocessing.popen_fork  # noqa: F401 - the server imports these when it forks; done here,
import multiprocessing.popen_forkserver  # noqa: F401 - sys.modules is then the same in every child

import numpy  # noqa: F401
import torch
import torch.nn  # noqa: F401
import torch.nn.functional  # noqa: F401
import torch.optim  # noqa: F401
import torch.utils.data  # noqa: F401

from grader import probing, wire  # noqa: F401
from grader.packs import PACKS, probes_module
from grader.sandbox import child, disk, dynamo_deferral, filesystem, probe, signals, syscalls  # noqa: F401

torch.set_num_threads(1)
dynamo_deferral.defer()  # before anything that would import torch's compiler


def exercise_torch() -> None:
    """Run each kind of operation once, so children do not pay for torch's lazy set-up.

    Everything runs on this one thread, so the server stays single-threaded and safe to fork.
    """
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1),
        torch.nn.BatchNorm2d(2),
        torch.nn.ReLU(),
        torch.nn.Sigmoid(),
        torch.nn.MaxPool2d(2),
        torch.nn.AvgPool2d(1),
        torch.nn.AdaptiveAvgPool2d((1, 1)),
        torch.nn.Flatten(),
        torch.nn.Linear(2, 3),
    )
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


exercise_torch()
for _name in PACKS:
    importlib.import_module(probes_module(_name))
probing.warm_up_all()
filesystem.prepare()
filesystem.rehearse()
signals.rehearse()
syscalls.prepare()


def freeze_heap() -> None:
    """Move everything loaded so far out of the garbage collector's sight.

    A forked child shares the server's memory until it writes to a page. A collection in
    the child would walk (and write the headers of) every object the server made, copying
    most of torch's heap into each child; frozen objects are never walked. Called last by
    each preload module, which also records the grader's module names for the children.
    No collection first: the collector already ran while the imports allocated, and one
    more full pass (0.17 s, for some 7,000 objects) would delay every server's first fork.
    """
    gc.freeze()
    child.note_grader_modules()


freeze_heap()
