"""Homework 3's tensor operations: indexing (Slice), cat (Cat), unsqueeze, requires_grad.

Expected values come from NumPy (indexing, np.concatenate, np.expand_dims) and
gradients from an explicit loop over elements (tests/hw3_reference.py) or
finite differences; the PyTorch tests repeat the main cases against torch.
"""
import numpy as np
import pytest

import mytorch.nn.functional as F
from hw3_reference import index_gradient, oracle
from mytorch import Tensor, gradcheck
from mytorch.autograd_engine import ContextManager
from mytorch.optim.sgd import SGD
from mytorch.tensor import cat

# (shape, key): 1 to 4 dimensions; negative ints; steps, negative too; lists with
# repeats; tuples mixing them; None and Ellipsis.
INDEXING = [
    ((5,), 2), ((5,), -1), ((5,), slice(1, 4)), ((5,), slice(None, None, -1)),
    ((5,), slice(-1, 0, -2)), ((5,), [0, 0, 3, -1, 0]), ((5,), slice(10, 20)),
    ((3, 4), 1), ((3, 4), -3), ((3, 4), (1, -2)), ((3, 4), (slice(None), 2)),
    ((3, 4), (slice(None, None, 2), slice(None, None, -3))), ((3, 4), [2, 0, 2]),
    ((3, 4), ([0, 2, 2], [-1, 1, -1])), ((3, 4), (Ellipsis, [1, 1])), ((3, 4), (None, 1)),
    ((2, 3, 4), (1, slice(None), -1)), ((2, 3, 4), (slice(None), [2, 2, 0])),
    ((2, 3, 4), (-1, slice(2, None), slice(None, None, 2))), ((2, 3, 4), (Ellipsis, 0)),
    ((2, 3, 4, 5), (0, -1, slice(1, 3), [4, 4])), ((2, 3, 4, 5), (slice(None, None, -1), 1)),
    ((2, 3, 4, 5), (Ellipsis, slice(None, None, -2))), ((2, 3, 4, 5), ([1, 0, 1], 2, 3)),
]
KEY_IDS = ["{}-{}".format(len(shape), i) for i, (shape, _) in enumerate(INDEXING)]


def _leaf(rng, shape):
    return Tensor(rng.standard_normal(shape), requires_grad=True)


# --------------------------------------------------------------------------- #
# Slicing: forward and backward (NumPy)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape, key", INDEXING, ids=KEY_IDS)
def test_indexing_gives_numpys_values(rng, shape, key):
    x = _leaf(rng, shape)
    out = x[key]
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, x.data[key])


@pytest.mark.parametrize("shape, key", INDEXING, ids=KEY_IDS)
def test_indexing_gradient_adds_back_where_each_element_was_read(rng, shape, key):
    x = _leaf(rng, shape)
    out = x[key]
    g = rng.standard_normal(out.shape)
    out.backward(g)
    np.testing.assert_allclose(x.grad.data, index_gradient(shape, key, g), rtol=1e-15)


def test_slice_the_handout_way_with_a_hand_made_ctx(rng):
    x = Tensor(rng.standard_normal((3, 4)))
    ctx = ContextManager()
    out = F.Slice.forward(ctx, x, (slice(None), [1, 1, -1]))
    g = rng.standard_normal((3, 3))
    grads = F.Slice.backward(ctx, Tensor(g))
    assert len(grads) == 2 and grads[1] is None
    expected = np.zeros((3, 4))
    expected[:, 1] = g[:, 0] + g[:, 1]
    expected[:, 3] = g[:, 2]
    np.testing.assert_array_equal(out.data, x.data[:, [1, 1, 3]])
    np.testing.assert_allclose(grads[0].data, expected, rtol=1e-15)


def test_repeated_index_adds_instead_of_overwriting():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 0, 2]].backward(np.array([1.0, 10.0, 100.0, 5.0]))
    np.testing.assert_array_equal(x.grad.data, [111.0, 0.0, 5.0])


def test_a_tensor_of_indices_indexes_like_its_data(rng):
    x = _leaf(rng, (4, 3))
    out = x[Tensor([3, 3, 1])]
    np.testing.assert_array_equal(out.data, x.data[[3, 3, 1]])
    out.backward(np.ones((3, 3)))
    np.testing.assert_array_equal(x.grad.data[:, 0], [0.0, 1.0, 0.0, 2.0])


@pytest.mark.parametrize("key", [(slice(None, None, -1), [0, 2, 0]), (1, slice(1, None, 2)),
                                 ([[0, 1], [1, 1]],)])
def test_indexing_gradient_matches_finite_differences(rng, key):
    assert gradcheck(lambda t: t[key] * t[key], _leaf(rng, (2, 3)))


def test_slices_of_slices_and_several_reads_of_one_tensor_sum_up(rng):
    x = _leaf(rng, (4, 5))
    y = x[1:][::-1, 2:] * 3.0 + x[-1, 2:]
    g = rng.standard_normal(y.shape)
    y.backward(g)
    expected = np.zeros((4, 5))
    expected[1:][::-1, 2:] += 3.0 * g
    expected[-1, 2:] += g.sum(axis=0)
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-14)


def test_a_basic_slice_is_a_view_and_an_in_place_edit_is_caught(rng):
    x = _leaf(rng, (3, 4))
    row = x[1]
    assert np.shares_memory(row.data, x.data)
    y = row * row
    x.data += 1.0                 # the saved row changed under the Mul
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward(np.ones(4))


@pytest.mark.parametrize("shape, key", [((3,), 3), ((3,), -4), ((2, 3), (0, 5)),
                                        ((2, 3), (1, 0, 0)), ((2,), [0, 2])])
def test_an_index_out_of_range_raises_index_error_naming_the_shape(shape, key):
    with pytest.raises(IndexError, match=r"Slice.*shape \({}".format(shape[0])):
        Tensor(np.zeros(shape))[key]


def test_iteration_stops_at_the_end_and_rows_carry_gradients():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    rows = list(x)
    assert len(rows) == 3
    np.testing.assert_array_equal(rows[2].data, [4.0, 5.0])
    (rows[0] * 2.0 + rows[2]).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.data, [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]])


def test_iterating_a_0d_tensor_is_a_type_error_as_in_torch():
    with pytest.raises(TypeError, match="iteration over a 0-d Tensor"):
        list(Tensor(3.0))


def test_indexing_a_constant_builds_no_graph(rng):
    out = Tensor(rng.standard_normal((3, 2)))[0]
    assert out.requires_grad is False and out.grad_fn is None


# --------------------------------------------------------------------------- #
# cat (NumPy)
# --------------------------------------------------------------------------- #
# (shapes, dim): 1 to 4 dimensions, negative dims, one tensor, empty pieces.
CATS = [
    ([(3,), (1,), (2,)], 0), ([(4,)], 0), ([(2,), (3,)], -1),
    ([(2, 3), (1, 3)], 0), ([(2, 3), (2, 1), (2, 4)], 1), ([(2, 3), (2, 2)], -1),
    ([(2, 3), (0, 3), (1, 3)], 0),
    ([(1, 2, 3), (2, 2, 3)], 0), ([(2, 1, 3), (2, 3, 3)], 1), ([(2, 2, 1), (2, 2, 2)], -1),
    ([(2, 1, 3), (2, 2, 3), (2, 1, 3)], -2),
    ([(1, 2, 3, 2), (2, 2, 3, 2)], 0), ([(2, 2, 1, 2), (2, 2, 3, 2)], 2),
    ([(2, 2, 3, 1), (2, 2, 3, 3)], -1), ([(2, 1, 3, 2), (2, 2, 3, 2)], -3),
]
CAT_IDS = ["{}d-dim{}-{}".format(len(shapes[0]), dim, len(shapes)) for shapes, dim in CATS]


@pytest.mark.parametrize("shapes, dim", CATS, ids=CAT_IDS)
def test_cat_gives_numpys_concatenation(rng, shapes, dim):
    seq = [_leaf(rng, s) for s in shapes]
    out = cat(seq, dim)
    np.testing.assert_array_equal(out.data, np.concatenate([t.data for t in seq], axis=dim))


@pytest.mark.parametrize("shapes, dim", CATS, ids=CAT_IDS)
def test_cat_gradient_is_the_output_gradient_cut_back_into_pieces(rng, shapes, dim):
    seq = [_leaf(rng, s) for s in shapes]
    out = cat(seq, dim)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    axis, start = dim % len(shapes[0]), 0
    for t in seq:
        size = t.shape[axis]
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + size)
        np.testing.assert_array_equal(t.grad.data, g[tuple(index)])
        start += size


def test_cat_the_handout_way_tensors_first_then_dim(rng):
    a, b = Tensor(rng.standard_normal((2, 3))), Tensor(rng.standard_normal((2, 1)))
    ctx = ContextManager()
    out = F.Cat.forward(ctx, a, b, 1)
    np.testing.assert_array_equal(out.data, np.hstack([a.data, b.data]))
    g = rng.standard_normal((2, 4))
    grads = F.Cat.backward(ctx, Tensor(g))
    assert len(grads) == 3 and grads[2] is None
    np.testing.assert_array_equal(grads[0].data, g[:, :3])
    np.testing.assert_array_equal(grads[1].data, g[:, 3:])


def test_cat_sends_gradients_only_to_tensors_that_require_them(rng):
    a, b = _leaf(rng, (2, 2)), Tensor(rng.standard_normal((1, 2)))
    cat([b, a, b]).backward(np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(a.grad.data, [[2.0, 3.0], [4.0, 5.0]])
    assert b.grad is None


def test_cat_of_one_tensor_twice_adds_both_gradients(rng):
    a = _leaf(rng, (2,))
    cat([a, a * 2.0]).backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(a.grad.data, [1.0 + 6.0, 2.0 + 8.0])


def test_cat_gradient_matches_finite_differences(rng):
    a, b = _leaf(rng, (2, 3)), _leaf(rng, (2, 2))
    assert gradcheck(lambda p, q: cat([p * q[:, :1], q, p], dim=-1), [a, b])


@pytest.mark.parametrize("seq, dim, error, words", [
    ([], 0, ValueError, "non-empty"),
    (Tensor(np.zeros((2, 2))), 0, TypeError, "list of Tensors"),
    ([Tensor(np.zeros(2)), np.zeros(2)], 0, TypeError, "Tensor, ndarray"),
    ([Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))], 0, ValueError,
     r"tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"),
    ([Tensor(np.zeros((2, 3))), Tensor(np.zeros(3))], 0, ValueError, r"shape \(3,\)"),
    ([Tensor(np.zeros((2, 3)))], 2, IndexError, r"dim 2 is out of range"),
    ([Tensor(np.zeros((2, 3)))], -3, IndexError, r"\[-2, 1\]"),
    ([Tensor(np.zeros((2, 3)))], 0.0, TypeError, "dim must be an int"),
    ([Tensor(1.0), Tensor(2.0)], 0, ValueError, "zero-dimensional"),
])
def test_cat_rejects_bad_input_with_a_clear_error(seq, dim, error, words):
    with pytest.raises(error, match=words):
        cat(seq, dim)


# --------------------------------------------------------------------------- #
# unsqueeze and requires_grad (NumPy)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3)])
def test_unsqueeze_inserts_an_axis_at_every_allowed_dim(rng, shape):
    for dim in range(-len(shape) - 1, len(shape) + 1):
        x = _leaf(rng, shape)
        out = x.unsqueeze(dim)
        np.testing.assert_array_equal(out.data, np.expand_dims(x.data, dim))
        g = rng.standard_normal(out.shape)
        out.backward(g)
        np.testing.assert_array_equal(x.grad.data, g.reshape(shape))


def test_unsqueeze_defaults_to_dim_0():
    assert Tensor(np.zeros((2, 3))).unsqueeze().shape == (1, 2, 3)


@pytest.mark.parametrize("dim, error", [(3, IndexError), (-4, IndexError), (1.0, TypeError)])
def test_unsqueeze_rejects_a_dim_out_of_range(dim, error):
    with pytest.raises(error, match="unsqueeze"):
        Tensor(np.zeros((2, 3))).unsqueeze(dim)


def test_setting_requires_grad_on_a_leaf_makes_backward_fill_its_grad(rng):
    x = Tensor(rng.standard_normal((2, 3)))
    x.requires_grad = True
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data, rtol=1e-15)


def test_setting_requires_grad_on_integer_data_makes_it_float64_so_a_step_can_update_it():
    x = Tensor(np.array([[1, 2], [3, 4]]), is_parameter=False)
    x.requires_grad = True
    assert x.data.dtype == np.float64
    x.is_parameter = True
    (x * 3.0).sum().backward()
    SGD([x], lr=0.5).step()
    np.testing.assert_array_equal(x.data, [[-0.5, 0.5], [1.5, 2.5]])


def test_clearing_requires_grad_stops_the_graph(rng):
    x = Tensor(rng.standard_normal(3), requires_grad=True)
    x.requires_grad = False
    y = x * 2.0
    assert y.grad_fn is None and y.requires_grad is False


def test_randn_draws_the_requested_shape():
    np.random.seed(0)
    t = Tensor.randn(2, 3)
    assert t.shape == (2, 3)
    np.random.seed(0)
    np.testing.assert_array_equal(t.data, np.random.randn(2, 3))


# --------------------------------------------------------------------------- #
# The same against PyTorch (float64)
# --------------------------------------------------------------------------- #
def _torch_key(torch, key):
    """``key`` for torch: lists become index tensors (the meaning is the same)."""
    parts = key if isinstance(key, tuple) else (key,)
    parts = tuple(torch.tensor(p) if isinstance(p, list) else p for p in parts)
    return parts if isinstance(key, tuple) else parts[0]


def _torch_indexes_alike(key):
    """False for keys torch refuses (negative steps) or reads differently: ints and index
    lists separated by a slice, whose axes NumPy puts first and torch in place."""
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(p, slice) and p.step is not None and p.step < 0 for p in parts):
        return False
    advanced = [i for i, p in enumerate(parts) if isinstance(p, (int, list))]
    return not any(isinstance(list_part, list) for list_part in parts) \
        or advanced == list(range(advanced[0], advanced[-1] + 1))


TORCH_CASES = [(case, i) for case, i in zip(INDEXING, KEY_IDS) if _torch_indexes_alike(case[1])]


@pytest.mark.parametrize("shape, key", [c for c, _ in TORCH_CASES], ids=[i for _, i in TORCH_CASES])
def test_indexing_matches_torch(rng, shape, key):
    """Every key both libraries read alike; the others are checked against NumPy above."""
    torch = oracle()
    value = rng.standard_normal(shape)
    x, tx = Tensor(value, requires_grad=True), torch.tensor(value, requires_grad=True)
    out, tout = x[key], tx[_torch_key(torch, key)]
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("shapes, dim", CATS, ids=CAT_IDS)
def test_cat_matches_torch(rng, shapes, dim):
    torch = oracle()
    values = [rng.standard_normal(s) for s in shapes]
    seq = [Tensor(v, requires_grad=True) for v in values]
    tseq = [torch.tensor(v, requires_grad=True) for v in values]
    out, tout = cat(seq, dim), torch.cat(tseq, dim)
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for t, tt in zip(seq, tseq):
        np.testing.assert_array_equal(t.grad.data, tt.grad.numpy())


@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 1, 3)])
def test_unsqueeze_matches_torch(rng, shape):
    torch = oracle()
    for dim in range(-len(shape) - 1, len(shape) + 1):
        value = rng.standard_normal(shape)
        out, tout = Tensor(value).unsqueeze(dim), torch.tensor(value).unsqueeze(dim)
        assert out.shape == tuple(tout.shape)
        np.testing.assert_array_equal(out.data, tout.numpy())
