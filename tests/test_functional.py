"""nn/functional.py ops, used directly the handout's way
(``ctx = ContextManager(); out = Op.forward(ctx, ...); grads = Op.backward(ctx, g)``)
and through ``Op.apply``.  Expected values are NumPy formulas / hand-derived derivatives.
"""
import re

import numpy as np
import pytest

import mytorch.nn.functional as F
from mytorch import Tensor
from mytorch.autograd_engine import ContextManager


def _as_tuple(grads):
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def _run(op, *args, grad=None, rng=None):
    """Forward and backward of ``op`` with a hand-made ctx; returns (out, g, grads)."""
    ctx = ContextManager()
    out = op.forward(ctx, *args)
    assert isinstance(out, Tensor)
    if grad is None:
        grad = rng.standard_normal(out.shape)
    grads = _as_tuple(op.backward(ctx, Tensor(grad)))
    assert len(grads) == len(args), "{}.backward must return one gradient per argument".format(
        op.__name__)
    return out.data, grad, grads


def _assert_grad(actual, expected):
    assert isinstance(actual, Tensor)
    assert actual.shape == np.shape(expected)
    np.testing.assert_allclose(actual.data, expected, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- #
# Binary elementwise ops
# --------------------------------------------------------------------------- #
def test_sub_handout_usage(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out, g, (ga, gb) = _run(F.Sub, Tensor(a), Tensor(b), rng=rng)
    np.testing.assert_allclose(out, a - b, rtol=1e-15)
    _assert_grad(ga, g)
    _assert_grad(gb, -g)


def test_add_forward_and_backward(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out, g, (ga, gb) = _run(F.Add, Tensor(a), Tensor(b), rng=rng)
    np.testing.assert_allclose(out, a + b, rtol=1e-15)
    _assert_grad(ga, g)
    _assert_grad(gb, g)


def test_mul_forward_and_backward(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    out, g, (ga, gb) = _run(F.Mul, Tensor(a), Tensor(b), rng=rng)
    np.testing.assert_allclose(out, a * b, rtol=1e-15)
    _assert_grad(ga, g * b)
    _assert_grad(gb, g * a)


def test_div_forward_and_backward(rng):
    a, b = rng.standard_normal((2, 3)), rng.uniform(0.5, 2.0, (2, 3))
    out, g, (ga, gb) = _run(F.Div, Tensor(a), Tensor(b), rng=rng)
    np.testing.assert_allclose(out, a / b, rtol=1e-15)
    _assert_grad(ga, g / b)
    _assert_grad(gb, -g * a / b ** 2)


def test_mul_broadcast_backward_sums_over_copies(rng):
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    out, g, (ga, gb) = _run(F.Mul, Tensor(a), Tensor(b), rng=rng)
    np.testing.assert_allclose(out, a * b, rtol=1e-15)
    _assert_grad(ga, g * b)
    _assert_grad(gb, (g * a).sum(axis=(0, 1)))


def test_div_scalar_denominator_backward(rng):
    a, b = rng.standard_normal(5), np.array(2.5)
    out, g, (ga, gb) = _run(F.Div, Tensor(a), Tensor(b), rng=rng)
    _assert_grad(ga, g / 2.5)
    _assert_grad(gb, np.sum(-g * a / 2.5 ** 2))


# --------------------------------------------------------------------------- #
# Unary ops
# --------------------------------------------------------------------------- #
def test_neg_forward_and_backward(rng):
    a = rng.standard_normal((3, 2))
    out, g, (ga,) = _run(F.Neg, Tensor(a), rng=rng)
    np.testing.assert_array_equal(out, -a)
    _assert_grad(ga, -g)


@pytest.mark.parametrize("p", [2, 3, -1, 0.5, 1.5, -2.5, 1])
def test_pow_forward_and_backward(rng, p):
    a = rng.uniform(0.5, 2.0, (2, 3))
    out, g, (ga, gp) = _run(F.Pow, Tensor(a), p, rng=rng)
    np.testing.assert_allclose(out, a ** p, rtol=1e-14)
    _assert_grad(ga, g * p * a ** (p - 1))
    assert gp is None


def test_pow_zero_exponent_gradient_is_zero_at_zero():
    """d/dx x**0 = 0 everywhere (x**0 is the constant 1), including x = 0 -- not NaN."""
    x = Tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    y = x ** 0
    np.testing.assert_array_equal(y.data, [1.0, 1.0, 1.0])
    with np.errstate(all="ignore"):
        y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


def test_pow_integer_exponent_of_negative_base(rng):
    a = -rng.uniform(0.5, 2.0, 4)
    out, g, (ga, _) = _run(F.Pow, Tensor(a), 3, rng=rng)
    np.testing.assert_allclose(out, a ** 3, rtol=1e-14)
    _assert_grad(ga, 3 * g * a ** 2)


def test_pow_rejects_non_number_exponent():
    with pytest.raises(TypeError, match="exponent"):
        Tensor(np.ones(2)) ** Tensor(np.ones(2))


def test_exp_forward_and_backward(rng):
    a = rng.standard_normal((2, 3))
    out, g, (ga,) = _run(F.Exp, Tensor(a), rng=rng)
    np.testing.assert_allclose(out, np.exp(a), rtol=1e-15)
    _assert_grad(ga, g * np.exp(a))


def test_log_forward_and_backward(rng):
    a = rng.uniform(0.1, 3.0, (2, 3))
    out, g, (ga,) = _run(F.Log, Tensor(a), rng=rng)
    np.testing.assert_allclose(out, np.log(a), rtol=1e-15)
    _assert_grad(ga, g / a)


def test_relu_forward_and_backward():
    a = np.array([[-2.0, 0.0, 3.0], [1e-9, -1e-9, 5.0]])
    g = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out, _, (ga,) = _run(F.ReLU, Tensor(a), grad=g)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 3.0], [1e-9, 0.0, 5.0]])
    _assert_grad(ga, [[0.0, 0.0, 3.0], [4.0, 0.0, 6.0]])     # derivative 0 at z = 0


def test_sigmoid_forward_and_backward(rng):
    a = rng.standard_normal((2, 3)) * 3
    out, g, (ga,) = _run(F.Sigmoid, Tensor(a), rng=rng)
    s = 1.0 / (1.0 + np.exp(-a))
    np.testing.assert_allclose(out, s, rtol=1e-13)
    _assert_grad(ga, g * s * (1 - s))


def test_sigmoid_is_finite_for_large_inputs():
    with np.errstate(over="raise"):
        out, _, (ga,) = _run(F.Sigmoid, Tensor(np.array([-1000.0, 1000.0])),
                             grad=np.ones(2))
    np.testing.assert_array_equal(out, [0.0, 1.0])
    np.testing.assert_array_equal(ga.data, [0.0, 0.0])


def test_tanh_forward_and_backward(rng):
    a = rng.standard_normal((2, 3))
    out, g, (ga,) = _run(F.Tanh, Tensor(a), rng=rng)
    np.testing.assert_allclose(out, np.tanh(a), rtol=1e-15)
    _assert_grad(ga, g * (1 - np.tanh(a) ** 2))


# --------------------------------------------------------------------------- #
# MatMul
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("shape_a, shape_b", [
    ((2, 3), (3, 4)),
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (5, 3, 4)),
])
def test_matmul_forward_and_backward(rng, shape_a, shape_b):
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out, g, (ga, gb) = _run(F.MatMul, Tensor(a), Tensor(b), rng=rng)
    np.testing.assert_allclose(out, np.matmul(a, b), rtol=1e-13)
    # Reference: out = sum_k A[..., i, k] B[..., k, j]; d/dA = sum over j, batch-reduced.
    A = a[None, :] if a.ndim == 1 else a
    B = b[:, None] if b.ndim == 1 else b
    G = np.asarray(g)
    if b.ndim == 1:
        G = G[..., None]
    if a.ndim == 1:
        G = G[..., None, :]
    full_a = np.einsum("...ij,...kj->...ik", G, np.broadcast_to(B, G.shape[:-2] + B.shape[-2:]))
    full_b = np.einsum("...ik,...ij->...kj", np.broadcast_to(A, G.shape[:-2] + A.shape[-2:]), G)

    def reduce_to(full, shape):
        full = full.sum(axis=tuple(range(full.ndim - len(shape))))
        return full.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1 and full.shape[i] != 1),
                        keepdims=True)

    _assert_grad(ga, reduce_to(full_a, A.shape).reshape(shape_a))
    _assert_grad(gb, reduce_to(full_b, B.shape).reshape(shape_b))


def test_matmul_2d_hand_formula(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    out, g, (ga, gb) = _run(F.MatMul, Tensor(a), Tensor(b), rng=rng)
    _assert_grad(ga, g @ b.T)
    _assert_grad(gb, a.T @ g)


@pytest.mark.parametrize("shape_a, shape_b", [((), (3,)), ((2, 3), ()), ((), ())])
def test_matmul_with_a_0d_tensor_says_it_needs_a_dimension(shape_a, shape_b):
    a, b = Tensor(np.ones(shape_a)), Tensor(np.ones(shape_b))
    with pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert message.startswith("MatMul: matmul needs tensors with at least one dimension")
    assert "shapes {} @ {}".format(shape_a, shape_b) in message
    assert "inner dimensions" not in message


def test_matmul_of_mismatched_inner_dimensions_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape(
            "MatMul: cannot multiply shapes (2, 3) @ (4, 5): the inner dimensions must match")):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


# --------------------------------------------------------------------------- #
# Shape ops and Sum
# --------------------------------------------------------------------------- #
def test_transpose_forward_and_backward(rng):
    a = rng.standard_normal((2, 3, 4))
    out, g, (ga,) = _run(F.Transpose, Tensor(a), rng=rng)
    np.testing.assert_array_equal(out, a.T)
    _assert_grad(ga, g.T)


def test_reshape_forward_and_backward(rng):
    a = rng.standard_normal((2, 6))
    out, g, (ga, gshape) = _run(F.Reshape, Tensor(a), (3, -1), rng=rng)
    np.testing.assert_array_equal(out, a.reshape(3, 4))
    _assert_grad(ga, g.reshape(2, 6))
    assert gshape is None


def test_reshape_to_incompatible_size_raises_value_error():
    with pytest.raises(ValueError, match="Reshape"):
        Tensor(np.ones(6)).reshape(4, 2)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False),
                                            (1, True), (-1, False), ((0, 2), False),
                                            ((0, -1), True)])
def test_sum_forward_and_backward(rng, axis, keepdims):
    a = rng.standard_normal((2, 3, 4))
    out, g, (ga, g_axis, g_keep) = _run(F.Sum, Tensor(a), axis, keepdims, rng=rng)
    np.testing.assert_allclose(out, a.sum(axis=axis, keepdims=keepdims), rtol=1e-14)
    # Every summed element receives the gradient of its sum.
    kept = g if keepdims or axis is None else np.expand_dims(g, axis)
    _assert_grad(ga, np.broadcast_to(kept, a.shape))
    assert g_axis is None and g_keep is None


def test_sum_invalid_axis_raises_value_error():
    with pytest.raises(ValueError, match="Sum"):
        Tensor(np.ones((2, 3))).sum(axis=2)


@pytest.mark.parametrize("extra_args", [(), (0,)], ids=["Sum.apply(x)", "Sum.apply(x, 0)"])
def test_sum_apply_with_default_arguments_backprops(extra_args):
    """forward(ctx, a, axis=None, keepdims=False) has defaults, so Sum.apply(x) is a valid
    call; backward must then return one gradient per argument actually passed."""
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    F.Sum.apply(x, *extra_args).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


# --------------------------------------------------------------------------- #
# One gradient per forward argument, through apply
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("op, args", [
    (F.Add, ("x", "c")), (F.Sub, ("c", "x")), (F.Mul, ("x", "c")), (F.Div, ("c", "x")),
    (F.Neg, ("x",)), (F.Pow, ("x", 2)), (F.Exp, ("x",)), (F.Log, ("x",)),
    (F.MatMul, ("x", "c")), (F.Transpose, ("x",)), (F.Reshape, ("x", (4,))),
    (F.Sum, ("x", 0, True)), (F.ReLU, ("x",)), (F.Sigmoid, ("x",)), (F.Tanh, ("x",)),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_apply_records_one_parent_per_argument_and_backprops(op, args):
    x = Tensor(np.full((2, 2), 1.5), requires_grad=True)
    c = Tensor(np.full((2, 2), 2.0))
    actual = [x if a == "x" else c if a == "c" else a for a in args]
    out = op.apply(*actual)
    assert len(out.grad_fn.next_functions) == len(args)
    for arg, parent in zip(actual, out.grad_fn.next_functions):
        assert (parent is None) == (arg is not x)
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == (2, 2)
    assert c.grad is None


@pytest.mark.parametrize("op", [F.Neg, F.Exp, F.Log, F.ReLU, F.Sigmoid, F.Tanh, F.Transpose])
def test_unary_ops_reject_non_tensors(op):
    with pytest.raises(TypeError):
        op.apply(np.ones(2))
