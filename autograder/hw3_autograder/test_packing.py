"""Problems 1.3.1 and 1.3.2: pack_sequence and unpack_sequence, forward and backward.

Each test is a plain function (pytest runs them); the spec scores them by the name's
prefix: test_pack_forward -> 1.3.1.1, test_pack_backward -> 1.3.1.2,
test_unpack_forward -> 1.3.2.1, test_unpack_backward -> 1.3.2.2.

The functions are called directly inside ``grader_tensor_ops()``: the indexing and
``cat`` they build on are the grader's, so a slicing or Cat bug (1.2) costs nothing
here.  Unpacking starts from a PackedSequence the grader builds from PyTorch's layout,
so it does not depend on packing either.  Gradients flow back from the grader's probe
loss through the student's engine (HW1).  Expected values: PyTorch's pack_sequence
(enforce_sorted=False) and unpack_sequence in float64 (fixtures/packing.npz), for
lengths 1 to 10, ties, a single sequence, 16 sequences, and steps of shape (), (K,)
and (2, 3).
"""
import numpy as np

from autograder.helpers import check
from autograder.hw3_autograder.checks import (assert_grad, assert_indices, assert_shape,
                                              assert_value, cases, packed_fields)
from autograder.hw3_autograder.grader_ops import cat, grader_tensor_ops
from autograder.probes import backprop, call_function
from mytorch.nn.util import PackedSequence, pack_sequence, unpack_sequence
from mytorch.tensor import Tensor


def _sequences(fx, requires_grad=False):
    return [Tensor(fx["seq{}".format(i)].copy(), requires_grad=requires_grad)
            for i in range(int(fx["n"]))]


def _lengths(fx):
    return [fx["seq{}".format(i)].shape[0] for i in range(int(fx["n"]))]


def _about(fx):
    """How a message names a case: its lengths and the shape of one step."""
    return "sequences of lengths {} (steps of shape {})".format(
        _lengths(fx), fx["seq0"].shape[1:])


def _pack(fx, requires_grad=False):
    seqs = _sequences(fx, requires_grad)
    with grader_tensor_ops():
        ps = call_function(pack_sequence, seqs)
    return seqs, ps


# --------------------------------------------------------------------------- #
# 1.3.1 pack_sequence
# --------------------------------------------------------------------------- #
def _wrong_layouts(fx):
    """Typical wrong data arrays, each with what it means."""
    seqs = [fx["seq{}".format(i)] for i in range(int(fx["n"]))]
    order = list(fx["sorted_indices"])
    return [("each sequence's steps together (sequence-major): data holds step 0 of every "
             "sequence, then step 1 of those that have one, ...",
             np.concatenate([seqs[i] for i in order])),
            ("the sequences in their input order, not sorted by decreasing length",
             _time_major([seqs[i] for i in range(len(seqs))]))]


def _time_major(seqs):
    rows = []
    for t in range(max(len(s) for s in seqs)):
        rows += [s[t] for s in seqs if len(s) > t]
    return np.array(rows)


def test_pack_forward_layout():
    """sorted_indices (a stable sort by decreasing length), batch_sizes and data."""
    for _, fx in cases("packing", "pack"):
        what = "pack_sequence({})".format(_about(fx))
        _, ps = _pack(fx)
        data, sorted_indices, batch_sizes = packed_fields(ps, what)
        lengths = np.array(_lengths(fx))
        assert_indices(sorted_indices, fx["sorted_indices"], what + ": sorted_indices",
                       alternatives=[
                           ("sequences of equal length in reverse input order: sort by length "
                            "stably (np.argsort(-lengths, kind='stable')), so ties keep their "
                            "input order", np.argsort(lengths, kind="stable")[::-1]),
                           ("sorted by increasing length: the longest comes first",
                            np.argsort(lengths, kind="stable"))])
        assert_indices(batch_sizes, fx["batch_sizes"], what + ": batch_sizes",
                       alternatives=[("the lengths sorted: batch_sizes[t] is the number of "
                                      "sequences that have a step t",
                                      np.sort(lengths)[::-1])])
        assert_value(data, fx["data"], what + ": data", alternatives=_wrong_layouts(fx))


# --------------------------------------------------------------------------- #
# 1.3.1.2 Backward
# --------------------------------------------------------------------------- #
def test_pack_backward_each_sequence_gets_its_rows():
    """From sum(data * R): each sequence's gradient is the rows of R that came from it."""
    for _, fx in cases("packing", "pack"):
        what = "pack_sequence({})".format(_about(fx))
        seqs, ps = _pack(fx, requires_grad=True)
        data, _, _ = packed_fields(ps, what)
        check(getattr(data, "requires_grad", False),
              "{}: the packed data does not require grad, though the sequences do: build it "
              "from the sequences with cat and slicing (Tensor operations), not with NumPy on "
              ".data, so that gradients flow back".format(what))
        assert_shape(data, fx["data"].shape, what + ": data")
        backprop(data, fx["R"])
        for i, seq in enumerate(seqs):
            assert_grad(seq, fx["grad.seq{}".format(i)],
                        "{}, backward from sum(data * R): gradient of sequence {}"
                        .format(what, i))


# --------------------------------------------------------------------------- #
# 1.3.2 unpack_sequence
# --------------------------------------------------------------------------- #
def _packed(fx, requires_grad=False):
    """The case's PackedSequence, in PyTorch's layout, built by the grader."""
    data = Tensor(fx["data"].copy(), requires_grad=requires_grad)
    return data, PackedSequence(data, fx["sorted_indices"].copy(), fx["batch_sizes"].copy())


def _unpack(fx, requires_grad=False):
    data, ps = _packed(fx, requires_grad)
    what = "unpack_sequence(the PackedSequence of {})".format(_about(fx))
    with grader_tensor_ops():
        seqs = call_function(unpack_sequence, ps)
    check(isinstance(seqs, (list, tuple)) and len(seqs) == int(fx["n"]),
          "{} returned {}: it should return a list of the {} sequences, in their input "
          "order".format(what, "None" if seqs is None else "a {} of {}".format(
              type(seqs).__name__, len(seqs) if hasattr(seqs, "__len__") else "?"),
              int(fx["n"])))
    return data, seqs, what


def test_unpack_forward_sequences_in_input_order():
    for _, fx in cases("packing", "pack"):
        _, seqs, what = _unpack(fx)
        order = list(fx["sorted_indices"])
        for i, seq in enumerate(seqs):
            expected = fx["seq{}".format(i)]
            wrong = [("this is sequence {} (number {} in sorted order): unpack_sequence "
                      "returns the sequences in their input order, not sorted".format(order[i], i),
                      fx["seq{}".format(order[i])])] if order[i] != i else []
            assert_value(seq, expected, "{}: sequence {}".format(what, i), alternatives=wrong)


def test_unpack_backward_each_row_gets_its_gradient():
    """From sum over sequences of sum(seq_i * R_i): each row of data gets its element's."""
    for _, fx in cases("packing", "pack"):
        data, seqs, what = _unpack(fx, requires_grad=True)
        for i, seq in enumerate(seqs):
            assert_shape(seq, fx["seq{}".format(i)].shape, "{}: sequence {}".format(what, i))
            check(getattr(seq, "requires_grad", False),
                  "{}: sequence {} does not require grad, though the packed data does: build "
                  "each sequence from data with slicing (Tensor operations), not with NumPy on "
                  ".data, so that gradients flow back".format(what, i))
        upstream = np.concatenate([fx["unpack.R{}".format(i)] for i in range(len(seqs))])
        with grader_tensor_ops():
            joined = cat(list(seqs), 0)
        backprop(joined, upstream)
        assert_grad(data, fx["unpack.grad.data"],
                    "{}, backward from the sum of sum(seq_i * R_i): data.grad".format(what))
