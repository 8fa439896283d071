"""Static checks: names, parameter lists and imports, read without running the code."""
from grader.intake.interface import inspect_file
from grader.packs import load_pack

PACK = load_pack("assignment2")
TASK1 = PACK.file("task1")
LAYERS = PACK.file("layers")
TASK4 = PACK.file("task4")

GOOD_TASK1 = b'''
import numpy as np
import math
def relu(x): return np.maximum(x, 0)
def prelu(x, a): return np.where(x > 0, x, a * x)
def DNNforward(X, params): pass
def DNNbackward(y, params, cache): pass
def train(X, y, params, lr=.1, epochs=100): pass
'''


def problems(source: bytes, task=TASK1, interface="compatible"):
    report = inspect_file(source, task, interface)
    return {name.key: report.problem_for(name) for name in task.names}


def notes(source: bytes, task=TASK1) -> str:
    return "\n".join(inspect_file(source, task).notes)


def test_a_complete_file_has_no_problems():
    assert set(problems(GOOD_TASK1).values()) == {None}


def test_missing_and_renamed_names_cost_only_their_own_points():
    source = GOOD_TASK1.replace(b"def relu(x)", b"def ReLU(x)").replace(b"def prelu", b"def leaky")
    found = problems(source)
    assert "relu is not defined" in found["task1.relu"] and "'ReLU'" in found["task1.relu"]
    assert "prelu is not defined" in found["task1.prelu"]
    assert found["task1.train"] is None


def test_changed_default_is_reported_with_the_diff():
    found = problems(GOOD_TASK1.replace(b"lr=.1", b"lr=0.01"))
    assert "default of lr is 0.01, expected 0.1" in found["task1.train"]
    assert "(X, y, params, lr=0.1, epochs=100)" in found["task1.train"]


def test_strict_policy_refuses_any_change_to_a_parameter_list():
    def strict(old, new):
        return problems(GOOD_TASK1.replace(old, new), interface="strict")["task1.prelu"]
    assert "missing a; added alpha" in strict(b"prelu(x, a)", b"prelu(x, alpha)")
    assert "reordered" in strict(b"prelu(x, a)", b"prelu(a, x)")
    assert "added extra" in strict(b"prelu(x, a)", b"prelu(x, a, extra=1)")
    assert "exact parameter list" in strict(b"prelu(x, a)", b"prelu(x, a, extra=1)")


def test_compatible_policy_accepts_what_every_grader_call_survives_and_says_so():
    # The grader passes parameters without a default by position, the others by keyword.
    accepted = {
        b"prelu(x, alpha)": "a is called alpha",                       # renamed, passed by position
        b"prelu(x, a, extra=1)": "adds extra=1",                       # added, with a default
        b"prelu(x, a, *args, **kwargs)": "adds *args",                 # catch-alls
        b"prelu(x, a, *, verbose=False)": "adds verbose=False",        # keyword-only, with a default
        b"train(X, y, params, lr=.1, epochs=100, log=None)": "adds log=None",
        b"train(X, y, params, epochs=100, lr=.1)": "another order",   # keyword parameters reordered
        b"train(X, y, params, **options)": "lr arrives through **options",
    }
    for new, words in accepted.items():
        old = b"prelu(x, a)" if new.startswith(b"prelu") else b"train(X, y, params, lr=.1, epochs=100)"
        source = GOOD_TASK1.replace(old, new)
        assert set(problems(source).values()) == {None}, new
        assert words in notes(source), (new, notes(source))


def test_compatible_policy_refuses_what_breaks_a_grader_call():
    refused = {
        b"prelu(a, x)": "different order",                             # positional ones swapped
        b"prelu(x)": "missing a",                                      # removed
        b"prelu(x, a, extra)": "added extra without a default",        # the grader never passes extra
        b"train(X, y, params, learning_rate=.1, epochs=100)": "missing lr",   # renamed, passed by keyword
        b"train(X, y, params, lr=.01, epochs=100)": "default of lr is 0.01",  # changed default
        b"train(X, y, params, lr, epochs=100)": "lr lost its default",
        b"prelu(x, a, /)": None,                                       # positional-only: still fine
        b"train(X, y, params, lr=.1, /, epochs=100)": "positional-only",
    }
    for new, words in refused.items():
        old = b"prelu(x, a)" if new.startswith(b"prelu") else b"train(X, y, params, lr=.1, epochs=100)"
        key = "task1.prelu" if new.startswith(b"prelu") else "task1.train"
        found = problems(GOOD_TASK1.replace(old, new))[key]
        if words is None:
            assert found is None, (new, found)
        else:
            assert found and words in found and "a call the grader makes would fail" in found, (new, found)


def test_disallowed_imports_zero_the_whole_file_with_the_line():
    for line in (b"import scipy", b"from sklearn import svm", b"import subprocess", b"import ctypes",
                 b"x = __import__('scipy')", b"import importlib\nm = importlib.import_module('grader')",
                 b"from . import helper"):
        found = problems(GOOD_TASK1 + line + b"\n")
        assert all(v and "disallowed import" in v for v in found.values()), (line, found)


def test_standard_library_and_numpy_are_allowed():
    for line in (b"import math", b"import collections.abc", b"from functools import reduce", b"import os"):
        assert set(problems(GOOD_TASK1 + line + b"\n").values()) == {None}, line


def test_torch_is_not_allowed_in_task1():
    assert all("line 9: import torch" in v for v in problems(GOOD_TASK1 + b"import torch\n").values())


def test_computed_module_names_cannot_be_checked():
    found = problems(GOOD_TASK1 + b"name = 'sci' + 'py'\nm = __import__(name)\n")
    assert all("computed module name" in v for v in found.values())


def test_syntax_errors_and_bad_bytes_are_explained():
    assert "syntax error at line 2" in problems(b"def relu(x):\nreturn x\n")["task1.relu"]
    assert "not valid UTF-8" in problems(b"def relu(x):\n    return '\xff\xfe'\n")["task1.relu"]
    assert "empty" in problems(b"   \n")["task1.relu"]
    assert "cannot be parsed" in problems(b"x = 1\x00\n")["task1.relu"] or "syntax" in problems(b"x = 1\x00\n")["task1.relu"]


def test_methods_and_the_class_init_are_checked():
    source = b'''
import numpy as np
class Conv1D:
    def __init__(self, in_channel, out_channel, kernel_size, stride):
        pass
    def forward(self, x): pass
    def backward(self, delta, extra): pass
'''
    found = problems(source, LAYERS)
    assert found["layers.Conv1D.forward"] is None
    assert "Conv1D.backward" in found["layers.Conv1D.backward"] and "added extra" in found["layers.Conv1D.backward"]
    broken_init = source.replace(b"kernel_size, stride)", b"kernel_size)").replace(b", extra)", b")")
    found = problems(broken_init, LAYERS)
    assert "Conv1D.__init__" in found["layers.Conv1D.forward"] and "Conv1D.__init__" in found["layers.Conv1D.backward"]
    assert "has no method forward" in problems(source.replace(b"def forward", b"def fwd"), LAYERS)["layers.Conv1D.forward"]


def test_a_class_is_checked_through_its_init():
    source = b'''
import torch
from torch import nn
class Residual(nn.Module):
    def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
def get_resnet(in_channels=1, num_classes=10): pass
'''
    assert set(problems(source, TASK4).values()) == {None}
    found = problems(source.replace(b"strides=1", b"stride=1"), TASK4)
    assert "Residual.__init__" in found["task4.Residual"] and found["task4.get_resnet"] is None
    as_function = b"import torch\ndef Residual(input_channels, num_channels, use_1x1conv=False, strides=1): pass\n"
    assert "must be a class" in problems(as_function, TASK4, "strict")["task4.Residual"]
    assert problems(as_function, TASK4)["task4.Residual"] is None
    assert "is a function, not a class" in notes(as_function, TASK4)


def test_real_conv1d_from_another_edition_keeps_its_points():
    # Most real Conv1D classes of another edition of the handout add two init functions.
    source = b'''
import numpy as np
class Conv1D():
    def __init__(self, in_channel, out_channel, kernel_size, stride,
                 weight_init_fn=None, bias_init_fn=None):
        pass
    def __call__(self, x):
        return self.forward(x)
    def forward(self, x): pass
    def backward(self, delta): pass
'''
    assert set(problems(source, LAYERS).values()) == {None}
    lines = [line for line in notes(source, LAYERS).splitlines() if "weight_init_fn" in line]
    assert len(lines) == 1 and "adds weight_init_fn=None, bias_init_fn=None" in lines[0]   # once, not per name


def test_definitions_inside_if_blocks_and_lambdas_count():
    source = GOOD_TASK1.replace(b"def relu(x): return np.maximum(x, 0)", b"relu = lambda x: np.maximum(x, 0)")
    assert problems(source)["task1.relu"] is None
    source = GOOD_TASK1.replace(b"def relu(x): return np.maximum(x, 0)", b"relu = np.maximum")
    assert "bound to an expression" in problems(source)["task1.relu"]
