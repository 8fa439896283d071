"""Write the self-check notebooks of assignment 4: ``notebooks/cnn_run.ipynb``,
``vgg_run.ipynb``, ``lstm_run.ipynb`` and ``vae_run.ipynb``.

This script is their source, built like the notebooks of the other packs: edit the text
or code here, then run ``make notebooks`` (or ``python notebooks/build_assignment4.py``).
The ``.ipynb`` files are committed without outputs; ``tests/test_assignment4.py`` fails
while they differ from what this script writes, and runs them against the solutions and
the templates.

Each notebook: a title and an introduction, the setup cell that finds the repository and
the file to check (``STUDENT_FILE``), then per graded name an explanation with its points,
its self-check and a small experiment, and finally the self-check of the whole file. The
experiments train only tiny models on the shipped data, so every notebook runs in seconds.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from nbframe import TOTAL_LINE, notebook as frame, text as _text, write  # noqa: E402,F401

ASSIGNMENT = "assignment4"

def notebook(task: str, title: str, intro: str,
             sections: list[tuple[str | None, str | None, str | None]]) -> nbformat.NotebookNode:
    return frame(task, title, intro, sections, ASSIGNMENT)


CNN = notebook("cnn", "Assignment 4 self-check: the arithmetic of convolutional networks", """
    Six small functions on plain Python integers: output sizes, padding, receptive
    fields, parameter counts and the shape of batch-norm statistics. No library is needed
    (the file may import only the standard library). The grader computes every expected
    answer from PyTorch's own layers, and the experiments below do the same, so you can
    see where the numbers come from.
""", [
    ("""
    ## `conv_output_size(size, kernel, stride=1, padding=0)` (2 points: stride 1 and no padding 0.5, with a stride or padding 1, ValueError 0.5)

    One spatial dimension at a time: pad the input with `padding` zeros on **each** side,
    then count the windows of `kernel` positions that fit entirely, starting at 0 and
    moving `stride` positions at a time. A window that would stick out does not count,
    so the division rounds down. When not even one window fits, raise a `ValueError`.
    Return an `int`.

    The experiment follows the handout's network along one axis of a 256x256 image: a
    3x3 convolution with stride 1, a 5x5 convolution with stride 3, a 2x2 pooling, another
    3x3 convolution (no padding anywhere), next to the lengths `torch.nn.functional.conv1d`
    produces.
    """, "cnn.conv_output_size", """
    import torch
    import torch.nn.functional as F

    HANDOUT = [("conv 3x3, stride 1", 3, 1), ("conv 5x5, stride 3", 5, 3), ("pool 2x2", 2, 2),
               ("conv 3x3, stride 1", 3, 1)]
    with needs("conv_output_size"):
        cnn = student()
        size, x = 256, torch.zeros(1, 1, 256)
        print(f"{'input':<20} {size:>4}")
        for name, kernel, stride in HANDOUT:
            size = cnn.conv_output_size(size, kernel, stride=stride)
            x = F.conv1d(x, torch.zeros(1, 1, kernel), stride=stride)
            print(f"{name:<20} {size!r:>4}   (torch: {x.shape[-1]})")
    """),
    ("""
    ## `same_padding(kernel)` (1 point: odd kernels 0.5, ValueError for even ones 0.5)

    With stride 1, a kernel of `2w + 1` positions loses `w` positions at each end of the
    input; padding each side by that much gives the size back. An even kernel cannot be
    padded the same on both sides to keep the size, so it raises a `ValueError`.
    """, "cnn.same_padding", """
    with needs("same_padding", "conv_output_size"):
        cnn = student()
        for kernel in (1, 3, 5, 7):
            padding = cnn.same_padding(kernel)
            print(f"kernel {kernel}: padding {padding!r}, size 32 stays {cnn.conv_output_size(32, kernel, padding=padding)}")
        try:
            cnn.same_padding(4)
        except ValueError as exc:
            print("same_padding(4) raised ValueError:", exc)
        else:
            print("same_padding(4) returned instead of raising a ValueError")
    """),
    ("""
    ## `receptive_field(layers)` (3 points: stride-1 layers 1, strided layers and pools 2)

    `layers` lists `(kernel, stride)` pairs from the input up; convolutions and pools count
    alike. A unit of the last layer sees `kernel` units of the layer below it, each of
    those sees its own window one layer further down, and so on. Strides matter: after a
    layer with stride 3, neighbouring units are 3 input positions apart, so every later
    kernel spreads over three times as many input positions.

    The experiment asks PyTorch the same question: it stacks 1-D convolutions with
    positive weights, sends an input through them, and lets autograd say which input
    positions the first unit of the last layer depends on.
    """, "cnn.receptive_field", """
    def torch_receptive_field(layers, length=400):
        x = torch.zeros(1, 1, length, requires_grad=True)
        y = x
        for kernel, stride in layers:
            y = F.conv1d(y, torch.ones(1, 1, kernel), stride=stride)
        y[0, 0, 0].backward()
        used = torch.nonzero(x.grad[0, 0]).flatten()
        return int(used.max() - used.min() + 1)


    examples = {"two 3x3 convolutions": [(3, 1), (3, 1)],
                "the handout's network": [(3, 1), (5, 3), (2, 2), (3, 1)],
                "VGG-11, one axis": [(3, 1), (2, 2), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2),
                                     (3, 1), (3, 1), (2, 2)]}
    with needs("receptive_field"):
        cnn = student()
        for name, layers in examples.items():
            print(f"{name:<24} yours {cnn.receptive_field(layers)!r:>4}   autograd {torch_receptive_field(layers):>4}")
    """),
    ("""
    ## `conv_params(in_channels, out_channels, kernel, bias=True)` (2 points: int kernel 1, (kh, kw) pair 0.5, no bias 0.5)

    A 2-D convolution has one `kh x kw` kernel for every pair of input and output
    channels, plus one bias per output channel when `bias` is true. `kernel` is either an
    int (a square kernel) or a pair `(kh, kw)`.

    The experiment counts the parameters of the handout's three convolutions (without
    bias) and compares with `torch.nn.Conv2d`.
    """, "cnn.conv_params", """
    from torch import nn

    convolutions = [(3, 100, 3), (100, 50, 5), (50, 30, 3), (1, 6, (5, 3))]
    with needs("conv_params"):
        cnn = student()
        for cin, cout, kernel in convolutions:
            layer = nn.Conv2d(cin, cout, kernel, bias=False)
            print(f"Conv2d({cin}, {cout}, {kernel}, bias=False): yours {cnn.conv_params(cin, cout, kernel, bias=False)!r:>7}"
                  f"   torch {sum(p.numel() for p in layer.parameters()):>7}")
    """),
    ("""
    ## `residual_block_params(channels, bottleneck=False)` (4 points: basic block 2, bottleneck block 2)

    Both blocks keep the number of channels, so the shortcut is the identity and has no
    parameters. Their convolutions have no bias; each is followed by batch norm, which
    learns a scale and a shift per channel (its running mean and variance are statistics,
    not trained parameters). The basic block has two 3x3 convolutions at full width; the
    bottleneck squeezes to `channels // 4` with a 1x1 convolution, works there with a 3x3
    one, and expands back with another 1x1.

    The second handout compares a basic block with 32 channels and a bottleneck with 128
    channels; the experiment builds both from `torch.nn` layers and counts. Notice how
    the bottleneck handles four times the channels with fewer parameters. If your
    function calls your `conv_params`, the grader checks it with a correct `conv_params`
    in its place, so a mistake there costs only `conv_params`.
    """, "cnn.residual_block_params", """
    def torch_block(channels, bottleneck):
        def conv(cin, cout, kernel):
            return [nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout)]
        if not bottleneck:
            return nn.Sequential(*conv(channels, channels, 3), nn.ReLU(), *conv(channels, channels, 3))
        inner = channels // 4
        return nn.Sequential(*conv(channels, inner, 1), nn.ReLU(), *conv(inner, inner, 3), nn.ReLU(),
                             *conv(inner, channels, 1))


    with needs("residual_block_params"):
        cnn = student()
        for channels, bottleneck in ((32, False), (128, True)):
            block = torch_block(channels, bottleneck)
            trained = sum(p.numel() for p in block.parameters())
            name = "bottleneck" if bottleneck else "basic block"
            print(f"{name:<12} {channels:>4} channels: yours {cnn.residual_block_params(channels, bottleneck=bottleneck)!r:>7}"
                  f"   torch {trained:>7}")
    """),
    ("""
    ## `bn_stat_shape(x_shape, layout)` (3 points: NC 1, NCHW and NHWC 1.5, ValueError 0.5)

    In training, batch norm computes one mean and one variance per channel, over every
    other axis: over the batch for the output of a fully connected layer (`"NC"`), over the
    batch and both spatial axes for images, whether the channels come second (`"NCHW"`,
    PyTorch's layout) or last (`"NHWC"`). Return the shape as a tuple, `(C,)`. Raise a
    `ValueError` for another layout, or for a layout whose length differs from the shape's.

    The experiment runs PyTorch's batch norm on such inputs and prints the shape of the
    running mean it keeps.
    """, "cnn.bn_stat_shape", """
    shapes = [((128, 10), "NC"), ((128, 32, 16, 16), "NCHW"), ((128, 16, 16, 32), "NHWC")]
    with needs("bn_stat_shape"):
        cnn = student()
        for shape, layout in shapes:
            x = torch.randn(shape)
            if layout == "NHWC":
                x = x.permute(0, 3, 1, 2)          # PyTorch wants the channels second
            norm = nn.BatchNorm1d(x.shape[1]) if x.dim() == 2 else nn.BatchNorm2d(x.shape[1])
            norm(x)
            print(f"{layout:<5} {str(shape):<20} yours {cnn.bn_stat_shape(shape, layout)!r:<8}"
                  f" torch {tuple(norm.running_mean.shape)}")
    """),
])


# --- vgg ------------------------------------------------------------------------------------

VGG = notebook("vgg", "Assignment 4 self-check: VGG-11 on digits", """
    VGG-11 (configuration "A" of the VGG paper) adapted to 32x32 grayscale digits, and a
    training loop that records the four curves of the handout: training and test loss,
    training and test accuracy, once per epoch. The shipped MNIST digits are 28x28; they
    are padded with two empty rows and columns on each side to 32x32, so that five 2x2
    poolings end at 1x1.
""", [
    ("""
    ## `get_vgg11(in_channels=1, num_classes=10, fc_width=4096)` (6 points: layers and parameter count 2, output in eval mode 2.5, dropout 1.5)

    Eight 3x3 convolutions with padding 1, each followed by a ReLU, in five blocks of
    64, 128, 256 256, 512 512 and 512 512 channels; a 2x2 max-pool with stride 2 closes
    each block. Then flatten, `Linear(512, fc_width)`, ReLU, `Dropout(0.5)`,
    `Linear(fc_width, fc_width)`, ReLU, `Dropout(0.5)` and `Linear(fc_width, num_classes)`.

    The grader finds your layers by type and order, not by name, gives them known weights
    and compares your network's output with the reference, in evaluation mode and in
    training mode (where dropout draws its masks from a seeded random generator). With the
    defaults the network has 28,142,858 parameters; the experiment prints the shape after
    each layer for `fc_width=64` and counts the full network without allocating it (on
    PyTorch's "meta" device).
    """, "vgg.get_vgg11", """
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
    from grader.data import load_digits


    def padded(images):
        \"\"\"28x28 digits -> 32x32, two empty pixels on each side.\"\"\"
        return F.pad(torch.from_numpy(images), (2, 2, 2, 2))


    images, labels = load_digits("train", limit=2)
    with needs("get_vgg11"):
        vgg = student()
        net = vgg.get_vgg11(fc_width=64).eval()
        shapes = []
        hooks = [m.register_forward_hook(lambda m, i, o: shapes.append((type(m).__name__, tuple(o.shape))))
                 for m in net.modules() if not list(m.children())]
        with torch.no_grad():
            net(padded(images))
        for hook in hooks:
            hook.remove()
        for name, shape in shapes:
            print(f"{name:<10} {shape}")
        with torch.device("meta"):
            full = vgg.get_vgg11()
        print(f"parameters with the defaults: {sum(p.numel() for p in full.parameters()):,}")
    """),
    ("""
    ## `train_vgg(net, train_loader, test_loader, num_epochs, lr, device="cpu")` (9 points: steps 3, train_loss 1.5, evaluation 1.5, accuracies 1.5, test_loss 1.5)

    One optimizer for the whole run, `torch.optim.SGD(net.parameters(), lr=lr,
    momentum=0.9)`, and the mean cross-entropy. In every epoch: training mode, one step
    per batch of `train_loader` in order (reset the gradients, forward, loss, backward,
    step), and the epoch's `train_loss` is the mean of those batch losses. After the
    epoch, evaluate on both loaders in evaluation mode inside `torch.no_grad()`: the
    accuracies as fractions, and `test_loss` as the cross-entropy averaged over test
    **examples** (the last batch may be smaller, so do not average batch means). Return
    the four lists in a dict.

    The grader hands your function a small network and replays every step you take with
    PyTorch's own optimizer, so it can say exactly which step went wrong.

    The experiment runs your `train_vgg` for four epochs on 1,000 digits and plots the
    four curves. VGG-11 itself is too slow for that here: one epoch over 1,000 digits
    takes a few minutes on a laptop CPU, and it needs many epochs before it learns
    anything. So, by default, the experiment trains a small convolutional network (two
    convolutions) with your function, which learns within seconds; set `USE_VGG = True` to
    train your VGG-11 (with `fc_width=64`) instead, and expect the losses to stay near 2.3,
    the loss of a uniform guess, for a long while. The handout's experiment, all digits for
    a few epochs with the full classifier, takes hours on a CPU.
    """, "vgg.train_vgg", """
    import matplotlib.pyplot as plt
    from torch.utils.data import DataLoader, TensorDataset

    USE_VGG, TRAIN_DIGITS, TEST_DIGITS, EPOCHS = False, 1000, 500, 4


    def loader(split, count, shuffle):
        images, labels = load_digits(split, limit=count)
        return DataLoader(TensorDataset(padded(images), torch.from_numpy(labels)), batch_size=50, shuffle=shuffle,
                          generator=torch.Generator().manual_seed(0))


    def small_cnn():
        return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(16 * 8 * 8, 10))


    with needs("get_vgg11", "train_vgg") if USE_VGG else needs("train_vgg"):
        vgg = student()
        torch.manual_seed(0)
        net = vgg.get_vgg11(fc_width=64) if USE_VGG else small_cnn()
        history = vgg.train_vgg(net, loader("train", TRAIN_DIGITS, True), loader("test", TEST_DIGITS, False),
                                EPOCHS, 0.01 if USE_VGG else 0.05)
        for key in ("train_loss", "train_acc", "test_loss", "test_acc"):
            print(f"{key:<10}", [round(v, 3) for v in history[key]])
        epochs = range(1, EPOCHS + 1)
        figure, axes = plt.subplots(1, 4, figsize=(14, 2.8))
        for axis, key in zip(axes, ("train_loss", "test_loss", "train_acc", "test_acc")):
            axis.plot(epochs, history[key], marker="o")
            axis.set_title(key)
            axis.set_xlabel("epoch")
            axis.set_xticks(list(epochs))
        figure.tight_layout()
        plt.show()
    """),
])


# --- lstm -----------------------------------------------------------------------------------

LSTM = notebook("lstm", "Assignment 4 self-check: a character LSTM for sentiment", """
    A tweet is read one character at a time, as one-hot vectors of length 128 (its ASCII
    code); an LSTM runs over the characters, and a linear layer turns the hidden state
    after the last character into log-probabilities of "negative" and "positive".

    The tweets used here are real: 3,432 tweets rated by about twenty people each, from
    the data of the VADER sentiment paper (Hutto and Gilbert, 2014), shipped in
    `data/tweets.tsv.gz`; a tweet counts as positive when its mean rating is at least
    +0.5 and as negative when it is at most -0.5 (see `data/README.md`). About 68% of
    them are positive.
""", [
    ("""
    ## `one_hot_ascii(text)` (3 points: rows 2, dtype and non-ASCII characters 1)

    A `torch.float32` tensor of shape `(L, 128)`: one row per ASCII character of `text`,
    with a single 1.0 in the column of its code (`ord(c)`). Characters with a code of 128
    or more (accents, emoji, ...) are left out, so `L` counts only the ASCII ones.
    """, "lstm.one_hot_ascii", """
    import numpy as np
    import torch
    from torch import nn
    from grader.data import load_tweets

    with needs("one_hot_ascii"):
        lstm = student()
        for text in ("Hi!", "Café \u2615"):
            x = lstm.one_hot_ascii(text)
            print(f"{text!r}: shape {tuple(x.shape)}, dtype {x.dtype}, codes {x.argmax(dim=1).tolist()}")
    """),
    ("""
    ## `class CharLSTM(nn.Module)` (6 points: layers 1, equal lengths 2, padded batches 3)

    `CharLSTM(hidden_size=128, num_classes=2)` holds one `nn.LSTM(128, hidden_size,
    batch_first=True)` and one `nn.Linear(hidden_size, num_classes)`. `forward(x, lengths)`
    takes a zero-padded batch `(N, T, 128)` and each text's true length, and returns
    `(N, num_classes)` log-probabilities computed from the hidden state right after each
    text's **own** last character. The LSTM's output at step `T` belongs to the padding for
    every shorter text; reading it there is the classic mistake. Either pick step
    `lengths[i] - 1` of text `i`, or pack the batch with
    `nn.utils.rnn.pack_padded_sequence(..., enforce_sorted=False)`.

    The grader puts known weights into your two layers (found by type, whatever their
    names) and compares with each text run on its own. The experiment does the same check
    with your network: each text alone, then all of them in one padded batch. The
    differences should be around `1e-7`.
    """, "lstm.CharLSTM", """
    def padded_batch(texts, encode):
        rows = [encode(t) for t in texts]
        lengths = torch.tensor([len(r) for r in rows])
        return nn.utils.rnn.pad_sequence(rows, batch_first=True), lengths


    with needs("one_hot_ascii", "CharLSTM"):
        lstm = student()
        torch.manual_seed(0)
        net = lstm.CharLSTM(hidden_size=32)
        texts = ["what a lovely day", "meh", "worst service ever, never again"]
        with torch.no_grad():
            alone = torch.cat([net(*padded_batch([t], lstm.one_hot_ascii)) for t in texts])
            together = net(*padded_batch(texts, lstm.one_hot_ascii))
        print("log-probabilities, batched:\\n", together)
        print("largest difference between alone and batched:", (alone - together).abs().max().item())
    """),
    ("""
    ## `train_lstm(net, batches, lr)` (6 points: steps 4, returned losses 2)

    One `torch.optim.Adam(net.parameters(), lr=lr)` for the whole run; for every
    `(x, lengths, y)` of `batches`, in order: reset the gradients, compute the mean
    negative log-likelihood of the true classes (`nn.NLLLoss()`, since the network returns
    log-probabilities), backpropagate, step. Return the batch losses as Python floats.

    The handout trains with batches of 32 and a learning rate of 0.0001 for 100,000
    iterations and plots the training and test accuracy along the way. The experiment is
    the same loop in miniature: a `CharLSTM(hidden_size=64)`, 60 batches of 32 tweets
    (cut to 60 characters), a larger learning rate, and both accuracies measured every 10
    batches on 200 tweets of each split. The measuring happens inside the iterable of batches, between two of your
    steps, so your function runs unchanged. In so few steps the network mostly learns
    that most tweets are positive: expect accuracies close to that share, not a real
    sentiment classifier.
    """, "lstm.train_lstm", """
    import matplotlib.pyplot as plt

    BATCH, STEPS, EVERY, MEASURE, CUT = 32, 60, 10, 200, 60
    train_texts, train_labels = load_tweets("train")
    test_texts, test_labels = load_tweets("test", limit=MEASURE)
    train_texts = [t[:CUT] for t in train_texts]
    test_texts = [t[:CUT] for t in test_texts]


    def accuracy(net, encode, texts, labels):
        with torch.no_grad():
            x, lengths = padded_batch(texts, encode)
            return (net(x, lengths).argmax(dim=1).numpy() == labels).mean()


    curve = {"step": [], "train": [], "test": []}


    def batches_measuring(net, encode):
        \"\"\"The training batches; every EVERY batches, first measure both accuracies.\"\"\"
        order = np.random.default_rng(0).permutation(len(train_texts))
        for step in range(STEPS + 1):
            if step % EVERY == 0:
                curve["step"].append(step)
                curve["train"].append(accuracy(net, encode, train_texts[:MEASURE], train_labels[:MEASURE]))
                curve["test"].append(accuracy(net, encode, test_texts, test_labels))
            if step == STEPS:
                return
            chosen = order[step * BATCH:(step + 1) * BATCH]
            x, lengths = padded_batch([train_texts[i] for i in chosen], encode)
            yield x, lengths, torch.from_numpy(train_labels[chosen])


    with needs("one_hot_ascii", "CharLSTM", "train_lstm"):
        lstm = student()
        torch.manual_seed(0)
        net = lstm.CharLSTM(hidden_size=64)
        losses = lstm.train_lstm(net, batches_measuring(net, lstm.one_hot_ascii), 0.005)
        print(f"{len(losses)} steps; loss {np.mean(losses[:10]):.3f} (first 10) -> {np.mean(losses[-10:]):.3f} (last 10)")
        print(f"share of positive tweets in the test sample: {test_labels.mean():.1%}")
        plt.figure(figsize=(6, 3))
        plt.plot(curve["step"], curve["train"], marker="o", label="training accuracy")
        plt.plot(curve["step"], curve["test"], marker="o", label="test accuracy")
        plt.axhline(test_labels.mean(), color="gray", linestyle="--", label="always guessing positive (test)")
        plt.ylim(0, 1)
        plt.xlabel("iteration (batch)")
        plt.ylabel("accuracy")
        plt.legend()
        plt.show()
    """),
])


# --- vae ------------------------------------------------------------------------------------

VAE = notebook("vae", "Assignment 4 self-check: a variational auto-encoder", """
    The encoder maps a digit to a Gaussian over a small latent vector `z` (a mean `mu`
    and a log-variance `logvar` per dimension); a sample of it goes through the decoder,
    which returns one logit per pixel. Training minimizes, per example, the pixels'
    negative log-likelihood plus the KL divergence of the encoder's Gaussian from the
    standard normal prior. The experiments end with a small VAE trained on the shipped
    digits: its reconstructions, and where the digits land in its 2-D latent space.
""", [
    ("""
    ## `kl_divergence(mu, logvar)` (3 points: one latent dimension 1, several 2)

    For one dimension with mean `m` and variance `s^2 = exp(logvar)`, the KL divergence
    from `N(0, 1)` is `(s^2 + m^2 - 1 - log s^2) / 2`. The dimensions are independent, so
    their terms add up: return one value per example, shape `(N,)`, summed (not
    averaged) over the latent dimensions. It is never negative.

    The experiment estimates the same divergence by sampling: the average of
    `log q(z) - log p(z)` over many `z` drawn from `q`.
    """, "vae.kl_divergence", """
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch.distributions import Normal
    from grader.data import load_digits

    mu = torch.tensor([[0.5, -1.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.2, -0.7], [0.0, 0.0]])
    q = Normal(mu, torch.exp(0.5 * logvar))
    z = q.sample((200_000,))
    sampled = (q.log_prob(z) - Normal(0.0, 1.0).log_prob(z)).sum(-1).mean(0)
    with needs("kl_divergence"):
        print("yours:      ", student().kl_divergence(mu, logvar))
        print("by sampling:", sampled)
    """),
    ("""
    ## `reparameterize(mu, logvar, eps)` (2 points: values 1, gradients 1)

    Sampling `z` from `N(mu, exp(logvar))` directly would give autograd nothing to
    differentiate. Written as `z = mu + exp(logvar / 2) * eps`, with the noise `eps` drawn
    from `N(0, I)` outside, `z` is an ordinary function of `mu` and `logvar`, and the
    gradients reach the encoder. Note the `/ 2`: `exp(logvar)` is the variance, its square
    root the standard deviation.
    """, "vae.reparameterize", """
    with needs("reparameterize"):
        mu = torch.tensor([[1.0]], requires_grad=True)
        logvar = torch.tensor([[np.log(4.0)]], requires_grad=True)
        eps = torch.randn(100_000, 1)
        z = student().reparameterize(mu, logvar, eps)
        print(f"mean {z.mean().item():.3f} (expected 1), standard deviation {z.std().item():.3f} (expected 2)")
        z.mean().backward()
        print("d mean(z) / d mu =", mu.grad.item(), "| d mean(z) / d logvar =", round(logvar.grad.item(), 4))
    """),
    ("""
    ## `bernoulli_nll(x, logits)` (3 points: moderate logits 2, large logits 1)

    Each pixel is 1 with probability `sigmoid(logit)`; its negative log-likelihood is the
    binary cross-entropy, and a digit's is the sum over its pixels: one value per
    example, whatever the shape after the first axis. Work from the logits
    (`F.binary_cross_entropy_with_logits`): `log(sigmoid(logit))` computed in two steps
    becomes `log(0)` for large logits, and a loss that takes probabilities cuts it off.
    The experiment shows the difference at a logit of -200 for a white pixel.
    """, "vae.bernoulli_nll", """
    x = torch.tensor([[1.0, 0.0, 1.0]])
    for logits in (torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[-200.0, -1.0, 0.5]])):
        two_steps = -(x * torch.log(torch.sigmoid(logits)) + (1 - x) * torch.log(1 - torch.sigmoid(logits))).sum(1)
        with needs("bernoulli_nll"):
            print(f"logits {logits.tolist()}: yours {student().bernoulli_nll(x, logits).tolist()}, "
                  f"log of sigmoid {two_steps.tolist()}")
    """),
    ("""
    ## `class VAE(nn.Module)` (4 points: layers 1, encode 1, decode 1, forward 1)

    `VAE(in_features=784, hidden=512, z_dim=2)`: the encoder is `Linear(in_features,
    hidden)` and a ReLU, followed by two heads, `Linear(hidden, z_dim)` for `mu` and another
    for `logvar`; the decoder is `Linear(z_dim, hidden)`, ReLU, `Linear(hidden,
    in_features)`, giving logits. `encode(x)` flattens `x` first (digits come as
    `(N, 1, 28, 28)`), `decode(z)` returns the logits, and `forward(x, eps=None)` returns
    `(logits, mu, logvar)`, drawing `eps` from `N(0, I)` when it is not given. Call
    `reparameterize` in `forward`: the grader then checks `forward` with a correct
    `reparameterize`, so a mistake there costs only `reparameterize`.
    """, "vae.VAE", """
    images, labels = load_digits("train")
    with needs("VAE"):
        vae = student()
        torch.manual_seed(0)
        model = vae.VAE()
        x5 = torch.from_numpy(images[:5])
        mu, logvar = model.encode(x5)
        logits, mu_again, _ = model(x5)
        print("x", tuple(x5.shape), "-> mu", tuple(mu.shape), "logvar", tuple(logvar.shape),
              "-> logits", tuple(model.decode(mu).shape))
        print("forward(x) draws new noise each call:", not torch.equal(model(x5)[0], logits))
    """),
    ("""
    ## `elbo_loss(x, logits, mu, logvar)` (3 points: value 2, a differentiable 0-d tensor 1)

    The batch mean of `bernoulli_nll(x, logits) + kl_divergence(mu, logvar)`, returned as
    a 0-d tensor so that `loss.backward()` works. When it calls your two functions, the
    grader checks it with correct ones in their place.

    The experiment trains `VAE(784, 256, 2)` with your code for eight epochs on the 4,000
    shipped training digits (Adam, batches of 128, a few seconds), then shows eight test
    digits above their reconstructions, and the latent means `mu` of 1,000 test digits
    coloured by their label: digits of the same class gather in regions of the plane.
    """, "vae.elbo_loss", """
    import matplotlib.pyplot as plt

    test_images, test_labels = load_digits("test")
    with needs("kl_divergence", "reparameterize", "bernoulli_nll", "VAE", "elbo_loss"):
        vae = student()
        torch.manual_seed(0)
        model = vae.VAE(784, 256, 2)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        data = torch.from_numpy(images)
        for epoch in range(8):
            total = 0.0
            for batch in torch.randperm(len(data)).split(128):
                x = data[batch].reshape(len(batch), -1)         # the logits are flat: so is x
                loss = vae.elbo_loss(x, *model(x))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(batch)
            print(f"epoch {epoch + 1}: loss {total / len(data):.1f} per digit")

        model.eval()
        with torch.no_grad():
            x = torch.from_numpy(test_images)
            mu, _ = model.encode(x)
            reconstructed = torch.sigmoid(model.decode(mu[:8])).reshape(-1, 28, 28)
        figure, axes = plt.subplots(2, 8, figsize=(10, 2.8))
        for column in range(8):
            axes[0, column].imshow(test_images[column, 0], cmap="gray_r")
            axes[1, column].imshow(reconstructed[column], cmap="gray_r")
            axes[0, column].axis("off")
            axes[1, column].axis("off")
        figure.suptitle("test digits (top) and their reconstructions from mu (bottom)")
        plt.show()

        plt.figure(figsize=(5.5, 4.5))
        points = plt.scatter(mu[:, 0], mu[:, 1], c=test_labels, cmap="tab10", s=8)
        plt.colorbar(points, ticks=range(10), label="digit")
        plt.xlabel("mu[0]")
        plt.ylabel("mu[1]")
        plt.title("latent means of 1,000 test digits")
        plt.show()
    """),
])


NOTEBOOKS = {
    "cnn_run.ipynb": CNN,
    "vgg_run.ipynb": VGG,
    "lstm_run.ipynb": LSTM,
    "vae_run.ipynb": VAE,
}


def main() -> int:
    return write(NOTEBOOKS, HERE)


if __name__ == "__main__":
    sys.exit(main())
