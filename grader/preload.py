"""Imported once by the forkserver, before any child is forked.

Everything imported here is already in memory in every child, so isolation costs a
fork, not an interpreter start and a torch import.
"""
import numpy  # noqa: F401
import torch
import torch.nn  # noqa: F401
import torch.nn.functional  # noqa: F401
import torch.optim  # noqa: F401
import torch.utils.data  # noqa: F401

from . import child, wire  # noqa: F401
from .packs import PACKS, load_pack

torch.set_num_threads(1)
for _name in PACKS:
    for _graded in load_pack(_name).names:
        _graded.check.warm()
