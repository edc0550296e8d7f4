"""Every op's backward vs central finite differences (``mytorch.gradcheck``, float64),
over random shapes and broadcast patterns; and gradcheck's own ability to catch errors."""
import numpy as np
import pytest

import mytorch.nn.functional as F
from mytorch import GradcheckError, Tensor, gradcheck
from mytorch.autograd_engine import Function

SEEDS = range(30)
RTOL = 1e-6


# --------------------------------------------------------------------------- #
# Random problem generators: each returns (fn, inputs) for gradcheck
# --------------------------------------------------------------------------- #
def _shape(rng, min_ndim=0, max_ndim=3):
    return tuple(int(n) for n in rng.integers(1, 5, size=rng.integers(min_ndim, max_ndim + 1)))


def _broadcast_pair(rng):
    """Two shapes that broadcast together: trailing parts of one shape, some axes set to 1."""
    full = _shape(rng)

    def derive():
        shape = list(full[rng.integers(0, len(full) + 1):])
        return tuple(1 if rng.random() < 0.3 else n for n in shape)

    return derive(), derive()


def _leaf(value, rng, may_be_constant=False):
    requires = not (may_be_constant and rng.random() < 0.25)
    return Tensor(np.asarray(value, dtype=np.float64), requires_grad=requires)


def _binary(op, positive_b=False):
    def make(rng):
        sa, sb = _broadcast_pair(rng)
        a = _leaf(rng.standard_normal(sa), rng, may_be_constant=True)
        b_value = rng.uniform(0.5, 2.0, sb) if positive_b else rng.standard_normal(sb)
        # at least one input must require grad
        b = _leaf(b_value, rng, may_be_constant=a.requires_grad)
        return op, (a, b)
    return make


def _unary(op, sample):
    def make(rng):
        return op, (_leaf(sample(rng, _shape(rng)), rng),)
    return make


def _away_from_zero(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, shape)


def _pow(rng):
    p = [2, 3, -1, 0, 1, 0.5, 1.5, -0.5, -2.5, 4][rng.integers(10)]
    shape = _shape(rng)
    if isinstance(p, int) and p >= 0:
        x = rng.standard_normal(shape)
    elif isinstance(p, int):                      # negative integer: keep |x| >= 0.5
        x = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, shape)
    else:
        x = rng.uniform(0.5, 2.0, shape)
    return (lambda t: t ** p), (_leaf(x, rng),)


_MATMUL_CASES = [
    ((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 2, 3), (5, 3, 4)),
]


def _matmul(rng):
    sa, sb = _MATMUL_CASES[rng.integers(len(_MATMUL_CASES))]
    # vary the sizes while keeping the inner dimensions equal
    n = int(rng.integers(1, 5))
    sa = sa[:-1] + (n,)
    sb = sb[:-2] + (n,) + sb[-1:] if len(sb) > 1 else (n,)
    a = _leaf(rng.standard_normal(sa), rng, may_be_constant=True)
    b = _leaf(rng.standard_normal(sb), rng, may_be_constant=a.requires_grad)
    return (lambda x, y: x @ y), (a, b)


def _transpose(rng):
    return (lambda t: t.T()), (_leaf(rng.standard_normal(_shape(rng)), rng),)


def _reshape(rng):
    shape = _shape(rng, 1)
    size = int(np.prod(shape))
    factors = [int(f) for f in rng.permutation(list(shape))]
    target = factors if rng.random() < 0.5 else factors[:-1] + [-1]
    if rng.random() < 0.3:
        target = [size]
    return (lambda t: t.reshape(*target)), (_leaf(rng.standard_normal(shape), rng),)


def _axis(rng, ndim):
    choice = rng.integers(4)
    if choice == 0 or ndim == 0:
        return None
    if choice == 1:
        return int(rng.integers(ndim))
    if choice == 2:
        return -int(rng.integers(1, ndim + 1))
    k = int(rng.integers(1, ndim + 1))
    return tuple(int(a) for a in rng.choice(ndim, size=k, replace=False))


def _reduction(method):
    def make(rng):
        shape = _shape(rng)
        axis, keepdims = _axis(rng, len(shape)), bool(rng.integers(2))
        x = _leaf(rng.standard_normal(shape), rng)
        return (lambda t: getattr(t, method)(axis=axis, keepdims=keepdims)), (x,)
    return make


def _composite(rng):
    n, i, o = (int(k) for k in rng.integers(1, 5, size=3))
    x = _leaf(rng.standard_normal((n, i)), rng)
    w = _leaf(rng.standard_normal((o, i)), rng)
    b = _leaf(rng.standard_normal(o), rng)

    def layer(x, w, b):
        z = x @ w.T() + b
        h = F.Tanh.apply(z) * F.Sigmoid.apply(z) - (z * 0.5).exp() / (1 + z ** 2)
        return (h.sum(axis=1, keepdims=True) * x).mean(axis=0) + (x * x + 1).log().sum()

    return layer, (x, w, b)


PROBLEMS = {
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _binary(lambda a, b: a / b, positive_b=True),
    "Neg": _unary(lambda t: -t, lambda rng, s: rng.standard_normal(s)),
    "Exp": _unary(lambda t: t.exp(), lambda rng, s: rng.uniform(-2.0, 2.0, s)),
    "Log": _unary(lambda t: t.log(), lambda rng, s: rng.uniform(0.5, 3.0, s)),
    "ReLU": _unary(lambda t: F.ReLU.apply(t), _away_from_zero),
    "Sigmoid": _unary(lambda t: F.Sigmoid.apply(t), lambda rng, s: 2 * rng.standard_normal(s)),
    "Tanh": _unary(lambda t: F.Tanh.apply(t), lambda rng, s: rng.standard_normal(s)),
    "Pow": _pow,
    "MatMul": _matmul,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "Sum": _reduction("sum"),
    "Mean": _reduction("mean"),
    "composite": _composite,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", PROBLEMS)
def test_op_gradient_matches_finite_differences(name, seed):
    rng = np.random.default_rng([11785, seed, *name.encode()])
    fn, inputs = PROBLEMS[name](rng)
    assert gradcheck(fn, inputs, rtol=RTOL, seed=seed)


def test_generators_cover_broadcasting_and_constants():
    """Guard against a generator that silently stops exercising broadcasting."""
    broadcast = constant = 0
    for seed in SEEDS:
        rng = np.random.default_rng([11785, seed, *b"Mul"])
        _, (a, b) = PROBLEMS["Mul"](rng)
        broadcast += a.shape != b.shape
        constant += not (a.requires_grad and b.requires_grad)
    assert broadcast >= 10 and constant >= 3


# --------------------------------------------------------------------------- #
# gradcheck itself
# --------------------------------------------------------------------------- #
class SlightlyWrongMul(Function):
    """a * b whose gradient for b is off by 0.1%."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        g = grad_output.data
        return Tensor(g * b.data), Tensor(g * a.data * 1.001)


class MeanInsteadOfSumMul(Function):
    """a * b with b broadcast, whose gradient for b averages (instead of sums) the copies."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        g = grad_output.data
        return Tensor(g * b.data), Tensor((g * a.data).mean(axis=0))


class ForgetsSecondInput(Function):
    """a * b whose backward returns no gradient for b although b requires grad."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return Tensor(grad_output.data * b.data), None


class OneWrongElement(Function):
    """exp(a) whose gradient is wrong in a single element."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return Tensor(np.exp(a.data))

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        grad = grad_output.data * np.exp(a.data)
        grad[1, 2] *= 1.0001
        return Tensor(grad)


def _pair(rng, sb=(3, 4)):
    return (Tensor(rng.standard_normal((3, 4)), requires_grad=True),
            Tensor(rng.standard_normal(sb), requires_grad=True))


def test_gradcheck_catches_slightly_wrong_backward(rng):
    with pytest.raises(GradcheckError) as info:
        gradcheck(SlightlyWrongMul.apply, _pair(rng))
    assert "input 1" in str(info.value)


def test_gradcheck_catches_wrong_broadcast_reduction(rng):
    with pytest.raises(GradcheckError):
        gradcheck(MeanInsteadOfSumMul.apply, _pair(rng, sb=(4,)))


def test_gradcheck_catches_missing_gradient(rng):
    with pytest.raises(GradcheckError):
        gradcheck(ForgetsSecondInput.apply, _pair(rng))


def test_gradcheck_catches_a_single_wrong_element(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(OneWrongElement.apply, x)
    assert "(1, 2)" in str(info.value)


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_rejects_float32_inputs():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert x.data.dtype == np.float32
    with pytest.raises(ValueError, match="float64"):
        gradcheck(lambda t: t * t, x)


def test_gradcheck_requires_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires grad"):
        gradcheck(lambda t: t * t, Tensor(np.ones(3)))


def test_gradcheck_accepts_correct_function_and_restores_inputs(rng):
    a, b = _pair(rng)
    a_before, b_before = a.data.copy(), b.data.copy()
    marker = Tensor(np.full((3, 4), 42.0))
    a.grad = marker
    assert gradcheck(lambda x, y: (x * y).exp().sum(axis=0), (a, b)) is True
    np.testing.assert_array_equal(a.data, a_before)
    np.testing.assert_array_equal(b.data, b_before)
    assert a.grad is marker and b.grad is None


def test_gradcheck_passes_non_tensor_arguments_through(rng):
    x = Tensor(rng.uniform(0.5, 2.0, (2, 3)), requires_grad=True)
    assert gradcheck(lambda t, p: t ** p, (x, 2.5))
