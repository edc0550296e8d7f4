"""Recurrent layers: the RNN cell, and the loop over time steps that runs any cell.

    unit = RNNUnit(input_size, hidden_size)          # one step: h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
    h = unit(x)                                       # x (B, input_size) -> h (B, hidden_size)
    rnn = RNN(input_size, hidden_size)                # TimeIterator(RNNUnit, ...)
    output, h_last = rnn(pack_sequence([x1, x2]))     # a PackedSequence in, a PackedSequence out
"""
import numpy as np

from mytorch.nn.activations import ReLU, Tanh
from mytorch.nn.module import Module, check_input
from mytorch.nn.util import PackedSequence, _check_packed
import mytorch.nn.functional as F
from mytorch.tensor import Tensor, cat

__all__ = ["RNNUnit", "TimeIterator", "RNN"]

NONLINEARITIES = {"tanh": Tanh, "relu": ReLU}


class RNNUnit(Module):
    """One step of an Elman RNN, as torch.nn.RNNCell:

        h' = act(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)

    with act tanh (the default) or relu.  Parameters: weight_ih (H, input_size),
    weight_hh (H, H), bias_ih (H,), bias_hh (H,), the weights drawn from N(0, 1)
    and the biases zero (the course's convention).  ``unit(x, h=None)`` takes x
    (B, input_size) and h (B, H) and returns h' (B, H); a missing h means zeros.
    Forward reads the parameters on every call, so ``unit.weight_ih.data = array``
    takes effect at once.
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        if nonlinearity not in NONLINEARITIES:
            raise ValueError("{}: unknown nonlinearity {!r}: use 'tanh' or 'relu'"
                             .format(type(self).__name__, nonlinearity))
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.nonlinearity = nonlinearity
        self.weight_ih = _parameter(np.random.randn(hidden_size, input_size))
        self.weight_hh = _parameter(np.random.randn(hidden_size, hidden_size))
        self.bias_ih = _parameter(np.zeros(hidden_size))
        self.bias_hh = _parameter(np.zeros(hidden_size))
        self.act = NONLINEARITIES[nonlinearity]()

    def __repr__(self):
        return "RNNUnit({}, {}, nonlinearity={!r})".format(self.input_size, self.hidden_size,
                                                          self.nonlinearity)

    def forward(self, x, h=None):
        h = initial_hidden(self, x, h)
        return self.act(F.Linear.apply(x, self.weight_ih, self.bias_ih)
                        + F.Linear.apply(h, self.weight_hh, self.bias_hh))


class TimeIterator(Module):
    """Runs a cell over every time step of a PackedSequence.

    ``TimeIterator(basic_unit, input_size, hidden_size, nonlinearity='tanh')``
    builds ``self.unit = basic_unit(input_size, hidden_size, nonlinearity)``
    (RNNUnit or GRUUnit).  ``forward(input, hidden=None)`` takes a PackedSequence
    whose data is (sum of lengths, input_size) and returns ``(output, h_last)``:

    - output: a PackedSequence of the hidden states, data (sum of lengths, H),
      with the input's sorted_indices and batch_sizes;
    - h_last: a Tensor (B, H) of each sequence's last hidden state, in sorted
      order: row i belongs to sequence ``sorted_indices[i]`` (PyTorch's h_n is in
      the input's order instead).

    ``hidden`` (B, H), when given, is the initial hidden state in the same sorted
    order; without it the cell starts from zeros.  At step t the cell runs on the
    first ``batch_sizes[t]`` sequences, the ones that are still running.
    """

    def __init__(self, basic_unit, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__()
        self.unit = basic_unit(input_size, hidden_size, nonlinearity)

    def __repr__(self):
        return "{}({!r})".format(type(self).__name__, self.unit)

    def forward(self, input, hidden=None):
        data, sorted_indices, batch_sizes = _check_packed(type(self).__name__, input)
        if hidden is not None:
            _check_hidden(self, hidden, int(batch_sizes[0]),
                          getattr(self.unit, "hidden_size", None))
        h, outputs, start = hidden, [], 0
        for size in batch_sizes.tolist():
            if h is not None and h.shape[0] > size:
                h = h[:size]                       # the shortest sequences have ended
            h = self.unit(data[start:start + size], h)
            outputs.append(h)
            start += size
        output = cat(outputs) if len(outputs) > 1 else outputs[0]
        return PackedSequence(output, sorted_indices, batch_sizes), \
            output[last_rows(batch_sizes)]


def last_rows(batch_sizes):
    """The rows of packed data that hold each sequence's last step, in sorted order.

    The i-th longest sequence has ``sum(batch_sizes > i)`` steps, and its step t is
    row ``sum(batch_sizes[:t]) + i``.

    >>> last_rows(np.array([3, 2, 1])).tolist()       # lengths 3, 2, 1
    [5, 4, 2]
    """
    batch_sizes = np.asarray(batch_sizes)
    ranks = np.arange(batch_sizes[0])
    lengths = (batch_sizes[None, :] > ranks[:, None]).sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    return starts[lengths - 1] + ranks


class RNN(TimeIterator):
    """An Elman RNN layer: a TimeIterator over an RNNUnit (see both)."""

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__(RNNUnit, input_size, hidden_size, nonlinearity)


def initial_hidden(unit, x, h):
    """Check a cell's input x (B, input_size) and hidden state h (B, H); zeros for a missing h."""
    check_input(unit, x, unit.input_size)
    if h is None:
        return Tensor(np.zeros((x.shape[0], unit.hidden_size)))
    _check_hidden(unit, h, x.shape[0], unit.hidden_size)
    return h


def _check_hidden(layer, h, batch, hidden_size):
    """Raise a clear error unless h is a Tensor (batch, hidden_size) (any width if None)."""
    shape = getattr(h, "shape", None)
    if isinstance(h, Tensor) and len(shape) == 2 and shape[0] == batch \
            and hidden_size in (None, shape[1]):
        return
    raise ValueError("{}: the hidden state must be a Tensor of shape (batch, hidden_size) = "
                     "({}, {}), got {}".format(type(layer).__name__, batch,
                                               "H" if hidden_size is None else hidden_size,
                                               shape if isinstance(h, Tensor)
                                               else "a " + type(h).__name__))


def _parameter(array):
    return Tensor(array, requires_grad=True, is_parameter=True)


def _check_sizes(layer, input_size, hidden_size):
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError("{}: {} must be a positive integer, got {!r}"
                             .format(layer, name, value))
