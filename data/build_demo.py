"""Build ``data/demo_class/``, the small class that ``make grade`` grades by default.

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


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    for name, data in files().items():
        (OUT / name).write_bytes(data)
    print(f"wrote {len(files())} files to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
