"""Packed sequences: a batch of sequences of different lengths as one tensor.

A ``PackedSequence`` stores the sequences time step by time step.  Sorted by
decreasing length, the batch is read column by column: first every sequence's
step 0, then step 1 of the sequences that have one, and so on.  For sequences
a (3 steps), b (1 step) and c (2 steps):

    sorted_indices = [0, 2, 1]          a, c, b: longest first (stable: ties keep their order)
    batch_sizes    = [3, 2, 1]          sequences still running at steps 0, 1, 2
    data           = [a0, c0, b0, a1, c1, a2]        shape (sum of lengths, *)

so step t is the slice ``data[sum(batch_sizes[:t]) : sum(batch_sizes[:t + 1])]``, and
a recurrent layer works on the first ``batch_sizes[t]`` sequences at step t.
This is ``torch.nn.utils.rnn.pack_sequence(seq, enforce_sorted=False)``'s layout.
Packing and unpacking are built from Slice and Cat, so gradients flow through
them with no backward of their own.
"""
from collections import namedtuple

import numpy as np

from mytorch.tensor import Tensor, cat

__all__ = ["PackedSequence", "pack_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "sorted_indices", "batch_sizes"])):
    """A packed batch: ``data`` (a Tensor of shape (sum of lengths, *)), ``sorted_indices``
    and ``batch_sizes`` (int ndarrays).  A named tuple, so it unpacks in that order:

    >>> data, sorted_indices, batch_sizes = pack_sequence([Tensor.randn(3, 2), Tensor.randn(1, 2)])
    >>> sorted_indices, batch_sizes
    (array([0, 1]), array([2, 1, 1]))

    ``sorted_indices[i]`` is the position, in the list given to ``pack_sequence``,
    of the i-th longest sequence; ``batch_sizes[t]`` is how many sequences have a
    step t.
    """

    __slots__ = ()

    def __repr__(self):
        return "PackedSequence(data={!r}, sorted_indices={!r}, batch_sizes={!r})".format(
            self.data, self.sorted_indices, self.batch_sizes)


def pack_sequence(sequence):
    """Pack a list of Tensors of shapes (T_i, *) into a PackedSequence.

    The tensors may come in any order of length (PyTorch's ``enforce_sorted=False``):
    ``sorted_indices`` is a stable sort by decreasing length.  The packed data is
    one Cat of the tensors and one Slice that reads their rows in packed order, so
    backward sends each row's gradient back to the tensor it came from.
    """
    lengths = _lengths(sequence)
    sorted_indices = np.argsort(-lengths, kind="stable")
    batch_sizes = (lengths[:, None] > np.arange(lengths.max())).sum(axis=0)
    # Row t of sequence i sits at starts[i] + t in cat(sequence): read step 0 of every
    # sequence in sorted order, then step 1 of those still running, ...
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    rows = np.concatenate([starts[sorted_indices[:size]] + t
                           for t, size in enumerate(batch_sizes)])
    return PackedSequence(cat(list(sequence), dim=0)[rows], sorted_indices, batch_sizes)


def unpack_sequence(ps):
    """The list of Tensors that ``pack_sequence`` packed into ``ps``, in their original order.

    Each is one Slice of ``ps.data``: the rows of that sequence, one per step.
    """
    data, sorted_indices, batch_sizes = _check_packed("unpack_sequence", ps)
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    sequences = [None] * len(sorted_indices)
    for rank, index in enumerate(sorted_indices):
        steps = int(np.sum(batch_sizes > rank))          # the rank-th longest's length
        sequences[index] = data[offsets[:steps] + rank]
    return sequences


def _lengths(sequence):
    """The tensors' lengths as an int array, or a TypeError/ValueError saying what is wrong."""
    if isinstance(sequence, Tensor) or not isinstance(sequence, (list, tuple)):
        raise TypeError("pack_sequence: expected a list of Tensors of shapes (T_i, *), got a {}"
                        .format(type(sequence).__name__))
    if len(sequence) == 0:
        raise ValueError("pack_sequence: the list of sequences is empty; give at least one "
                         "Tensor of shape (T_i, *)")
    for i, t in enumerate(sequence):
        if not isinstance(t, Tensor):
            raise TypeError("pack_sequence: sequence {} is a {}, not a Tensor"
                            .format(i, type(t).__name__))
        if t.data.ndim == 0 or t.shape[0] == 0:
            raise ValueError("pack_sequence: sequence {} has shape {}; each must have shape "
                             "(T_i, *) with at least one time step".format(i, t.shape))
        if t.shape[1:] != sequence[0].shape[1:]:
            raise ValueError("pack_sequence: sequence {} has shape {} but sequence 0 has shape "
                             "{}: every time step must have the same shape (features)"
                             .format(i, t.shape, sequence[0].shape))
    return np.array([t.shape[0] for t in sequence], dtype=np.int64)


def _check_packed(caller, ps):
    """(data, sorted_indices, batch_sizes) of ``ps``, or a TypeError/ValueError saying why not."""
    try:
        if isinstance(ps, Tensor):
            raise TypeError
        data, sorted_indices, batch_sizes = ps
    except (TypeError, ValueError):
        raise TypeError("{}: expected a PackedSequence (data, sorted_indices, batch_sizes), "
                        "got a {}".format(caller, type(ps).__name__)) from None
    if not isinstance(data, Tensor):
        raise TypeError("{}: the PackedSequence's data must be a Tensor, got a {}"
                        .format(caller, type(data).__name__))
    sorted_indices, batch_sizes = np.asarray(sorted_indices), np.asarray(batch_sizes)
    if data.data.ndim == 0 or batch_sizes.ndim != 1 or batch_sizes.sum() != data.shape[0] \
            or sorted_indices.shape != (batch_sizes[:1].sum(),):
        raise ValueError("{}: inconsistent PackedSequence: data of shape {}, batch_sizes {}, "
                         "sorted_indices {} (data needs sum(batch_sizes) rows and "
                         "sorted_indices batch_sizes[0] entries)"
                         .format(caller, data.shape, batch_sizes.tolist(),
                                 sorted_indices.tolist()))
    return data, sorted_indices, batch_sizes
