"""Imported once by the forkserver, before any child is forked (the light preload).

Everything imported here is already in memory in every child, so isolation costs a
fork, not an interpreter start and a torch import. The sandbox layers are prepared here
too: their bindings load the C libraries they need (which may run ``ldconfig``, a
subprocess no child may start), and the list of folders imports come from is computed
once, from the libraries this warm process has mapped.

Checks that train a network need more: :mod:`.preload_training` imports this module and
then sets up torch's optimizers (seconds), which only a server for such checks pays.
"""
import gc
import multiprocessing.popen_fork  # noqa: F401 - the server imports these when it forks; done here,
import multiprocessing.popen_forkserver  # noqa: F401 - sys.modules is then the same in every child

import numpy  # noqa: F401
import torch
import torch.nn  # noqa: F401
import torch.nn.functional  # noqa: F401
import torch.optim  # noqa: F401
import torch.utils.data  # noqa: F401

from .. import wire  # noqa: F401
from ..packs import PACKS, load_pack
from . import child, dynamo_deferral, filesystem, probe, signals, syscalls  # noqa: F401

torch.set_num_threads(1)
dynamo_deferral.defer()      # before anything that would import torch's compiler


for _name in PACKS:
    for _graded in load_pack(_name).names:
        _graded.check.warm()
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
