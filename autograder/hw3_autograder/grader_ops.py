"""The grader's own indexing, cat, unsqueeze, packing and RNN unit, and the swap that uses them.

So that a test runs only its own problem's code (spec.py), every HW3 test but the 1.2
ones runs inside ``grader_tensor_ops()``: for the block, ``Tensor.__getitem__``,
``Tensor.unsqueeze`` and ``cat`` are the grader's, wherever the student's modules reach
them (``mytorch.tensor.cat`` and every ``cat`` a module imported from it, such as
``mytorch.nn.util``'s and ``mytorch.nn.rnn``'s), and with ``packing=True`` so are
``pack_sequence`` and ``unpack_sequence``.  Replacing ``F.Slice`` and ``F.Cat`` would not
be enough: the student's ``__getitem__`` and ``cat`` might call other Functions, or
compute on ``.data``.  Everything is put back when the block ends.

All of them rest on two grader-owned Functions, which follow the handout's conventions
so that any engine written to the handout runs them (autograder/probes.py): Tensor
arguments only (an index or a dim is a constant Tensor) and the output flagged in
forward.

- ``Take.apply(x, positions)``: x's elements at flat ``positions`` (an int Tensor of
  any shape); backward adds each gradient back where it was read.  Any NumPy index key
  becomes positions (``np.arange(x.size).reshape(x.shape)[key]``), and so does
  unsqueeze (the positions with a new axis).
- ``Join.apply(*tensors, dim)``: concatenation.

``GraderRNNUnit`` is the RNN cell the time iterator's tests hand to the student's
TimeIterator: one grader-owned Function per step, and a message that names the shapes
when the loop gives it the wrong rows.
"""
import contextlib
import sys

import numpy as np

from autograder.helpers import check
from autograder.probes import constant, flagged
from mytorch.autograd_engine import Function
from mytorch.nn.module import Module
from mytorch.tensor import Tensor


# --------------------------------------------------------------------------- #
# Two Functions
# --------------------------------------------------------------------------- #
class Take(Function):
    """x's elements at the flat ``positions`` (a constant int Tensor): the output has
    positions' shape.  Backward adds each output gradient back where it was read."""

    @staticmethod
    def forward(ctx, x, positions):
        ctx.shape, ctx.positions = x.shape, np.asarray(positions.data)
        return flagged(np.asarray(x.data).reshape(-1)[ctx.positions], x)

    @staticmethod
    def backward(ctx, grad_output):
        grad = np.zeros(int(np.prod(ctx.shape)))
        np.add.at(grad, ctx.positions.reshape(-1), np.asarray(grad_output.data).reshape(-1))
        return Tensor(grad.reshape(ctx.shape)), None


class Join(Function):
    """``Join.apply(*tensors, dim)``: the tensors concatenated along ``dim`` (a constant
    Tensor holding one int).  Backward cuts the gradient where they were joined."""

    @staticmethod
    def forward(ctx, *args):
        *tensors, dim = args
        ctx.axis = int(np.asarray(dim.data)) % np.ndim(tensors[0].data)
        ctx.ends = np.cumsum([t.shape[ctx.axis] for t in tensors])[:-1]
        return flagged(np.concatenate([np.asarray(t.data) for t in tensors], axis=ctx.axis),
                       *tensors)

    @staticmethod
    def backward(ctx, grad_output):
        pieces = np.split(np.asarray(grad_output.data), ctx.ends, axis=ctx.axis)
        return tuple(Tensor(piece) for piece in pieces) + (None,)


# --------------------------------------------------------------------------- #
# The grader's tensor operations
# --------------------------------------------------------------------------- #
def _plain(key):
    """``key`` with each Tensor in it (alone or in a tuple) replaced by its array."""
    if type(key) is tuple:
        return tuple(np.asarray(p.data) if isinstance(p, Tensor) else p for p in key)
    return np.asarray(key.data) if isinstance(key, Tensor) else key


def getitem(x, key):
    """``x[key]``, NumPy's indexing, as one Take (IndexError out of range, as NumPy's)."""
    positions = np.arange(np.size(x.data)).reshape(x.shape)[_plain(key)]
    return Take.apply(x, Tensor(np.asarray(positions)))


def unsqueeze(x, dim=0):
    """``x.unsqueeze(dim)`` as one Take."""
    positions = np.expand_dims(np.arange(np.size(x.data)).reshape(x.shape), dim)
    return Take.apply(x, Tensor(positions))


def cat(seq, dim=0):
    """``cat(seq, dim)`` as one Join."""
    return Join.apply(*seq, constant(dim))


def pack_sequence(sequence):
    """The grader's pack_sequence: PyTorch's layout (a stable sort by decreasing length),
    from one Join and one Take."""
    from mytorch.nn.util import PackedSequence
    lengths = np.array([t.shape[0] for t in sequence])
    sorted_indices = np.argsort(-lengths, kind="stable")
    batch_sizes = (lengths[:, None] > np.arange(lengths.max())).sum(axis=0)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = np.concatenate([starts[sorted_indices[:size]] + t
                           for t, size in enumerate(batch_sizes)])
    return PackedSequence(getitem(cat(list(sequence), 0), rows), sorted_indices, batch_sizes)


def unpack_sequence(ps):
    """The grader's unpack_sequence: the sequences in their input order, one Take each."""
    data, sorted_indices, batch_sizes = ps
    sorted_indices, batch_sizes = np.asarray(sorted_indices), np.asarray(batch_sizes)
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    sequences = [None] * len(sorted_indices)
    for rank, index in enumerate(sorted_indices):
        steps = int(np.sum(batch_sizes > rank))
        sequences[index] = getitem(data, offsets[:steps] + rank)
    return sequences


@contextlib.contextmanager
def grader_tensor_ops(packing=False):
    """For the block, the grader's indexing, ``cat`` and ``unsqueeze`` replace the
    student's everywhere the student's modules reach them (with ``packing``, its
    ``pack_sequence`` and ``unpack_sequence`` too); everything is restored after."""
    import mytorch.tensor
    import mytorch.nn.util
    ours = {"cat": cat}
    theirs = {"cat": getattr(mytorch.tensor, "cat", None)}
    if packing:
        for name, function in (("pack_sequence", pack_sequence),
                               ("unpack_sequence", unpack_sequence)):
            ours[name], theirs[name] = function, getattr(mytorch.nn.util, name, None)
    swaps = [(Tensor, "__getitem__", lambda self, key: getitem(self, key)),
             (Tensor, "unsqueeze", lambda self, dim=0: unsqueeze(self, dim)),
             (mytorch.tensor, "cat", cat)]
    if packing:
        swaps += [(mytorch.nn.util, name, ours[name])
                  for name in ("pack_sequence", "unpack_sequence")]
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "mytorch" or name.startswith("mytorch.")):
            continue
        for attr, original in theirs.items():
            if original is not None and vars(module).get(attr) is original \
                    and (module, attr) not in [(m, a) for m, a, _ in swaps]:
                swaps.append((module, attr, ours[attr]))
    missing = object()
    saved = [(owner, attr, vars(owner).get(attr, missing)) for owner, attr, _ in swaps]
    try:
        for owner, attr, replacement in swaps:
            setattr(owner, attr, replacement)
        yield
    finally:
        for owner, attr, original in reversed(saved):
            if original is missing:
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


# --------------------------------------------------------------------------- #
# The grader's RNN unit
# --------------------------------------------------------------------------- #
def _cell_forward(ctx, relu, x, h, w_ih, w_hh, b_ih, b_hh):
    X, Hd = np.asarray(x.data), np.asarray(h.data)
    a = X @ w_ih.data.T + b_ih.data + Hd @ w_hh.data.T + b_hh.data
    out = np.maximum(a, 0.0) if relu else np.tanh(a)
    ctx.X, ctx.H, ctx.w_ih, ctx.w_hh = X, Hd, np.asarray(w_ih.data), np.asarray(w_hh.data)
    ctx.slope = (a > 0).astype(np.float64) if relu else 1.0 - out * out
    return flagged(out, x, h, w_ih, w_hh, b_ih, b_hh)


def _cell_backward(ctx, grad_output):
    da = np.asarray(grad_output.data) * ctx.slope
    return (Tensor(da @ ctx.w_ih), Tensor(da @ ctx.w_hh), Tensor(da.T @ ctx.X),
            Tensor(da.T @ ctx.H), Tensor(da.sum(axis=0)), Tensor(da.sum(axis=0)))


class TanhCell(Function):
    """h' = tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh) in one node (torch.nn.RNNCell)."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        return _cell_forward(ctx, False, x, h, w_ih, w_hh, b_ih, b_hh)

    @staticmethod
    def backward(ctx, grad_output):
        return _cell_backward(ctx, grad_output)


class ReluCell(Function):
    """h' = relu(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh) in one node."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        return _cell_forward(ctx, True, x, h, w_ih, w_hh, b_ih, b_hh)

    @staticmethod
    def backward(ctx, grad_output):
        return _cell_backward(ctx, grad_output)


def _parameter(shape):
    return Tensor(np.zeros(shape), requires_grad=True, is_parameter=True)


class GraderRNNUnit(Module):
    """The grader's RNN cell, built by the student's TimeIterator as
    ``basic_unit(input_size, hidden_size, nonlinearity)``; the test sets its parameters.
    ``unit(x, h=None)``: x (B, input_size) and h (B, H), zeros when h is None."""

    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__()
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.nonlinearity = nonlinearity
        self.weight_ih = _parameter((hidden_size, input_size))
        self.weight_hh = _parameter((hidden_size, hidden_size))
        self.bias_ih = _parameter((hidden_size,))
        self.bias_hh = _parameter((hidden_size,))
        self.calls = []            # the batch size of each call, for the tests' messages

    def forward(self, x, h=None):
        check(isinstance(x, Tensor) and x.data.ndim == 2 and x.shape[1] == self.input_size,
              "TimeIterator called its unit with x = {}: a step's input is the rows of data for "
              "that step, a Tensor of shape (batch_sizes[t], input_size = {})".format(
                  _what(x), self.input_size))
        if h is None:
            h = Tensor(np.zeros((x.shape[0], self.hidden_size)))
        check(isinstance(h, Tensor) and h.data.ndim == 2
              and h.shape == (x.shape[0], self.hidden_size),
              "TimeIterator called its unit with x of shape {} and h = {}: at step t the hidden "
              "state is that of the batch_sizes[t] sequences still running, of shape ({}, "
              "hidden_size = {}) (the first rows of the previous step's state)".format(
                  x.shape, _what(h), x.shape[0], self.hidden_size))
        self.calls.append(x.shape[0])
        cell = ReluCell if self.nonlinearity == "relu" else TanhCell
        return cell.apply(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)


def _what(value):
    if isinstance(value, Tensor):
        return "a Tensor of shape {}".format(value.shape)
    return "a {}".format(type(value).__name__)
