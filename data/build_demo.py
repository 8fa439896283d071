"""Build ``data/demo_class/`` and ``data/demo_assignment4/``, the small classes that
``make grade`` grades by default (``data/demo_<assignment>`` when the folder exists, else
``data/demo_class``, the assignment2 class described here).

* 1001: hands in every file, correct (the reference solutions, renamed).
* 1002: one zip with typical bugs, its files inside a folder (still graded, reported).
* 1003: broken in ways a real class produces: a syntax error, a memory bomb, a
  disallowed import, a call to sys.exit(), and no task4 file at all.
* stray files that belong to nobody: a template-named file and a note.

The output is deterministic (fixed zip timestamps); ``tests/test_demo.py`` checks that the
committed folder matches what this script writes. Run it with ``make demo``.
"""
from __future__ import annotations

import io
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
OUT = REPO / "data" / "demo_class"

# (task, code appended to the reference solution: later definitions win)
PARTIAL = {
    "task1": '''
def relu(x):
    x[x < 0] = 0          # bug: changes the caller's array
    return x
''',
    "task2": '''
def train_torch(net, train_loader, num_epochs, lr):
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    for _ in range(num_epochs):
        losses = []
        for X, y in train_loader:
            loss = loss_fn(net(X), y)      # bug: gradients are never reset
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(sum(losses) / len(losses))
    return history
''',
    "task3": '''
def train_cnn(net, train_loader, test_loader, num_epochs, lr, device="cpu"):
    net.to(device)                          # bug: no Xavier initialization
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    history = {"train_loss": [], "train_acc": [], "test_acc": []}
    for _ in range(num_epochs):
        net.train()
        losses = []
        for X, y in train_loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(net(X), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history["train_loss"].append(sum(losses) / len(losses))
        for key, loader in (("train_acc", train_loader), ("test_acc", test_loader)):
            correct = 0                     # bug: evaluated in training mode
            with torch.no_grad():
                for X, y in loader:
                    correct += (net(X).argmax(1) == y).sum().item()
            history[key].append(correct / len(loader.dataset))
    return history
''',
    "task4": '''
def _forward(self, X):
    Y = torch.relu(self.bn1(self.conv1(X)))
    Y = self.bn2(self.conv2(Y))
    return Y + (self.conv3(X) if self.conv3 is not None else X)     # bug: no final ReLU
Residual.forward = _forward
''',
    "layers": '''
_reference_backward = Conv1D.backward
def _backward(self, delta):
    dx = _reference_backward(self, delta)
    self.dW = self.dW / delta.shape[0]     # bug: averaged instead of summed
    return dx
Conv1D.backward = _backward
''',
}

BROKEN = {
    "task1": "def relu(x)\n    return x\n",                                   # syntax error
    "task2": '''
def get_DNN(input_size, hidden_size, output_size):
    hoard = []
    while True:                                                   # memory bomb
        hoard.append(bytearray(50_000_000))
''',
    "task3": '''
import sys
def train_cnn(net, train_loader, test_loader, num_epochs, lr, device="cpu"):
    sys.exit("giving up")                                        # stops the program
''',
    "layers": '''
from scipy.signal import correlate                           # not allowed in this file
''',
}


def source(task: str, override: str | None) -> str:
    base = (SOLUTIONS / f"{task}.py").read_text(encoding="utf-8")
    return base if override is None else base + "\n\n" + override.strip() + "\n"


def zip_bytes(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=(2026, 4, 20, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, members[name])
    return buffer.getvalue()


def files() -> dict[str, bytes]:
    """Every file of the demo class, by name."""
    out: dict[str, bytes] = {}
    tasks = ("task1", "task2", "task3", "task4", "layers")
    for task in tasks:
        out[f"{task}_1001.py"] = source(task, None).encode()
    out["1002_assignment2.zip"] = zip_bytes({f"hw2/{task}_1002.py": source(task, PARTIAL[task]) for task in tasks})
    for task, code in BROKEN.items():
        text = code if task == "task1" else source(task, code)
        out[f"{task}_1003.py"] = text.encode()
    out["task2_template.py"] = (REPO / "templates" / "task2_template.py").read_bytes()
    out["notes.txt"] = b"Remember to rename the files before uploading!\n"
    return out


# --- assignment4: data/demo_assignment4 -------------------------------------------------------

OUT_ASSIGNMENT4 = REPO / "data" / "demo_assignment4"
TASKS_ASSIGNMENT4 = ("cnn", "vgg", "lstm", "vae")

# One classic bug per file, appended to the reference solution.
PARTIAL_ASSIGNMENT4 = {
    "cnn": '''
def receptive_field(layers):
    return 1 + sum(kernel - 1 for kernel, stride in layers)     # bug: the strides are ignored
''',
    "vgg": '''
_reference_vgg = get_vgg11
def get_vgg11(in_channels=1, num_classes=10, fc_width=4096):
    net = _reference_vgg(in_channels, num_classes, fc_width)
    return nn.Sequential(*[m for m in net if not isinstance(m, nn.Dropout)])     # bug: no dropout
''',
    "lstm": '''
def _forward(self, x, lengths):
    outputs, _ = self.lstm(x)
    return torch.log_softmax(self.out(outputs[:, -1]), dim=1)     # bug: the last step may be padding
CharLSTM.forward = _forward
''',
    "vae": '''
def kl_divergence(mu, logvar):
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).mean(dim=1)     # bug: averaged over the latents
''',
}

BROKEN_ASSIGNMENT4 = {
    "cnn": "def same_padding(kernel)\n    return kernel // 2\n",                   # syntax error
    "vgg": "\nfrom torchvision.models import vgg11                             # not allowed in this file\n",
    "lstm": '''
import sys
def train_lstm(net, batches, lr):
    sys.exit("out of time")                                      # stops the program
''',
}


def files_assignment4() -> dict[str, bytes]:
    """Every file of the assignment4 demo class, by name.

    * 2001: every file, correct (60 points); 2002: one zip, a folder inside, one bug per
      file; 2003: the untouched templates, renamed (0 points); 2004: a syntax error, a
      disallowed import, a call to sys.exit() and no vae file; and two stray files.
    """
    out: dict[str, bytes] = {}
    for task in TASKS_ASSIGNMENT4:
        out[f"{task}_2001.py"] = source(task, None).encode()
        out[f"{task}_2003.py"] = (REPO / "templates" / f"{task}_template.py").read_bytes()
    out["2002_assignment4.zip"] = zip_bytes({f"hw4/{task}_2002.py": source(task, PARTIAL_ASSIGNMENT4[task])
                                             for task in TASKS_ASSIGNMENT4})
    for task, code in BROKEN_ASSIGNMENT4.items():
        text = code if task == "cnn" else source(task, code)
        out[f"{task}_2004.py"] = text.encode()
    out["vae_template.py"] = (REPO / "templates" / "vae_template.py").read_bytes()
    out["notes.txt"] = b"Remember to rename the files before uploading!\n"
    return out


FOLDERS = {OUT: files, OUT_ASSIGNMENT4: files_assignment4}


def main() -> int:
    for folder, make in FOLDERS.items():
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        written = make()
        for name, data in written.items():
            (folder / name).write_bytes(data)
        print(f"wrote {len(written)} files to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
