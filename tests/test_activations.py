"""ReLU, Sigmoid and Tanh layers (handout 2.2): values, gradients, extreme inputs."""
import math
import warnings

import numpy as np
import pytest

from mytorch import Tensor, gradcheck
from mytorch.nn.activations import ReLU, Sigmoid, Tanh


def away_from_zero(rng, shape, margin=1e-3):
    """Random values with no element within ``margin`` of 0 (ReLU's kink)."""
    x = rng.standard_normal(shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-300) * (margin + 0.1), x)


def scalar_sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


# Reference values written element by element with the math module, and
# derivatives from the definitions (not from the library).
REFERENCE = {
    "relu": (ReLU, lambda v: v if v > 0 else 0.0, lambda v: 1.0 if v > 0 else 0.0),
    "sigmoid": (Sigmoid, scalar_sigmoid,
                lambda v: scalar_sigmoid(v) * (1.0 - scalar_sigmoid(v))),
    "tanh": (Tanh, math.tanh, lambda v: 1.0 - math.tanh(v) ** 2),
}


def elementwise(fn, x):
    return np.vectorize(fn, otypes=[float])(x)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values_match_the_definition(name, rng):
    layer_cls, f, _ = REFERENCE[name]
    x = away_from_zero(rng, (4, 6)) * 3
    out = layer_cls()(Tensor(x))
    assert out.shape == x.shape
    np.testing.assert_allclose(out.data, elementwise(f, x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_gradient_passes_gradcheck(name, rng):
    layer_cls, _, _ = REFERENCE[name]
    x = Tensor(away_from_zero(rng, (3, 5)) * 2, requires_grad=True)
    assert gradcheck(layer_cls(), x)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_gradient_matches_the_derivative(name, rng):
    layer_cls, _, df = REFERENCE[name]
    x_data = away_from_zero(rng, (3, 5)) * 2
    g = rng.standard_normal((3, 5))
    x = Tensor(x_data, requires_grad=True)
    layer_cls()(x).backward(g)
    np.testing.assert_allclose(x.grad.data, g * elementwise(df, x_data), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_works_on_any_shape(name, rng):
    layer_cls, f, df = REFERENCE[name]
    for shape in [(), (7,), (2, 3, 4)]:
        x_data = away_from_zero(rng, shape)
        x = Tensor(x_data, requires_grad=True)
        out = layer_cls()(x)
        out.backward(np.ones(shape))
        np.testing.assert_allclose(out.data, elementwise(f, x_data), rtol=1e-12)
        np.testing.assert_allclose(x.grad.data, elementwise(df, x_data), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_layers_have_no_parameters_and_leave_the_input_alone(name, rng):
    layer_cls, _, _ = REFERENCE[name]
    layer = layer_cls()
    assert layer.parameters() == []
    x_data = rng.standard_normal((3, 3))
    before = x_data.copy()
    layer(Tensor(x_data))
    np.testing.assert_array_equal(x_data, before)


def test_relu_derivative_at_zero_is_zero():
    # handout 2.2: ReLU'(z) = 0 for z <= 0
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    out = ReLU()(x)
    out.backward(np.array([5.0, 5.0, 5.0]))
    np.testing.assert_array_equal(out.data, [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 5.0])


@pytest.mark.parametrize("layer_cls", [Sigmoid, Tanh])
def test_saturating_activations_are_finite_and_warning_free_at_plus_minus_1000(layer_cls):
    x = Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                  # overflow in exp would warn
        out = layer_cls()(x)
        out.backward(np.ones(5))
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(x.grad.data))
    low = 0.0 if layer_cls is Sigmoid else -1.0
    np.testing.assert_allclose(out.data[[0, -1]], [low, 1.0], atol=1e-300)
    np.testing.assert_allclose(x.grad.data[[0, -1]], [0.0, 0.0], atol=1e-300)
    middle = 0.5 if layer_cls is Sigmoid else 0.0
    np.testing.assert_allclose(out.data[2], middle, atol=1e-15)


def test_sigmoid_keeps_relative_precision_for_large_negative_inputs():
    # sigmoid(x) = e^x / (1 + e^x) is a representable, non-zero float64 down to
    # x ~ -745, and so is its derivative s * (1 - s).  A formula that computes
    # 1 - (something close to 1) loses it: 0.5 * (1 + tanh(x / 2)) is off by
    # 2e-4 (relative) at x = -30 and returns exactly 0 below x ~ -37.
    x_data = np.array([-700.0, -100.0, -40.0, -30.0, -20.0, 20.0, 30.0])
    expected = np.array([scalar_sigmoid(v) for v in x_data])
    assert np.all(expected > 0)
    x = Tensor(x_data, requires_grad=True)
    out = Sigmoid()(x)
    out.backward(np.ones(x_data.shape))
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, expected * (1.0 - expected), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_matches_torch(name, rng):
    torch = pytest.importorskip("torch")
    layer_cls, _, _ = REFERENCE[name]
    torch_fn = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}[name]
    x_data = away_from_zero(rng, (4, 5)) * 3
    g = rng.standard_normal((4, 5))
    x = Tensor(x_data, requires_grad=True)
    out = layer_cls()(x)
    out.backward(g)
    tx = torch.tensor(x_data, requires_grad=True)
    tout = torch_fn(tx)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)
