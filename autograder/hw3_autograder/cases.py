"""The cases behind ./grade.sh 3's expected values (autograder/make_fixtures.py runs them).

Every value is PyTorch's, in float64: torch.cat, indexing, unsqueeze, pack_sequence and
unpack_sequence (enforce_sorted=False), RNNCell, nn.RNN, GRUCell and nn.GRU.  The grader
sets every parameter itself (as course code does, ``unit.weight_ih.data = array``), so
the values do not depend on how a unit initialises: weights and biases are drawn here,
biases non-zero so that a missing or misplaced bias shows.

Files: tensor_ops.npz (1.2: cat, slices, unsqueeze), rnn_unit.npz (1.1), packing.npz
(1.3), time_iterator.npz (1.4), gru.npz (2.1 and 2.2).  A case's keys: the inputs, the
outputs, ``R`` (the probe loss sum(y * R) backpropagated from y) and ``grad.<name>``.
The recurrent cases keep their parameters under MyTorch's names (``weight_ih``,
``weight_ir``, ...); PyTorch's stacked GRU weights are split in its order r, z, n.
Batches hold at most 16 sequences: torch.sort, behind pack_sequence, is stable only up
to 16, and MyTorch's order for ties is the stable one.
"""
import numpy as np
import torch
from torch.nn.utils import rnn as torch_rnn

from autograder.hw3_autograder.keys import SLICES
from autograder.make_fixtures import Recorder, as_torch

RNN_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
GRU_PARAMETERS = ("weight_ir", "weight_iz", "weight_in", "weight_hr", "weight_hz", "weight_hn",
                  "bias_ir", "bias_iz", "bias_in", "bias_hr", "bias_hz", "bias_hn")

# --------------------------------------------------------------------------- #
# 1.2 Tensor operations
# --------------------------------------------------------------------------- #
# (the shapes joined, dim): 1 to 4 dimensions, negative dims, one tensor alone
CATS = [
    ([(3,), (2,), (1,)], 0),
    ([(2, 3), (1, 3)], 0),
    ([(2, 3), (2, 5)], -1),
    ([(2, 3), (2, 1), (2, 4)], 1),
    ([(4, 2)], 0),
    ([(2, 3, 4), (2, 1, 4)], -2),
    ([(2, 3, 1), (2, 3, 2), (2, 3, 3)], 2),
    ([(1, 2, 3, 2), (3, 2, 3, 2)], 0),
    ([(2, 2, 3, 1), (2, 2, 3, 4)], -1),
    ([(2, 1, 3, 2), (2, 4, 3, 2), (2, 2, 3, 2)], -3),
]
UNSQUEEZE_SHAPES = [(), (3,), (2, 3), (2, 3, 4)]


def _backward(out, rng, rec):
    """Backpropagate the probe loss sum(out * R) and record R."""
    upstream = rng.normal(size=tuple(out.shape))
    rec["R"] = upstream
    (out * as_torch(upstream)).sum().backward()


def cat_cases(store):
    """torch.cat of the CATS layouts, forward and backward."""
    rng = np.random.default_rng(301)
    for index, (shapes, dim) in enumerate(CATS):
        rec = Recorder(store, "cat{}".format(index))
        arrays = [rng.normal(size=shape) for shape in shapes]
        inputs = [as_torch(a, True) for a in arrays]
        out = torch.cat(inputs, dim=dim)
        _backward(out, rng, rec)
        rec["n"], rec["dim"], rec["out"] = len(arrays), dim, out
        for i, (array, tensor) in enumerate(zip(arrays, inputs)):
            rec["in{}".format(i)], rec["grad.in{}".format(i)] = array, tensor.grad


def torch_index(x, key):
    """``x[key]`` in PyTorch, which has no negative steps: a key with one is read axis by
    axis (an int selects, a slice picks its rows with index_select)."""
    parts = key if type(key) is tuple else (key,)
    if not any(isinstance(p, slice) and (p.step or 1) < 0 for p in parts):
        if type(key) is tuple:
            return x[tuple(torch.tensor(p) if isinstance(p, np.ndarray) else p for p in key)]
        return x[torch.tensor(key) if isinstance(key, np.ndarray) else key]
    axis = 0
    for part in parts:
        if part is None:
            x = x.unsqueeze(axis)
            axis += 1
        elif isinstance(part, int):
            x = x.select(axis, part)
        else:
            rows = np.arange(x.shape[axis])[part].copy()
            x = x.index_select(axis, torch.tensor(rows))
            axis += 1
    return x


def slice_cases(store):
    """PyTorch's x[key] for every key of keys.SLICES, forward and backward."""
    rng = np.random.default_rng(302)
    for index, (shape, key, _) in enumerate(SLICES):
        rec = Recorder(store, "slice{}".format(index))
        x_np = rng.normal(size=shape)
        x = as_torch(x_np, True)
        out = torch_index(x, key)
        _backward(out, rng, rec)
        rec["x"], rec["out"], rec["grad.x"] = x_np, out, x.grad


def unsqueeze_cases(store):
    """x.unsqueeze(dim) for every valid dim of 0- to 3-dimensional x."""
    rng = np.random.default_rng(303)
    index = 0
    for shape in UNSQUEEZE_SHAPES:
        for dim in range(-len(shape) - 1, len(shape) + 1):
            rec = Recorder(store, "unsqueeze{}".format(index))
            x_np = rng.normal(size=shape)
            x = as_torch(x_np, True)
            out = x.unsqueeze(dim)
            _backward(out, rng, rec)
            rec["x"], rec["dim"], rec["out"], rec["grad.x"] = x_np, dim, out, x.grad
            index += 1


# --------------------------------------------------------------------------- #
# 1.1 and 2.1: one step of a cell
# --------------------------------------------------------------------------- #
# (input_size, hidden_size, batch, nonlinearity, h given): sizes 1 to 5; the last two
# share their sizes, so a test can set new weights between two calls of one unit
RNN_UNITS = [
    (2, 5, 3, "tanh", True), (1, 1, 1, "tanh", True), (5, 2, 4, "relu", True),
    (3, 3, 6, "tanh", False), (4, 1, 2, "relu", False), (1, 4, 5, "relu", True),
    (5, 5, 2, "tanh", True), (3, 4, 3, "tanh", True), (3, 4, 3, "tanh", True),
]
GRU_UNITS = [
    (2, 5, 3, None, True), (1, 1, 1, None, True), (5, 2, 4, None, True),
    (3, 3, 6, None, False), (4, 1, 2, None, True), (1, 4, 5, None, True),
    (5, 5, 2, None, True), (3, 4, 3, None, True), (3, 4, 3, None, True),
]


def draw_parameters(rng, names, input_size, hidden_size, scale=0.5):
    """{name: array}: weights (H, input_size) for the input's, (H, H) for the hidden
    state's, biases (H,); every value from N(0, scale**2)."""
    shapes = {"i": (hidden_size, input_size), "h": (hidden_size, hidden_size)}
    params = {}
    for name in names:
        kind, _, which = name.partition("_")
        shape = (hidden_size,) if kind == "bias" else shapes[which[0]]
        params[name] = rng.normal(size=shape) * scale
    return params


def _stacked(params, kind, side):
    """PyTorch's stacked GRU parameter (r, z, n) from MyTorch's twelve."""
    return np.concatenate([params["{}_{}{}".format(kind, side, gate)] for gate in "rzn"])


def _load(module, params, gru, suffix=""):
    """Copy MyTorch-named parameters into a torch RNNCell/GRUCell (or nn.RNN/nn.GRU with
    suffix "_l0")."""
    with torch.no_grad():
        for kind in ("weight", "bias"):
            for side in ("ih", "hh"):
                value = _stacked(params, kind, side[0]) if gru else params[kind + "_" + side]
                getattr(module, "{}_{}{}".format(kind, side, suffix)).copy_(as_torch(value))


def _split_grads(module, gru, suffix=""):
    """The gradients of a torch cell's parameters under MyTorch's names."""
    grads = {}
    for kind in ("weight", "bias"):
        for side in ("ih", "hh"):
            grad = getattr(module, "{}_{}{}".format(kind, side, suffix)).grad.numpy()
            if gru:
                for gate, piece in zip("rzn", np.split(grad, 3)):
                    grads["{}_{}{}".format(kind, side[0], gate)] = piece
            else:
                grads[kind + "_" + side] = grad
    return grads


def unit_cases(store, prefix, seed, table, gru):
    """One step of RNNCell or GRUCell per entry of ``table``, forward and backward."""
    rng = np.random.default_rng(seed)
    for index, (inputs, hidden, batch, nonlinearity, with_h) in enumerate(table):
        rec = Recorder(store, "{}{}".format(prefix, index))
        params = draw_parameters(rng, GRU_PARAMETERS if gru else RNN_PARAMETERS, inputs, hidden)
        cell = (torch.nn.GRUCell(inputs, hidden) if gru
                else torch.nn.RNNCell(inputs, hidden, nonlinearity=nonlinearity)).double()
        _load(cell, params, gru)
        x_np = rng.normal(size=(batch, inputs))
        h_np = rng.normal(size=(batch, hidden)) if with_h else np.zeros((batch, hidden))
        x, h = as_torch(x_np, True), as_torch(h_np, True)
        out = cell(x, h if with_h else None)
        _backward(out, rng, rec)
        rec["x"], rec["out"], rec["grad.x"] = x_np, out, x.grad
        if with_h:
            rec["h"], rec["grad.h"] = h_np, h.grad
        if not gru:
            rec["nonlinearity"] = nonlinearity
        for name, value in params.items():
            rec["param." + name] = value
        for name, value in _split_grads(cell, gru).items():
            rec["grad." + name] = value


def rnn_unit_cases(store):
    unit_cases(store, "unit", 311, RNN_UNITS, gru=False)


def gru_unit_cases(store):
    unit_cases(store, "unit", 321, GRU_UNITS, gru=True)


# --------------------------------------------------------------------------- #
# 1.3 Packed sequences
# --------------------------------------------------------------------------- #
# (lengths, one step's shape): lengths 1 to 10, ties, one sequence, 16 sequences
PACKS = [
    ([3, 5, 1, 3], (2,)),                           # the sheet's figure
    ([4], (3,)),                                    # a single sequence
    ([2, 2, 2], (1,)),                              # equal lengths
    ([1, 10, 7, 10, 1, 4], (5,)),
    ([6, 2, 9, 2, 6, 2, 8, 3, 6, 1, 5, 6, 2, 7, 10, 4], (2,)),
    ([5, 3, 5], ()),                                # steps that are numbers: (T_i,)
    ([2, 4, 1, 4], (2, 3)),                         # steps of shape (2, 3)
    ([1, 1], (4,)),                                 # one step each
]


def packing_cases(store):
    """pack_sequence of every PACKS batch, and unpack_sequence back, forward and backward."""
    rng = np.random.default_rng(331)
    for index, (lengths, step) in enumerate(PACKS):
        rec = Recorder(store, "pack{}".format(index))
        arrays = [rng.normal(size=(n,) + step) for n in lengths]
        seqs = [as_torch(a, True) for a in arrays]
        packed = torch_rnn.pack_sequence(seqs, enforce_sorted=False)
        rec["n"] = len(arrays)
        for i, array in enumerate(arrays):
            rec["seq{}".format(i)] = array
        rec["data"], rec["sorted_indices"] = packed.data, packed.sorted_indices
        rec["batch_sizes"] = packed.batch_sizes
        _backward(packed.data, rng, rec)
        for i, seq in enumerate(seqs):
            rec["grad.seq{}".format(i)] = seq.grad
        # unpacking: from the packed data as a leaf, back to the list in input order
        data = packed.data.detach().requires_grad_()
        unpacked = torch_rnn.unpack_sequence(torch_rnn.PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices))
        total = 0
        for i, (seq, array) in enumerate(zip(unpacked, arrays)):
            assert np.array_equal(seq.detach().numpy(), array)
            upstream = rng.normal(size=array.shape)
            rec["unpack.R{}".format(i)] = upstream
            total = total + (seq * as_torch(upstream)).sum()
        total.backward()
        rec["unpack.grad.data"] = data.grad


# --------------------------------------------------------------------------- #
# 1.4 and 2.2: a cell over a packed batch
# --------------------------------------------------------------------------- #
# (lengths, input_size, hidden_size, nonlinearity, initial hidden state given)
RNNS = [
    ([3, 5, 1, 3], 2, 3, "tanh", False),
    ([4], 1, 1, "tanh", True),                       # a single sequence
    ([2, 2, 2], 3, 2, "relu", True),                 # equal lengths
    ([1, 10, 7, 10, 1, 4], 5, 4, "tanh", True),
    ([6, 2, 9, 2, 6, 2, 8, 3], 4, 5, "relu", False),
    ([1, 1], 2, 2, "tanh", True),                    # one step
    ([2, 7, 3, 7, 5, 1, 6, 4, 2, 8, 3, 9, 10, 2, 6, 4], 3, 2, "tanh", True),   # 16 sequences
]
GRUS = [
    ([3, 5, 1, 3], 2, 3, None, False),
    ([4], 1, 1, None, True),
    ([2, 2, 2], 3, 2, None, True),
    ([1, 10, 7, 10, 1, 4], 5, 4, None, True),
    ([6, 2, 9, 2, 6, 2, 8, 3], 4, 5, None, False),
]


def layer_cases(store, seed, table, gru):
    """nn.RNN or nn.GRU over every batch of ``table``, forward and backward; the
    hidden state and h_last in sorted order, as MyTorch keeps them."""
    rng = np.random.default_rng(seed)
    for index, (lengths, inputs, hidden, nonlinearity, with_hidden) in enumerate(table):
        rec = Recorder(store, "layer{}".format(index))
        params = draw_parameters(rng, GRU_PARAMETERS if gru else RNN_PARAMETERS, inputs, hidden)
        layer = (torch.nn.GRU(inputs, hidden) if gru
                 else torch.nn.RNN(inputs, hidden, nonlinearity=nonlinearity)).double()
        _load(layer, params, gru, suffix="_l0")
        arrays = [rng.normal(size=(n, inputs)) for n in lengths]
        packed = torch_rnn.pack_sequence([as_torch(a) for a in arrays], enforce_sorted=False)
        data = packed.data.detach().requires_grad_()
        batch = len(lengths)
        # MyTorch's hidden state and h_last are in sorted order; torch's in the input's
        hidden_sorted = as_torch(rng.normal(size=(batch, hidden)), True)
        h0 = hidden_sorted[packed.unsorted_indices].unsqueeze(0) if with_hidden else None
        output, h_n = layer(torch_rnn.PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices), h0)
        h_last = h_n[0][packed.sorted_indices]
        rec["n"] = batch
        for i, array in enumerate(arrays):
            rec["seq{}".format(i)] = array
        rec["data"], rec["sorted_indices"] = packed.data, packed.sorted_indices
        rec["batch_sizes"] = packed.batch_sizes
        if with_hidden:
            rec["hidden"] = hidden_sorted
        if not gru:
            rec["nonlinearity"] = nonlinearity
        for name, value in params.items():
            rec["param." + name] = value
        rec["output"], rec["h_last"] = output.data, h_last
        upstream_output = rng.normal(size=tuple(output.data.shape))
        upstream_last = rng.normal(size=tuple(h_last.shape))
        rec["R.output"], rec["R.h_last"] = upstream_output, upstream_last
        ((output.data * as_torch(upstream_output)).sum()
         + (h_last * as_torch(upstream_last)).sum()).backward()
        rec["grad.data"] = data.grad
        if with_hidden:
            rec["grad.hidden"] = hidden_sorted.grad
        for name, value in _split_grads(layer, gru, suffix="_l0").items():
            rec["grad." + name] = value


def rnn_layer_cases(store):
    layer_cases(store, 341, RNNS, gru=False)


def gru_layer_cases(store):
    layer_cases(store, 351, GRUS, gru=True)


FILES = {
    "tensor_ops.npz": [cat_cases, slice_cases, unsqueeze_cases],
    "rnn_unit.npz": [rnn_unit_cases],
    "packing.npz": [packing_cases],
    "time_iterator.npz": [rnn_layer_cases],
    "gru.npz": [gru_unit_cases, gru_layer_cases],
}
