"""The child-to-parent format carries plain data only."""
import pickle

import numpy as np
import pytest
import torch

from grader import wire


def round_trip(value):
    return wire.loads(wire.dumps(wire.to_plain(value)))


def test_arrays_tensors_and_scalars_survive_with_their_dtype():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    back = round_trip({"x": x, "t": torch.ones(2, 2, dtype=torch.float64, requires_grad=True),
                       "s": np.float64(2.5), "items": [1, 2.0, "a", None, True]})
    assert back["x"].dtype == np.float32 and np.array_equal(back["x"], x)
    assert isinstance(back["t"], wire.Tensor) and back["t"].array.dtype == np.float64 and back["t"].requires_grad
    assert isinstance(back["s"], np.generic) and back["s"] == 2.5
    assert back["items"] == [1, 2.0, "a", None, True]


def test_non_contiguous_and_subclassed_arrays_become_plain_arrays():
    class Rigged(np.ndarray):
        def __eq__(self, other):
            return True

    base = np.arange(12.0).reshape(3, 4)
    back = round_trip([base.T, base.view(Rigged)])
    assert type(back[0]) is np.ndarray and np.array_equal(back[0], base.T)
    assert type(back[1]) is np.ndarray and not np.array_equal(back[1], np.zeros((3, 4)))


def test_arbitrary_objects_arrive_as_descriptions_only():
    class Liar:
        def __eq__(self, other):
            return True

        def __repr__(self):
            return "Liar()"

    back = round_trip({"y": Liar(), "f": 3.0.__class__(1.0)})
    assert isinstance(back["y"], wire.Opaque) and back["y"].type_name.endswith("Liar") and back["y"].text == "Liar()"
    assert back["f"] == 1.0


def test_object_arrays_are_not_sent():
    back = round_trip(np.array([object()], dtype=object))
    assert isinstance(back, wire.Opaque)


def test_the_parent_refuses_any_class_in_a_message():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    with pytest.raises(pickle.UnpicklingError):
        wire.loads(pickle.dumps(Evil()))
    with pytest.raises(pickle.UnpicklingError):
        wire.loads(pickle.dumps(np.zeros(3)))   # even numpy's own reconstructor


def test_oversized_containers_are_refused_in_the_child():
    with pytest.raises(wire.TooLarge):
        wire.to_plain(list(range(wire.MAX_ITEMS + 1)))
