"""Reference kernels against PyTorch, single-threaded, timed side by side.

* ``solutions/layers.py`` Conv1D forward + backward against ``torch.nn.Conv1d`` forward +
  autograd backward, with the same weights, input and upstream gradient.
* ``solutions/task1.py`` DNNforward + DNNbackward against the same two-layer network in
  PyTorch (forward, mean cross-entropy, autograd backward).

Both sides compute the same quantities (output, loss, every gradient); each pair is
checked to agree before it is timed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .timing import Sample, interleaved


@dataclass(frozen=True)
class ConvShape:
    name: str
    batch: int
    cin: int
    cout: int
    width: int
    kernel: int
    stride: int

    def text(self) -> str:
        return (f"batch {self.batch}, {self.cin}->{self.cout} channels, width {self.width}, "
                f"kernel {self.kernel}, stride {self.stride}")


CONV_SHAPES = (
    ConvShape("small", 4, 8, 8, 128, 3, 1),
    ConvShape("medium", 16, 32, 32, 512, 5, 1),
    ConvShape("large", 32, 64, 64, 1024, 5, 2),
)
TINY_CONV_SHAPES = (ConvShape("tiny", 2, 3, 4, 20, 3, 2),)

MLP_SIZE = (256, 784, 256, 10)          # N, D, H, C
TINY_MLP_SIZE = (8, 12, 6, 3)

DTYPES = (np.float64, np.float32)


@dataclass
class Comparison:
    what: str
    dtype: str
    ours: Sample
    torch: Sample
    floor: Sample | None = None     # the matrix products any NumPy version must do (Conv1D only)

    @property
    def ratio(self) -> float:
        """ours / torch on the best of the repeats (the least disturbed run of each)."""
        return self.ours.best / self.torch.best

    @property
    def median_ratio(self) -> float:
        return self.ours.median / self.torch.median

    @property
    def floor_ratio(self) -> float | None:
        """NumPy's own matrix products for this layer / torch: no NumPy Conv1D can do better."""
        return self.floor.best / self.torch.best if self.floor is not None else None


def _agree(a: np.ndarray, b: np.ndarray, what: str, dtype) -> None:
    tol = 1e-8 if dtype == np.float64 else 1e-3
    if not np.allclose(a, b, rtol=tol, atol=tol):
        raise AssertionError(f"{what}: the reference and torch disagree (max abs diff {np.max(np.abs(a - b)):.3g})")


def conv1d(layers_module, shape: ConvShape, dtype, repeats: int) -> Comparison:
    r = np.random.default_rng(0)
    out_width = (shape.width - shape.kernel) // shape.stride + 1
    x = r.standard_normal((shape.batch, shape.cin, shape.width)).astype(dtype)
    W = r.standard_normal((shape.cout, shape.cin, shape.kernel)).astype(dtype)
    b = r.standard_normal(shape.cout).astype(dtype)
    delta = r.standard_normal((shape.batch, shape.cout, out_width)).astype(dtype)

    layer = layers_module.Conv1D(shape.cin, shape.cout, shape.kernel, shape.stride)
    layer.W, layer.b = W, b

    conv = torch.nn.Conv1d(shape.cin, shape.cout, shape.kernel, shape.stride, dtype=torch.from_numpy(x).dtype)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(W))
        conv.bias.copy_(torch.from_numpy(b))
    xt = torch.from_numpy(x).requires_grad_()
    delta_t = torch.from_numpy(delta)

    def ours():
        y = layer.forward(x)
        return y, layer.backward(delta)

    def theirs():
        xt.grad = conv.weight.grad = conv.bias.grad = None
        y = conv(xt)
        y.backward(delta_t)
        return y

    y, dx = ours()
    yt = theirs()
    _agree(y, yt.detach().numpy(), "Conv1D forward", dtype)
    _agree(dx, xt.grad.numpy(), "Conv1D dx", dtype)
    _agree(layer.dW, conv.weight.grad.numpy(), "Conv1D dW", dtype)
    _agree(layer.db, conv.bias.grad.numpy(), "Conv1D db", dtype)
    # Forward, dW and dx are each one product of a (cout, cin*kernel) matrix with a
    # (cin*kernel, batch*out_width) one, or its transpose; here are those three products
    # on ready-made contiguous operands, with NumPy's BLAS. Copies, strides and sums
    # come on top of this in any NumPy implementation, so ours / torch cannot beat it.
    weights = W.reshape(shape.cout, -1)
    columns = r.standard_normal((shape.cin * shape.kernel, shape.batch * out_width)).astype(dtype)
    grads = r.standard_normal((shape.cout, shape.batch * out_width)).astype(dtype)

    def gemm_floor():
        return weights @ columns, grads @ columns.T, weights.T @ grads

    times = interleaved({"ours": ours, "torch": theirs, "floor": gemm_floor}, repeats)
    return Comparison(f"Conv1D {shape.name}: {shape.text()}", np.dtype(dtype).name, times["ours"], times["torch"],
                      times["floor"])


def mlp(task1_module, size: tuple[int, int, int, int], dtype, repeats: int) -> Comparison:
    n, d, h, c = size
    r = np.random.default_rng(1)
    X = r.standard_normal((n, d)).astype(dtype)
    y = r.integers(0, c, n)
    params = {"W1": (r.standard_normal((d, h)) / np.sqrt(d)).astype(dtype), "b1": np.zeros(h, dtype),
              "W2": (r.standard_normal((h, c)) / np.sqrt(h)).astype(dtype), "b2": np.zeros(c, dtype)}
    tensors = {k: torch.from_numpy(v).requires_grad_() for k, v in params.items()}
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def ours():
        _, cache = task1_module.DNNforward(X, params)
        return task1_module.DNNbackward(y, params, cache)

    def theirs():
        for t in tensors.values():
            t.grad = None
        logits = torch.relu(Xt @ tensors["W1"] + tensors["b1"]) @ tensors["W2"] + tensors["b2"]
        loss = F.cross_entropy(logits, yt)
        loss.backward()
        return loss

    loss, grads = ours()
    loss_t = theirs()
    _agree(np.array(loss), loss_t.detach().numpy(), "task1 loss", dtype)
    for key in params:
        _agree(grads[key], tensors[key].grad.numpy(), f"task1 grads[{key}]", dtype)
    times = interleaved({"ours": ours, "torch": theirs}, repeats)
    return Comparison(f"task1 DNNforward+DNNbackward: N={n}, D={d}, H={h}, C={c}", np.dtype(dtype).name,
                      times["ours"], times["torch"])


def measure(tiny: bool = False, repeats: int = 20, log=print) -> list[Comparison]:
    from grader.judging.reference import solution

    layers_module, task1_module = solution("layers.py"), solution("task1.py")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = []
        for shape in (TINY_CONV_SHAPES if tiny else CONV_SHAPES):
            for dtype in DTYPES:
                log(f"Conv1D {shape.name} {np.dtype(dtype).name} ...")
                results.append(conv1d(layers_module, shape, dtype, repeats))
        for dtype in DTYPES:
            log(f"task1 {np.dtype(dtype).name} ...")
            results.append(mlp(task1_module, TINY_MLP_SIZE if tiny else MLP_SIZE, dtype, repeats))
    finally:
        torch.set_num_threads(threads)
    return results
