"""mytorch/nn/util.py: PackedSequence, pack_sequence, unpack_sequence.

Expected layouts come from packing by hand (tests/hw3_reference.py: loops over
time steps and sequences) and, when PyTorch is installed, from
torch.nn.utils.rnn.pack_sequence(enforce_sorted=False).
"""
import numpy as np
import pytest

from hw3_reference import oracle, pack_by_hand
from mytorch import Tensor, gradcheck
from mytorch.nn.util import PackedSequence, pack_sequence, unpack_sequence

# Lengths 1 to 10: one sequence, equal lengths, ties broken by input order, sorted and not.
LENGTHS = [[1], [10], [3, 3, 3], [1, 1], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
           [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], [10, 1], [2, 5, 2, 5, 1], [4, 1, 4, 1, 4],
           [3, 7, 7, 2, 9, 2, 6],
           [(i * 7) % 10 + 1 for i in range(40)]]       # many ties: an unstable sort reorders them
# torch sorts the lengths with torch.sort, which is stable only for small batches (it puts
# the 40 sequences' ties in another order), so the torch tests leave out the last case.
TORCH_LENGTHS = LENGTHS[:-1]
FEATURES = [(), (1,), (3,), (2, 3)]


def _sequences(rng, lengths, features=(3,), requires_grad=True):
    return [Tensor(rng.standard_normal((n,) + features), requires_grad=requires_grad)
            for n in lengths]


# --------------------------------------------------------------------------- #
# pack_sequence (NumPy)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("features", FEATURES, ids=str)
def test_pack_lays_sequences_out_step_by_step_longest_first(rng, lengths, features):
    seq = _sequences(rng, lengths, features)
    ps = pack_sequence(seq)
    data, sorted_indices, batch_sizes = pack_by_hand([t.data for t in seq])
    assert isinstance(ps, PackedSequence) and isinstance(ps.data, Tensor)
    np.testing.assert_array_equal(ps.data.data, data)
    for field, expected in ((ps.sorted_indices, sorted_indices), (ps.batch_sizes, batch_sizes)):
        assert isinstance(field, np.ndarray) and field.dtype.kind == "i"
        np.testing.assert_array_equal(field, expected)


def test_pack_of_the_docstrings_example():
    a, b, c = (Tensor(np.full((n, 1), v)) for n, v in ((3, 1.0), (1, 2.0), (2, 3.0)))
    ps = pack_sequence([a, b, c])
    np.testing.assert_array_equal(ps.sorted_indices, [0, 2, 1])
    np.testing.assert_array_equal(ps.batch_sizes, [3, 2, 1])
    np.testing.assert_array_equal(ps.data.data[:, 0], [1.0, 3.0, 2.0, 1.0, 3.0, 1.0])


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
def test_pack_gradient_goes_back_to_the_row_each_packed_row_came_from(rng, lengths):
    seq = _sequences(rng, lengths)
    ps = pack_sequence(seq)
    g = rng.standard_normal(ps.data.shape)
    ps.data.backward(g)
    # The packed row of sequence i at step t is the batch_sizes[:t].sum() + rank(i)-th.
    rank = {int(index): r for r, index in enumerate(ps.sorted_indices)}
    offsets = np.concatenate([[0], np.cumsum(ps.batch_sizes)])
    for i, t in enumerate(seq):
        expected = np.array([g[offsets[step] + rank[i]] for step in range(lengths[i])])
        np.testing.assert_array_equal(t.grad.data, expected)


def test_pack_gradient_matches_finite_differences(rng):
    seq = _sequences(rng, [2, 3, 1], (2,))
    assert gradcheck(lambda *s: pack_sequence(list(s)).data * 2.0, seq)


def test_a_packed_sequence_is_a_named_tuple_in_data_sorted_indices_batch_sizes_order(rng):
    ps = pack_sequence(_sequences(rng, [2, 1]))
    data, sorted_indices, batch_sizes = ps
    assert data is ps.data and sorted_indices is ps.sorted_indices
    assert batch_sizes is ps.batch_sizes and ps._fields == ("data", "sorted_indices", "batch_sizes")
    rebuilt = PackedSequence(data, sorted_indices, batch_sizes)
    assert rebuilt.data is data and "PackedSequence(data=" in repr(rebuilt)


@pytest.mark.parametrize("sequence, error, words", [
    ([], ValueError, "empty"),
    (Tensor(np.zeros((3, 2))), TypeError, "list of Tensors"),
    ([Tensor(np.zeros((3, 2))), np.zeros((3, 2))], TypeError, "sequence 1 is a ndarray"),
    ([Tensor(np.zeros((3, 2))), Tensor(np.zeros((2, 3)))], ValueError,
     r"sequence 1 has shape \(2, 3\) but sequence 0 has shape \(3, 2\)"),
    ([Tensor(np.zeros((3, 2))), Tensor(np.zeros(3))], ValueError, "same shape"),
    ([Tensor(np.zeros((0, 2)))], ValueError, "at least one time step"),
    ([Tensor(1.0)], ValueError, r"\(T_i, \*\)"),
])
def test_pack_rejects_bad_input_with_a_clear_error(sequence, error, words):
    with pytest.raises(error, match=words):
        pack_sequence(sequence)


# --------------------------------------------------------------------------- #
# unpack_sequence (NumPy)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("features", FEATURES, ids=str)
def test_unpack_gives_back_the_sequences_in_their_original_order(rng, lengths, features):
    seq = _sequences(rng, lengths, features)
    result = unpack_sequence(pack_sequence(seq))
    assert len(result) == len(seq)
    for mine, original in zip(result, seq):
        assert isinstance(mine, Tensor)
        np.testing.assert_array_equal(mine.data, original.data)


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
def test_unpack_of_a_packed_sequence_built_by_hand(rng, lengths):
    arrays = [rng.standard_normal((n, 2)) for n in lengths]
    data, sorted_indices, batch_sizes = pack_by_hand(arrays)
    packed = Tensor(data, requires_grad=True)
    result = unpack_sequence(PackedSequence(packed, sorted_indices, batch_sizes))
    for mine, original in zip(result, arrays):
        np.testing.assert_array_equal(mine.data, original)
    grads = [rng.standard_normal(a.shape) for a in arrays]
    for mine, g in zip(result, grads):
        mine.backward(g)
    # Packing the gradients by hand puts each where its row sits in data.
    np.testing.assert_array_equal(packed.grad.data, pack_by_hand(grads)[0])


def test_pack_then_unpack_passes_gradients_straight_through(rng):
    seq = _sequences(rng, [3, 1, 3, 2])
    grads = [rng.standard_normal(t.shape) for t in seq]
    pieces = [(mine * Tensor(g)).sum() for mine, g in zip(unpack_sequence(pack_sequence(seq)), grads)]
    sum(pieces[1:], pieces[0]).backward()
    for t, g in zip(seq, grads):
        np.testing.assert_array_equal(t.grad.data, g)


def test_unpack_gradient_matches_finite_differences(rng):
    data = Tensor(rng.standard_normal((6, 2)), requires_grad=True)
    ps = lambda d: PackedSequence(d, np.array([2, 0, 1]), np.array([3, 2, 1]))  # noqa: E731
    assert gradcheck(lambda d: unpack_sequence(ps(d))[0] * unpack_sequence(ps(d))[1][-1], data)


@pytest.mark.parametrize("ps, error, words", [
    (Tensor(np.zeros((3, 2))), TypeError, "expected a PackedSequence"),
    ((np.zeros((3, 2)), np.array([0]), np.array([3])), TypeError, "data must be a Tensor"),
    (PackedSequence(Tensor(np.zeros((3, 2))), np.array([0, 1]), np.array([2, 2])), ValueError,
     "inconsistent"),
])
def test_unpack_rejects_what_is_not_a_packed_sequence(ps, error, words):
    with pytest.raises(error, match=words):
        unpack_sequence(ps)


# --------------------------------------------------------------------------- #
# The same against PyTorch (float64)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lengths", TORCH_LENGTHS, ids=str)
@pytest.mark.parametrize("features", FEATURES, ids=str)
def test_pack_matches_torch_fields_and_gradients(rng, lengths, features):
    torch = oracle()
    seq = _sequences(rng, lengths, features)
    tseq = [torch.tensor(t.data, requires_grad=True) for t in seq]
    ps = pack_sequence(seq)
    tps = torch.nn.utils.rnn.pack_sequence(tseq, enforce_sorted=False)
    np.testing.assert_array_equal(ps.data.data, tps.data.detach().numpy())
    np.testing.assert_array_equal(ps.sorted_indices, tps.sorted_indices.numpy())
    np.testing.assert_array_equal(ps.batch_sizes, tps.batch_sizes.numpy())
    g = rng.standard_normal(ps.data.shape)
    ps.data.backward(g)
    tps.data.backward(torch.tensor(g))
    for t, tt in zip(seq, tseq):
        np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())


@pytest.mark.parametrize("lengths", TORCH_LENGTHS, ids=str)
def test_unpack_matches_torch(rng, lengths):
    torch = oracle()
    arrays = [rng.standard_normal((n, 2)) for n in lengths]
    tps = torch.nn.utils.rnn.pack_sequence([torch.tensor(a) for a in arrays],
                                           enforce_sorted=False)
    data = Tensor(tps.data.numpy().copy(), requires_grad=True)
    tdata = tps.data.clone().requires_grad_(True)
    tps = torch.nn.utils.rnn.PackedSequence(tdata, tps.batch_sizes, tps.sorted_indices,
                                            tps.unsorted_indices)
    mine = unpack_sequence(PackedSequence(data, tps.sorted_indices.numpy(),
                                          tps.batch_sizes.numpy()))
    theirs = torch.nn.utils.rnn.unpack_sequence(tps)
    grads = [rng.standard_normal(a.shape) for a in arrays]
    for m, t, g in zip(mine, theirs, grads):
        np.testing.assert_array_equal(m.data, t.detach().numpy())
        m.backward(g)
    sum((t * torch.tensor(g)).sum() for t, g in zip(theirs, grads)).backward()
    np.testing.assert_array_equal(data.grad.data, tdata.grad.numpy())
