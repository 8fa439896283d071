"""Templates are generated from the solutions and must be in sync with them."""
import pytest

from grader.authoring.templates import MarkerError, make_template

SOURCE = '''"""Module docstring for students."""
import numpy as np


def relu(x):
    """Docstring kept."""
    # BEGIN SOLUTION
    # HINT: np.maximum does this elementwise
    return np.maximum(x, 0)
    # END SOLUTION


class Layer:
    def __init__(self):
        self.W = 1

    def forward(self, x):
        """Forward docstring."""
        # BEGIN SOLUTION
        self.x = x
        return x * self.W
        # END SOLUTION
'''


def test_solution_blocks_become_stubs_and_everything_else_stays():
    template = make_template(SOURCE)
    assert "np.maximum(x, 0)" not in template and "self.x = x" not in template
    assert '    # Hint: np.maximum does this elementwise\n    raise NotImplementedError("relu: not implemented yet' in template
    assert 'raise NotImplementedError("Layer.forward: not implemented yet' in template
    assert '"""Docstring kept."""' in template and "self.W = 1" in template
    compile(template, "template", "exec")


def test_unbalanced_markers_are_errors():
    with pytest.raises(MarkerError):
        make_template("def f():\n    # BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(MarkerError):
        make_template("def f():\n    # END SOLUTION\n")
