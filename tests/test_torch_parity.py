"""Forward values and gradients vs PyTorch (float64) as an oracle.  Skipped without torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import mytorch.nn.functional as F  # noqa: E402
from mytorch import Tensor  # noqa: E402

RTOL, ATOL = 1e-10, 1e-12


def _pair(value):
    """The same float64 leaf in both libraries."""
    value = np.asarray(value, dtype=np.float64)
    return (Tensor(value.copy(), requires_grad=True),
            torch.tensor(value, dtype=torch.float64, requires_grad=True))


def _close(actual, expected):
    if isinstance(actual, Tensor):
        actual = actual.data
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def _compare(my_fn, torch_fn, values, rng, seed_kind="random"):
    """Run both, backprop the same seed, compare outputs and every input's gradient."""
    pairs = [_pair(v) for v in values]
    mine = my_fn(*[p[0] for p in pairs])
    theirs = torch_fn(*[p[1] for p in pairs])
    _close(mine, theirs)
    seed = rng.standard_normal(mine.shape) if seed_kind == "random" else np.ones(mine.shape)
    mine.backward(seed)
    theirs.backward(torch.tensor(seed, dtype=torch.float64))
    for my_leaf, torch_leaf in pairs:
        _close(my_leaf.grad, torch_leaf.grad)


BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 4)),
    ((), (5,)),
    ((5,), ()),
    ((2, 1, 4), (3, 1)),
    ((1,), (2, 3)),
]

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("shape_a, shape_b", BROADCAST_SHAPES)
def test_binary_ops_with_broadcasting(rng, op, shape_a, shape_b):
    a = rng.standard_normal(shape_a)
    b = rng.uniform(0.5, 2.0, shape_b) * rng.choice([-1.0, 1.0], shape_b)
    _compare(BINARY[op], BINARY[op], [a, b], rng)


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("other", [2.5, np.array([0.5, -1.5, 3.0])], ids=["number", "ndarray"])
def test_binary_ops_with_non_tensor_on_either_side(rng, op, other):
    value = rng.uniform(0.5, 2.0, (2, 3))
    torch_other = other if np.isscalar(other) else torch.tensor(other, dtype=torch.float64)
    fn = BINARY[op]
    _compare(lambda x: fn(x, other), lambda x: fn(x, torch_other), [value], rng)
    _compare(lambda x: fn(other, x), lambda x: fn(torch_other, x), [value], rng)


def _reverse_axes(t):
    return t.permute(*reversed(range(t.ndim)))


UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "exp": (lambda x: x.exp(), torch.exp),
    "log": (lambda x: x.log(), torch.log),
    "relu": (lambda x: F.ReLU.apply(x), torch.relu),
    "sigmoid": (lambda x: F.Sigmoid.apply(x), torch.sigmoid),
    "tanh": (lambda x: F.Tanh.apply(x), torch.tanh),
    "transpose": (lambda x: x.T(), _reverse_axes),
    "reshape": (lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1)),
}


@pytest.mark.parametrize("op", UNARY)
@pytest.mark.parametrize("shape", [(2, 6), (2, 3, 4), (12,)])
def test_unary_ops(rng, op, shape):
    value = rng.standard_normal(shape)
    if op == "log":
        value = np.abs(value) + 0.1
    _compare(*UNARY[op], [value], rng)


@pytest.mark.parametrize("p", [2, 3, -1, 0, 1, 0.5, 1.5, -2.5])
def test_pow(rng, p):
    value = rng.uniform(0.3, 2.0, (3, 4))
    _compare(lambda x: x ** p, lambda x: x ** p, [value], rng)


def test_pow_integer_exponent_of_negative_base(rng):
    value = -rng.uniform(0.3, 2.0, (3, 4))
    _compare(lambda x: x ** 3, lambda x: x ** 3, [value], rng)


@pytest.mark.parametrize("shape_a, shape_b", [
    ((3,), (3,)),
    ((3,), (3, 4)),
    ((2, 3), (3,)),
    ((2, 3), (3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 1, 2, 3), (5, 3, 4)),
])
def test_matmul_variants(rng, shape_a, shape_b):
    values = [rng.standard_normal(shape_a), rng.standard_normal(shape_b)]
    _compare(lambda a, b: a @ b, lambda a, b: a @ b, values, rng)


def test_matmul_with_transposed_weight(rng):
    values = [rng.standard_normal((4, 3)), rng.standard_normal((5, 3))]
    _compare(lambda x, w: x @ w.T(), lambda x, w: x @ w.T, values, rng)


def _torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


@pytest.mark.parametrize("method", ["sum", "mean"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (-1, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean_with_axes(rng, method, axis, keepdims):
    value = rng.standard_normal((2, 3, 4))
    _compare(lambda x: getattr(x, method)(axis=axis, keepdims=keepdims),
             lambda x: getattr(x, method)(dim=_torch_dims(axis, 3), keepdim=keepdims),
             [value], rng)


def test_composite_graph(rng):
    """The sandbox's layer plus more ops; x, w and b each reach the loss along many paths."""
    values = [rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)]

    def mine(x, w, b):
        z = x @ w.T() + b
        h = F.ReLU.apply(z) ** 2 / 3 - x.sum(axis=1, keepdims=True).exp()
        h = h * F.Sigmoid.apply(z) + F.Tanh.apply(z) - (x * x + 1).log().mean(axis=1, keepdims=True)
        return (h.T().reshape(-1) * 2 - 1 / (1 + z.reshape(8) ** 2)).mean()

    def theirs(x, w, b):
        z = x @ w.T + b
        h = torch.relu(z) ** 2 / 3 - x.sum(dim=1, keepdim=True).exp()
        h = h * torch.sigmoid(z) + torch.tanh(z) - (x * x + 1).log().mean(dim=1, keepdim=True)
        return (h.T.reshape(-1) * 2 - 1 / (1 + z.reshape(8) ** 2)).mean()

    _compare(mine, theirs, values, rng, seed_kind="ones")


def test_gradients_accumulate_like_torch(rng):
    value = rng.standard_normal(3)
    x_mine, x_torch = _pair(value)
    for fn in (lambda x: (x * x).sum(), lambda x: (x.exp() * x).sum()):
        fn(x_mine).backward()
        fn(x_torch).backward()
    _close(x_mine.grad, x_torch.grad)


def test_handout_worked_example():
    """Section 0.1.7: the handout's own check against torch."""
    results = {}
    for lib, make in (("mytorch", lambda v, g: Tensor(v, requires_grad=g)),
                      ("torch", lambda v, g: torch.tensor(v, dtype=torch.float64,
                                                          requires_grad=g))):
        a, b, c = make(1.0, True), make(2.0, False), make(3.0, True)
        d = a + a * b
        e = (d + c) + 3
        e.backward()
        results[lib] = (e, a.grad, b.grad, c.grad)
    (e1, a1, b1, c1), (e2, a2, b2, c2) = results["mytorch"], results["torch"]
    _close(e1, e2)
    _close(a1, a2)
    _close(c1, c2)
    assert b1 is None and b2 is None
    assert float(e1.data) == 9.0 and float(a1.data) == 3.0 and float(c1.data) == 1.0
