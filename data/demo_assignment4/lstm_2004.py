"""Assignment 4, lstm: a character-level LSTM that classifies short texts (15 points).

A text is read one character at a time. Each character becomes a one-hot vector of
length 128 (its ASCII code), the LSTM runs over the sequence, and a linear layer maps
the hidden state after the text's last character to class scores, turned into
log-probabilities.

Texts in a batch have different lengths, so a batch is a zero-padded tensor
``x`` of shape (N, T, 128), T being the longest length, together with ``lengths`` (N,),
the true length of each text. The padding rows are all zeros; they must not change the
answer for any text.

Graded names and points:
    one_hot_ascii  3
    CharLSTM       6
    train_lstm     6

Rules (the grader enforces them):
* Keep every graded name, and its parameters in their order with their
  defaults. The grader passes parameters without a default by position and the others by
  name, so adding a parameter that has a default is fine (your feedback notes it), while
  a missing or renamed name, a removed or reordered parameter, a renamed parameter
  that has a default, or a changed default earns 0 for that name.
* Import only torch, NumPy and the Python standard library. Any other import earns 0 for
  every name of this file.
* Replace each ``raise NotImplementedError(...)`` with your code. Keep the
  ``super().__init__()`` call at the start of ``CharLSTM.__init__``.
"""
import torch
from torch import nn


def one_hot_ascii(text):
    """Encode ``text`` as one-hot rows, one per ASCII character.

    Args:
        text: a Python string.

    Returns:
        A float tensor (``torch.float32``) of shape (L, 128), L being the number of ASCII
        characters of ``text`` (code below 128): row i has a single 1.0, in the column of
        the i-th such character's code. Other characters (accented letters, emoji, ...)
        are left out, so an all-ASCII text gives ``len(text)`` rows.
    """
    # BEGIN SOLUTION
    codes = [ord(c) for c in text if ord(c) < 128]
    x = torch.zeros(len(codes), 128)
    x[torch.arange(len(codes)), torch.tensor(codes, dtype=torch.long)] = 1.0
    return x
    # END SOLUTION


class CharLSTM(nn.Module):
    """An LSTM over one-hot characters, then a linear layer on the last hidden state."""

    def __init__(self, hidden_size=128, num_classes=2):
        """Create the two layers.

        * ``nn.LSTM(128, hidden_size, batch_first=True)``: one layer, one direction.
        * ``nn.Linear(hidden_size, num_classes)``.

        Keep PyTorch's defaults for everything else (both layers have biases).
        """
        super().__init__()
        # BEGIN SOLUTION
        self.lstm = nn.LSTM(128, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, num_classes)
        # END SOLUTION

    def forward(self, x, lengths):
        """Classify a padded batch.

        Args:
            x: float tensor (N, T, 128), zero-padded after each text's end.
            lengths: int64 tensor (N,), each text's length (between 1 and T), in any
                order (not necessarily sorted).

        Returns:
            Log-probabilities of shape (N, num_classes): the linear layer applied to the
            hidden state right after each text's own last character, then
            ``torch.log_softmax`` over the classes.

        Pitfalls: the LSTM's output at the last time step T belongs to the padding for
        every text shorter than T. Either pick, for text i, the output at step
        ``lengths[i] - 1``, or let ``nn.utils.rnn.pack_padded_sequence`` (with
        ``enforce_sorted=False``) skip the padding.
        """
        # BEGIN SOLUTION
        outputs, _ = self.lstm(x)                                       # (N, T, hidden)
        last = (lengths.to(torch.long) - 1).to(outputs.device)
        final = outputs[torch.arange(len(last), device=outputs.device), last]   # (N, hidden)
        return torch.log_softmax(self.out(final), dim=1)
        # END SOLUTION


def train_lstm(net, batches, lr):
    """Train ``net`` with Adam on the negative log-likelihood, one step per batch.

    Args:
        net: a module called as ``net(x, lengths)`` that returns log-probabilities
            (N, num_classes), e.g. a ``CharLSTM``.
        batches: an iterable of ``(x, lengths, y)`` triples: a padded batch, its
            lengths, and int64 class labels (N,).
        lr: Adam's learning rate (keep Adam's other settings at their defaults).

    Returns:
        A list of Python floats, the loss of each batch in order (the loss of the
        forward pass that the step was computed from).

    Steps: create ``torch.optim.Adam(net.parameters(), lr=lr)`` once; put ``net`` in
    training mode; for each batch, reset the gradients, compute the mean negative
    log-likelihood of the true classes (``nn.NLLLoss()``: the network already returns
    log-probabilities), backpropagate and step.
    """
    # BEGIN SOLUTION
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.NLLLoss()
    net.train()
    losses = []
    for x, lengths, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(net(x, lengths), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
    # END SOLUTION


import sys
def train_lstm(net, batches, lr):
    sys.exit("out of time")                                      # stops the program
