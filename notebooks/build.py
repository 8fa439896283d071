"""Write the student self-check notebooks ``notebooks/<task>_run.ipynb``.

This script is the source of the notebooks: change the text or code here, then run
``make notebooks`` (or ``python notebooks/build.py``). The ``.ipynb`` files are committed
without outputs, and ``tests/test_notebooks.py`` fails while they differ from what this
script writes.

Every notebook has the same frame: a title and an introduction, a setup cell that finds
the repository and the file to check (``STUDENT_FILE``), then for each graded name an
explanation, the self-check of that name and, where it helps, a small experiment, and
finally the self-check of the whole file with its total.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nbframe import TOTAL_LINE, notebook as frame, write  # noqa: E402,F401


ASSIGNMENT = "assignment2"


def notebook(task: str, title: str, intro: str,
             sections: list[tuple[str, str | None, str | None]]) -> nbformat.NotebookNode:
    return frame(task, title, intro, sections, ASSIGNMENT)


# --- task1 -------------------------------------------------------------------------------

TASK1 = notebook("task1", "Task 1 self-check: a two-layer perceptron in NumPy", """
    You write the pieces of a small classifier by hand: two activation functions, the
    forward pass, the loss with its gradients, and gradient descent. Everything works on
    NumPy arrays; the parameters travel in a dict with `W1 (D, H)`, `b1 (H,)`,
    `W2 (H, C)` and `b2 (C,)`.
""", [
    ("""
    ## `relu(x)` (3 points)

    Keep the positive entries of `x` and turn every other entry into 0. The answer is a
    **new** array with the same shape and the same dtype as `x` (a float32 input gives a
    float32 output). Writing into `x`, as `x[x < 0] = 0` does, changes the caller's array
    and costs a point.
    """, "task1.relu", """
    # Expected: [0, 0, 0, 0.5, 1], and x itself unchanged.
    import numpy as np

    with needs("relu"):
        x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
        y = student().relu(x)
        print("relu(x) =", y, "| dtype", y.dtype)
        print("x after the call:", x)
    """),
    ("""
    ## `prelu(x, a)` (2 points)

    Like `relu`, but the non-positive entries are multiplied by a slope `a` instead of
    being zeroed. `a` may be a single number or an array that broadcasts against `x`, for
    example one slope per column of a matrix. Let NumPy's broadcasting do the pairing; the
    output has the broadcast shape of `x` and `a`.
    """, "task1.prelu", """
    with needs("prelu"):
        prelu = student().prelu
        x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
        print("slope 0.1:        ", prelu(x, 0.1))            # [-0.2, -0.1, 0, 1, 2]
        grid = np.array([[-1.0, -1.0, -1.0], [2.0, -3.0, 4.0]])
        print("one slope per column:\\n", prelu(grid, np.array([0.0, 0.5, 1.0])))
    """),
    ("""
    ## `DNNforward(X, params)` (5 points)

    For a batch `X` of shape `(N, D)`, compute the hidden layer
    `h = relu(X @ W1 + b1)` of shape `(N, H)` and the raw class scores
    `logits = h @ W2 + b2` of shape `(N, C)` (no softmax here). Return the pair
    `(logits, cache)`, where `cache` holds whatever your `DNNbackward` will need (for
    example `X`, the pre-activation and `h`). The biases are added to every row.

    The experiment sends eight of the shipped MNIST digits (flattened to 784 numbers)
    through a network with random weights: you should see logits of shape `(8, 10)`.
    """, "task1.DNNforward", """
    from grader.data import load_digits


    def init_params(d, h, c, seed=0):
        \"\"\"Random starting weights (scaled so the activations neither vanish nor explode).\"\"\"
        rng = np.random.default_rng(seed)
        return {"W1": rng.standard_normal((d, h)) * np.sqrt(2.0 / d), "b1": np.zeros(h),
                "W2": rng.standard_normal((h, c)) * np.sqrt(1.0 / h), "b2": np.zeros(c)}


    images, labels = load_digits("train", limit=8)
    X8 = images.reshape(len(images), -1).astype(np.float64)      # (8, 784)
    with needs("DNNforward"):
        logits, cache = student().DNNforward(X8, init_params(784, 32, 10))
        print("logits shape:", logits.shape)
        print("predicted classes (random weights, so mostly wrong):", logits.argmax(axis=1))
        print("true labels:                                        ", labels)
    """),
    ("""
    ## `DNNbackward(y, params, cache)` (5 points)

    `y` holds the integer labels, shape `(N,)`. The loss is the softmax cross-entropy of
    the logits, **averaged** over the batch, returned as a Python float. The gradients
    come back in a dict with the same keys and shapes as `params`. Two things to get
    right: compute the softmax stably (subtract each row's maximum before `exp`, so that
    large logits give no `inf` or `nan`), and remember that averaging puts a factor `1/N`
    into every gradient.

    The experiment checks your gradients without any reference: it nudges every single
    weight up and down by `eps = 1e-6`, measures how your loss changes (a central
    difference), and compares that slope with your analytic gradient. Correct gradients
    agree to about `1e-7` or better.
    """, "task1.DNNbackward", """
    def loss_of(mod, X, y, params):
        _, cache = mod.DNNforward(X, params)
        return mod.DNNbackward(y, params, cache)[0]


    def gradient_check(mod, n=6, d=5, h=7, c=4, eps=1e-6, seed=1):
        rng = np.random.default_rng(seed)
        X, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
        params = init_params(d, h, c, seed)
        params["b1"] = 0.1 * rng.standard_normal(h)     # keep hidden units away from relu's kink
        _, grads = mod.DNNbackward(y, params, mod.DNNforward(X, params)[1])
        for key, value in params.items():
            numeric = np.zeros_like(value)
            for index in np.ndindex(value.shape):
                shifted = {k: v.copy() for k, v in params.items()}
                shifted[key][index] = value[index] + eps
                up = loss_of(mod, X, y, shifted)
                shifted[key][index] = value[index] - eps
                down = loss_of(mod, X, y, shifted)
                numeric[index] = (up - down) / (2 * eps)
            analytic = np.asarray(grads[key])
            if analytic.shape != value.shape:
                print(f"{key}: gradient has shape {analytic.shape}, expected {value.shape}")
                continue
            error = np.abs(analytic - numeric).max() / max(1e-12, np.abs(analytic).max() + np.abs(numeric).max())
            print(f"{key:>2}: relative error {error:.1e}  {'ok' if error < 1e-6 else '<- look at this gradient'}")


    with needs("DNNforward", "DNNbackward"):
        gradient_check(student())
    """),
    ("""
    ## `train(X, y, params, lr=0.1, epochs=100)` (5 points)

    Full-batch gradient descent: in each of the `epochs` steps, run `DNNforward` and
    `DNNbackward` on all of `X`, record the loss, then move every parameter by
    `-lr * gradient`. Record the loss **before** the update, so the first entry is the
    loss of the starting parameters. Do not change the caller's arrays: work on copies of
    the parameters. Return `(params, losses)`: the trained parameters and a list of
    `epochs` floats.

    The experiment trains on 1,000 shipped digits for 100 steps (about a second) and plots
    the loss. With correct code the loss falls from about 2.3 to below 0.2, and the
    network classifies roughly 85 % of 500 unseen test digits correctly.
    """, "task1.train", """
    import matplotlib.pyplot as plt

    images, labels = load_digits("train", limit=1000)
    X_train, y_train = images.reshape(len(images), -1).astype(np.float64), labels
    images, labels = load_digits("test", limit=500)
    X_test, y_test = images.reshape(len(images), -1).astype(np.float64), labels

    with needs("DNNforward", "DNNbackward", "train"):
        mod = student()
        trained, losses = mod.train(X_train, y_train, init_params(784, 64, 10), lr=0.5, epochs=100)
        accuracy = (mod.DNNforward(X_test, trained)[0].argmax(axis=1) == y_test).mean()
        print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; test accuracy {accuracy:.1%}")
        plt.plot(losses)
        plt.xlabel("epoch (one full-batch step)")
        plt.ylabel("mean cross-entropy")
        plt.title("task1: training loss on 1,000 digits")
        plt.show()
    """),
])


# --- task2 -------------------------------------------------------------------------------

TASK2 = notebook("task2", "Task 2 self-check: the perceptron in PyTorch", """
    The same two-layer network as in task 1, now assembled from `torch.nn` layers and
    trained with a PyTorch optimizer, which computes the gradients for you.
""", [
    ("""
    ## `get_DNN(input_size, hidden_size, output_size)` (5 points)

    Return an `nn.Module` (an `nn.Sequential` is simplest) made of exactly four layers in
    this order: `Flatten`, `Linear(input_size, hidden_size)`, `ReLU`,
    `Linear(hidden_size, output_size)`. It takes a batch of shape `(N, ...)`, for example
    images `(N, 1, 28, 28)`, and returns logits of shape `(N, output_size)`. No softmax at
    the end, and keep PyTorch's default initialization.

    For `get_DNN(784, 256, 10)` you should see 203,530 parameters and logits of shape
    `(5, 10)` for five digits.
    """, "task2.get_DNN", """
    import numpy as np
    import torch
    from grader.data import load_digits

    images, labels = load_digits("train", limit=5)
    with needs("get_DNN"):
        torch.manual_seed(0)
        net = student().get_DNN(784, 256, 10)
        print(net)
        print("parameters:", sum(p.numel() for p in net.parameters()))
        print("logits shape for five digits:", tuple(net(torch.from_numpy(images)).shape))
    """),
    ("""
    ## `train_torch(net, train_loader, num_epochs, lr)` (5 points)

    Train `net` in place with `torch.optim.SGD(net.parameters(), lr=lr)` and
    `nn.CrossEntropyLoss()` (the mean over the batch). For every batch of the loader, in
    the loader's order, take one step: reset the gradients, compute the loss, call
    `backward()`, call `step()`. Return one number per epoch: the average of that epoch's
    `loss.item()` values. Forgetting to reset the gradients is the classic bug here.

    The experiment trains `get_DNN(784, 128, 10)` for three epochs on the 4,000 shipped
    training digits (a second or two). With correct code the epoch losses fall from about
    1.5 to about 0.45 and about 85 % of the 1,000 test digits are classified correctly.
    """, "task2.train_torch", """
    import matplotlib.pyplot as plt
    from torch.utils.data import DataLoader, TensorDataset

    images, labels = load_digits("train")
    test_images, test_labels = load_digits("test")
    loader = DataLoader(TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)), batch_size=64,
                        shuffle=True, generator=torch.Generator().manual_seed(0))

    with needs("get_DNN", "train_torch"):
        mod = student()
        torch.manual_seed(0)
        net = mod.get_DNN(784, 128, 10)
        losses = mod.train_torch(net, loader, 3, 0.1)
        with torch.no_grad():
            predictions = net(torch.from_numpy(test_images)).argmax(dim=1).numpy()
        print("epoch losses:", [round(v, 3) for v in losses])
        print(f"test accuracy: {(predictions == test_labels).mean():.1%}")
        plt.plot(range(1, len(losses) + 1), losses, marker="o")
        plt.xlabel("epoch")
        plt.ylabel("mean batch loss")
        plt.title("task2: training on the shipped digits")
        plt.show()
    """),
])


# --- task3 -------------------------------------------------------------------------------

TASK3 = notebook("task3", "Task 3 self-check: LeNet-5", """
    A small convolutional network for 28x28 grayscale digits, and a training function
    that also reports the accuracy on the training and test data after every epoch.
""", [
    ("""
    ## `get_lenet()` (5 points)

    The classic LeNet-5 as an `nn.Sequential`, in this exact order:
    `Conv2d(1, 6, 5, padding=2)`, `Sigmoid`, `AvgPool2d(2, 2)`, `Conv2d(6, 16, 5)`,
    `Sigmoid`, `AvgPool2d(2, 2)`, `Flatten`, `Linear(400, 120)`, `Sigmoid`,
    `Linear(120, 84)`, `Sigmoid`, `Linear(84, 10)`. Sigmoid (not ReLU) and average (not
    max) pooling are part of the design.

    The experiment follows one digit through your network layer by layer. The feature
    maps should go from `(1, 1, 28, 28)` through `(1, 6, 14, 14)` and `(1, 16, 5, 5)` down
    to `(1, 10)`, and the parameters should add up to 61,706.
    """, "task3.get_lenet", """
    import numpy as np
    import torch
    from grader.data import load_digits

    images, labels = load_digits("test", limit=12)
    with needs("get_lenet"):
        net = student().get_lenet()
        x = torch.from_numpy(images[:1])
        print(f"{'input':<45} {tuple(x.shape)}")
        with torch.no_grad():
            for layer in (net if isinstance(net, torch.nn.Sequential) else [net]):
                x = layer(x)
                print(f"{str(layer):<45} {tuple(x.shape)}")
        print("parameters:", sum(p.numel() for p in net.parameters()))
    """),
    ("""
    ## `train_cnn(net, train_loader, test_loader, num_epochs, lr, device="cpu")` (15 points)

    1. Re-initialize the weight of every `Conv2d` and `Linear` layer with
       `nn.init.xavier_uniform_` (leave the biases alone), then move `net` to `device`.
    2. Train with SGD at rate `lr` on the mean cross-entropy, one step per batch of
       `train_loader`, in order, with the network in training mode; move each batch to
       `device`.
    3. After each epoch, measure the accuracy on **both** loaders with `net.eval()` and
       inside `torch.no_grad()`: total correct over total examples, a fraction in [0, 1].

    Return `{"train_loss": [...], "train_acc": [...], "test_acc": [...]}` with one value
    per epoch in each list. Never train on the test loader.

    The experiment below keeps training tiny (two epochs on 1,000 digits, a few seconds)
    and then shows twelve test digits with your network's guesses. Expect the loss to
    settle near 2.3 (ln 10, the loss of a uniform guess) and the guesses to be poor: a
    sigmoid LeNet trained with plain SGD sits on a plateau, predicting nearly the same
    class for every image, for several hundred steps before it starts to learn. To watch
    it get past that, set `EPOCHS, TRAIN_DIGITS, BATCH = 120, 4000, 256`. In our runs of
    the reference solution, the test accuracy stayed near 10 % for 50 to 85 epochs
    (depending on the random start), then climbed quickly: past 70 % within about
    fifteen epochs, and to about 90 % by epoch 120 in our longest run. That takes a few
    minutes on a laptop CPU; smaller batches stayed on the plateau even longer.
    """, "task3.train_cnn", """
    import matplotlib.pyplot as plt
    from torch.utils.data import DataLoader, TensorDataset

    EPOCHS, TRAIN_DIGITS, BATCH = 2, 1000, 64
    images, labels = load_digits("train", limit=TRAIN_DIGITS)
    test_images, test_labels = load_digits("test", limit=500)
    train_loader = DataLoader(TensorDataset(torch.from_numpy(images), torch.from_numpy(labels)), batch_size=BATCH,
                              shuffle=True, generator=torch.Generator().manual_seed(0))
    test_loader = DataLoader(TensorDataset(torch.from_numpy(test_images), torch.from_numpy(test_labels)),
                             batch_size=250)

    with needs("get_lenet", "train_cnn"):
        mod = student()
        torch.manual_seed(0)
        net = mod.get_lenet()
        history = mod.train_cnn(net, train_loader, test_loader, EPOCHS, 0.9)
        for epoch in range(EPOCHS):
            print(f"epoch {epoch + 1}: loss {history['train_loss'][epoch]:.3f}, "
                  f"train accuracy {history['train_acc'][epoch]:.1%}, test accuracy {history['test_acc'][epoch]:.1%}")
        net.eval()
        with torch.no_grad():
            guesses = net(torch.from_numpy(test_images[:12])).argmax(dim=1).numpy()
        figure, axes = plt.subplots(1, 12, figsize=(12, 1.6))
        for axis, image, label, guess in zip(axes, test_images, test_labels, guesses):
            axis.imshow(image[0], cmap="gray_r")
            axis.set_title(f"{guess} ({label})", color="green" if guess == label else "red", fontsize=9)
            axis.axis("off")
        figure.suptitle("guess (true label)", fontsize=9)
        plt.show()
    """),
    ("""
    ### Optional: Fashion-MNIST (needs the internet)

    The original course trains LeNet on Fashion-MNIST, 60,000 clothing images, for ten
    epochs (learning rate about 0.9, batches of 256) and expects over 70 % test accuracy.
    The cell below is commented out because it downloads the data and trains for several
    minutes; nothing else in this notebook needs the network. Remove the `#` signs to try
    it on your own machine.
    """, None, """
    # import torchvision
    # from torchvision import transforms
    # root = REPO / "data" / "fashion-mnist"
    # to_tensor = transforms.ToTensor()
    # fashion_train = torchvision.datasets.FashionMNIST(root, train=True, download=True, transform=to_tensor)
    # fashion_test = torchvision.datasets.FashionMNIST(root, train=False, download=True, transform=to_tensor)
    # with needs("get_lenet", "train_cnn"):
    #     mod = student()
    #     history = mod.train_cnn(mod.get_lenet(), DataLoader(fashion_train, batch_size=256, shuffle=True),
    #                             DataLoader(fashion_test, batch_size=256), 10, 0.9)
    #     print("test accuracy per epoch:", [f"{a:.1%}" for a in history["test_acc"]])
    """),
])


# --- task4 -------------------------------------------------------------------------------

TASK4 = notebook("task4", "Task 4 self-check: ResNet-18", """
    The residual block, and ResNet-18 stacked from eight of them. Nothing is trained here:
    the checks and experiments look at the structure, the shapes and the parameter count.
""", [
    ("""
    ## `class Residual(nn.Module)` (5 points)

    `Residual(input_channels, num_channels, use_1x1conv=False, strides=1)` holds two 3x3
    convolutions (padding 1; the first one with stride `strides`), each followed by batch
    normalization, with a ReLU between them. The shortcut is the input itself, or a 1x1
    convolution with stride `strides` when `use_1x1conv` is true, so that its shape
    matches. The block returns `ReLU(main path + shortcut)`. Create all layers in
    `__init__` so that PyTorch registers their parameters.

    A block that keeps the size maps `(4, 3, 6, 6)` to `(4, 3, 6, 6)`; one with six
    channels, a 1x1 shortcut and stride 2 maps it to `(4, 6, 3, 3)`.
    """, "task4.Residual", """
    import torch

    with needs("Residual"):
        Residual = student().Residual
        x = torch.randn(4, 3, 6, 6)
        print("Residual(3, 3):                                ", tuple(Residual(3, 3)(x).shape))
        print("Residual(3, 6, use_1x1conv=True, strides=2):   ",
              tuple(Residual(3, 6, use_1x1conv=True, strides=2)(x).shape))
    """),
    ("""
    ## `get_resnet(in_channels=1, num_classes=10)` (5 points)

    ResNet-18 from your `Residual` blocks: a stem (7x7 convolution with stride 2 and
    padding 3 to 64 channels, batch norm, ReLU, 3x3 max-pool with stride 2 and padding 1),
    four stages of two blocks each with 64, 128, 256 and 512 channels (stages two to four
    open with a block that halves the height and width through a strided 1x1 shortcut),
    then global average pooling, `Flatten` and `Linear(512, num_classes)`.

    With the defaults the network has 11,178,378 parameters and turns a batch of 32x32
    grayscale images `(2, 1, 32, 32)` into logits `(2, 10)`.
    """, "task4.get_resnet", """
    with needs("Residual", "get_resnet"):
        net = student().get_resnet()
        net.eval()
        with torch.no_grad():
            out = net(torch.randn(2, 1, 32, 32))
        print(f"parameters: {sum(p.numel() for p in net.parameters()):,}")
        print("output shape for (2, 1, 32, 32):", tuple(out.shape))
    """),
])


# --- layers ------------------------------------------------------------------------------

LAYERS = notebook("layers", "Layers self-check: a 1-D convolution in NumPy", """
    `Conv1D` slides `out_channel` filters of shape `(in_channel, kernel_size)` along the
    input with step `stride`, without padding. The weights `W` and bias `b` are given in
    `__init__`; you write the forward pass and the backward pass, and the result must
    agree with `torch.nn.Conv1d` holding the same weights.
""", [
    ("""
    ## `Conv1D.forward(x)` (5 points)

    `x` has shape `(batch, in_channel, in_width)`. Output position `w` of channel `o` is
    `b[o]` plus the sum over input channels `c` and kernel offsets `k` of
    `W[o, c, k] * x[n, c, w * stride + k]`; the output has width
    `(in_width - kernel_size) // stride + 1`. Keep `x` (or whatever you need) on `self`
    for the backward pass, and avoid Python loops over the batch or the channels: the
    grader's time limit is generous, but not for that.

    The experiment runs one example through your layer and through `torch.nn.Conv1d` with
    the same weights (stride 3, which does not divide the width). The largest difference
    should be around `1e-15`.
    """, "layers.Conv1D.forward", """
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 23))
    with needs("Conv1D.forward"):
        layer = student().Conv1D(in_channel=3, out_channel=4, kernel_size=5, stride=3)
        torch_layer = torch.nn.Conv1d(3, 4, kernel_size=5, stride=3).double()
        with torch.no_grad():
            torch_layer.weight.copy_(torch.from_numpy(layer.W))
            torch_layer.bias.copy_(torch.from_numpy(layer.b))
        x_torch = torch.from_numpy(x).requires_grad_()
        y_torch = torch_layer(x_torch)
        y = layer(x)
        print("output shape, yours:", np.shape(y), "| torch:", tuple(y_torch.shape))
        print("largest difference:", np.abs(y - y_torch.detach().numpy()).max())
    """),
    ("""
    ## `Conv1D.backward(delta)` (10 points: dx 4, dW 4, db 2)

    `delta` is the gradient of the loss with respect to the output of the last `forward`
    call, so it has the output's shape. Return `dx`, shaped like `x`, and **assign** (do
    not add to) `self.dW` and `self.db`, summed over the examples of the batch. When the
    windows overlap (`stride < kernel_size`), an input position collects gradient from
    every window it is part of; positions that no window reaches get 0.

    The experiment compares your three gradients with what PyTorch's autograd finds for
    the same example and the same `delta`.
    """, "layers.Conv1D.backward", """
    with needs("Conv1D.forward", "Conv1D.backward"):
        layer = student().Conv1D(in_channel=3, out_channel=4, kernel_size=5, stride=3)
        torch_layer = torch.nn.Conv1d(3, 4, kernel_size=5, stride=3).double()
        with torch.no_grad():
            torch_layer.weight.copy_(torch.from_numpy(layer.W))
            torch_layer.bias.copy_(torch.from_numpy(layer.b))
        x_torch = torch.from_numpy(x).requires_grad_()
        y_torch = torch_layer(x_torch)
        delta = rng.standard_normal(tuple(y_torch.shape))
        y_torch.backward(torch.from_numpy(delta))
        layer(x)
        dx = layer.backward(delta)
        for name, mine, theirs in (("dx", dx, x_torch.grad), ("dW", layer.dW, torch_layer.weight.grad),
                                   ("db", layer.db, torch_layer.bias.grad)):
            print(f"{name}: largest difference {np.abs(np.asarray(mine) - theirs.numpy()).max():.1e}")
    """),
])


NOTEBOOKS = {
    "task1_run.ipynb": TASK1,
    "task2_run.ipynb": TASK2,
    "task3_run.ipynb": TASK3,
    "task4_run.ipynb": TASK4,
    "layers_run.ipynb": LAYERS,
}


def main() -> int:
    return write(NOTEBOOKS, HERE)


if __name__ == "__main__":
    sys.exit(main())
