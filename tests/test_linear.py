"""Linear(in, out): y = x W^T + b (handout 2.1)."""
import numpy as np
import pytest

from mytorch import Tensor, gradcheck, no_grad
from mytorch.autograd_engine import AccumulateGrad
from mytorch.nn.linear import Linear


pytestmark = pytest.mark.numpy_seed(2)   # layers initialise from np.random


def make_layer(rng, n_in, n_out):
    """A layer with non-trivial (seeded) weights."""
    layer = Linear(n_in, n_out)
    layer.weight.data = rng.standard_normal((n_out, n_in))
    layer.bias.data = rng.standard_normal(n_out)
    return layer


# --------------------------------------------------------------------------- #
# Attributes and initialisation
# --------------------------------------------------------------------------- #
def test_linear_has_sizes_and_weight_out_by_in_and_bias_out():
    layer = Linear(7, 3)
    assert layer.in_features == 7 and layer.out_features == 3
    assert layer.weight.shape == (3, 7)
    assert layer.bias.shape == (3,)
    assert layer.weight.data.dtype == np.float64 and layer.bias.data.dtype == np.float64


@pytest.mark.parametrize("name", ["weight", "bias"])
def test_linear_weight_and_bias_are_trainable_leaf_parameters(name):
    t = getattr(Linear(4, 2), name)
    assert t.requires_grad is True
    assert t.is_leaf is True
    assert t.is_parameter is True
    assert t.grad is None


def test_linear_parameters_are_weight_then_bias():
    layer = Linear(4, 2)
    assert [id(p) for p in layer.parameters()] == [id(layer.weight), id(layer.bias)]


@pytest.mark.parametrize("n_in, n_out", [(1000, 400), (4, 2000)])
def test_linear_init_is_uniform_over_plus_minus_one_over_sqrt_in_features(n_in, n_out):
    layer = Linear(n_in, n_out)
    bound = 1.0 / np.sqrt(n_in)
    for values in (layer.weight.data.ravel(), layer.bias.data):
        assert np.all(np.abs(values) <= bound)
    w = layer.weight.data.ravel()                 # >= 8000 draws: fills the whole range
    assert w.min() < -0.99 * bound and w.max() > 0.99 * bound
    assert abs(w.mean()) < 0.05 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.05)   # uniform, not normal
    # a uniform sample has about a tenth of its values in each tenth of the range
    counts, _ = np.histogram(w, bins=10, range=(-bound, bound))
    assert counts.min() > 0.7 * w.size / 10
    b = layer.bias.data
    if b.size >= 400:
        assert b.min() < -0.95 * bound and b.max() > 0.95 * bound


def test_two_linear_layers_get_different_initial_weights():
    assert not np.array_equal(Linear(5, 5).weight.data, Linear(5, 5).weight.data)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_linear_rejects_sizes_that_are_not_positive_integers(bad):
    with pytest.raises((ValueError, TypeError)):
        Linear(bad, 3)
    with pytest.raises((ValueError, TypeError)):
        Linear(3, bad)


# --------------------------------------------------------------------------- #
# Forward
# --------------------------------------------------------------------------- #
def test_linear_forward_is_x_times_w_transposed_plus_b(rng):
    layer = make_layer(rng, 5, 3)
    x = rng.standard_normal((4, 5))
    out = layer(Tensor(x))
    W, b = layer.weight.data, layer.bias.data
    expected = np.array([[sum(x[n, i] * W[o, i] for i in range(5)) + b[o] for o in range(3)]
                         for n in range(4)])
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


def test_linear_forward_on_a_batch_of_one(rng):
    layer = make_layer(rng, 3, 2)
    x = rng.standard_normal((1, 3))
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data.T + layer.bias.data,
                               rtol=1e-12)


def test_linear_forward_does_not_change_its_input_or_parameters(rng):
    layer = make_layer(rng, 3, 2)
    x = rng.standard_normal((4, 3))
    snapshot = [x.copy(), layer.weight.data.copy(), layer.bias.data.copy()]
    layer(Tensor(x))
    for before, now in zip(snapshot, [x, layer.weight.data, layer.bias.data]):
        np.testing.assert_array_equal(before, now)


def test_linear_output_requires_grad_even_for_a_constant_input(rng):
    layer = make_layer(rng, 3, 2)
    out = layer(Tensor(rng.standard_normal((4, 3))))
    assert out.requires_grad is True and out.is_leaf is False


def test_linear_under_no_grad_records_nothing(rng):
    layer = make_layer(rng, 3, 2)
    with no_grad():
        out = layer(Tensor(rng.standard_normal((4, 3)), requires_grad=True))
    assert out.requires_grad is False and out.grad_fn is None


# --------------------------------------------------------------------------- #
# Gradients
# --------------------------------------------------------------------------- #
def test_linear_gradients_pass_gradcheck(rng):
    layer = make_layer(rng, 4, 3)
    x = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    assert gradcheck(lambda x, w, b: layer(x), [x, layer.weight, layer.bias])


def test_linear_gradients_match_closed_form(rng):
    layer = make_layer(rng, 4, 3)
    x = rng.standard_normal((5, 4))
    g = rng.standard_normal((5, 3))                       # upstream gradient
    xt = Tensor(x, requires_grad=True)
    layer(xt).backward(g)
    W = layer.weight.data
    np.testing.assert_allclose(xt.grad.data, g @ W, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.data, g.T @ x, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, g.sum(axis=0), rtol=1e-12)


def test_linear_parameter_gradients_accumulate_over_two_backwards(rng):
    layer = make_layer(rng, 4, 3)
    x1, x2 = rng.standard_normal((2, 4)), rng.standard_normal((3, 4))
    layer(Tensor(x1)).sum().backward()
    layer(Tensor(x2)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.data,
                               np.ones((3, 2)) @ x1 + np.ones((3, 3)) @ x2, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.data, np.full(3, 5.0))


def test_linear_parameters_stay_leaves_after_backward(rng):
    layer = make_layer(rng, 4, 3)
    layer(Tensor(rng.standard_normal((2, 4)))).sum().backward()
    for p in (layer.weight, layer.bias):
        assert p.is_leaf and p.requires_grad and p.is_parameter
        assert p.grad_fn is None or isinstance(p.grad_fn, AccumulateGrad)


def test_linear_leaves_a_constant_input_without_grad(rng):
    layer = make_layer(rng, 4, 3)
    x = Tensor(rng.standard_normal((2, 4)))
    layer(x).sum().backward()
    assert x.grad is None


def test_linear_equals_the_composition_of_primitive_ops(rng):
    """The handout's formula x @ W.T() + b, built from MatMul, Transpose and Add."""
    layer = make_layer(rng, 6, 4)
    x_data = rng.standard_normal((5, 6))
    g = rng.standard_normal((5, 4))

    x1 = Tensor(x_data.copy(), requires_grad=True)
    out1 = layer(x1)
    out1.backward(g)
    grads1 = [x1.grad.data, layer.weight.grad.data, layer.bias.grad.data]

    x2 = Tensor(x_data.copy(), requires_grad=True)
    W = Tensor(layer.weight.data.copy(), requires_grad=True)
    b = Tensor(layer.bias.data.copy(), requires_grad=True)
    out2 = x2 @ W.T() + b
    out2.backward(g)
    grads2 = [x2.grad.data, W.grad.data, b.grad.data]

    np.testing.assert_allclose(out1.data, out2.data, rtol=1e-13, atol=1e-13)
    for a, c in zip(grads1, grads2):
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("leading", [(5,), (), (2, 3)], ids=["2-D", "1-D", "3-D"])
def test_linear_matches_torch(rng, leading):
    torch = pytest.importorskip("torch")
    layer = make_layer(rng, 6, 4)
    x_data, g = rng.standard_normal(leading + (6,)), rng.standard_normal(leading + (4,))
    x = Tensor(x_data, requires_grad=True)
    out = layer(x)
    out.backward(g)

    tx = torch.tensor(x_data, requires_grad=True)
    tw = torch.tensor(layer.weight.data, requires_grad=True)
    tb = torch.tensor(layer.bias.data, requires_grad=True)
    tout = torch.nn.functional.linear(tx, tw, tb)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    for mine, theirs in ((x, tx), (layer.weight, tw), (layer.bias, tb)):
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
def test_linear_wrong_feature_count_names_layer_and_shapes():
    layer = Linear(784, 20)
    with pytest.raises(ValueError) as info:
        layer(Tensor(np.zeros((100, 783))))
    message = str(info.value)
    assert "Linear(784, 20)" in message
    assert "(*, 784)" in message
    assert "(100, 783)" in message


@pytest.mark.parametrize("shape", [(), (5, 4, 2)])
def test_linear_rejects_a_0d_input_or_a_wrong_last_axis(shape):
    with pytest.raises(ValueError, match=r"\(\*, 3\)"):
        Linear(3, 2)(Tensor(np.zeros(shape)))


@pytest.mark.parametrize("shape", [(3,), (4, 3), (2, 4, 3), (2, 1, 4, 3)])
def test_linear_takes_any_leading_axes_like_torch(rng, shape):
    """Each leading index is a row: the result is the 2-D layer's on the rows, and the
    gradients are the sums over the rows (a hand-written NumPy reference)."""
    layer = Linear(3, 2)
    x = Tensor(rng.standard_normal(shape), requires_grad=True)
    out = layer(x)
    rows = x.data.reshape(-1, 3)
    W, b = layer.weight.data, layer.bias.data
    assert out.shape == shape[:-1] + (2,)
    np.testing.assert_allclose(out.data.reshape(-1, 2), rows @ W.T + b, rtol=1e-14)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    g_rows = g.reshape(-1, 2)
    np.testing.assert_allclose(x.grad.data, (g_rows @ W).reshape(shape), rtol=1e-13)
    np.testing.assert_allclose(layer.weight.grad.data,
                               sum(np.outer(gr, xr) for gr, xr in zip(g_rows, rows)), rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad.data, g_rows.sum(axis=0), rtol=1e-13)


def test_linear_rejects_an_ndarray_input():
    with pytest.raises(TypeError, match="Tensor"):
        Linear(3, 2)(np.zeros((4, 3)))
