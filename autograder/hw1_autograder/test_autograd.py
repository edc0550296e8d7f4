"""Problems 1.1 (basic operations) and 1.2 (autograd).

Each test is a plain function: ``python -m pytest autograder/hw1_autograder/test_autograd.py``
runs them, and runner.py scores them (the test name's prefix names the problem:
test_add_ -> 1.1.0, test_sub_ -> 1.1.1, test_mul_ -> 1.1.2, test_div_ -> 1.1.3,
test_autograd_ -> 1.2).  Expected values are NumPy formulas, and for the last
graph the values PyTorch computed (fixtures/autograd.npz).

The Problem 1.2 tests use only Add, Mul and the given Reshape, Transpose and
Log, so a wrong Sub or Div costs its own problem only.
"""
import numpy as np

import mytorch.nn.functional as F
from autograder.helpers import (EXACT_ATOL, EXACT_RTOL, assert_close, assert_flags,
                                assert_no_grad, check, fixture)
from mytorch.autograd_engine import AccumulateGrad, ContextManager
from mytorch.tensor import Tensor

# op name -> (Python operator, forward, d out/d a times g, d out/d b times g)
OPS = {
    "Add": (lambda a, b: a + b, np.add, lambda a, b, g: g, lambda a, b, g: g),
    "Sub": (lambda a, b: a - b, np.subtract, lambda a, b, g: g, lambda a, b, g: -g),
    "Mul": (lambda a, b: a * b, np.multiply, lambda a, b, g: g * b, lambda a, b, g: g * a),
    "Div": (lambda a, b: a / b, np.divide, lambda a, b, g: g / b,
            lambda a, b, g: -g * a / (b * b)),
}
SYMBOL = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/"}


def _operands(seed, shape=(3, 4)):
    """a, b, g as arrays; b stays away from 0 so a / b is tame."""
    rng = np.random.default_rng(seed)
    a, g = rng.normal(size=shape), rng.normal(size=shape)
    b = rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    return a, b, g


def _check_functions(op, seed):
    """F.<op>.forward(ctx, a, b), then F.<op>.backward(ctx, Tensor(g)), as the handout shows."""
    _, forward, grad_a, grad_b = OPS[op]
    A, B, G = _operands(seed)
    function = getattr(F, op)
    ctx = ContextManager()
    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    out = function.forward(ctx, a, b)
    assert_close(out, forward(A, B), "{}.forward(ctx, a, b)".format(op), EXACT_RTOL, EXACT_ATOL)
    grads = function.backward(ctx, Tensor(G.copy()))
    check(isinstance(grads, (tuple, list)) and len(grads) == 2,
          "{}.backward(ctx, grad_output) should return two gradients (for a and b), got {!r}"
          .format(op, grads))
    assert_close(grads[0], grad_a(A, B, G), "{}.backward: gradient w.r.t. a".format(op),
                 EXACT_RTOL, EXACT_ATOL)
    assert_close(grads[1], grad_b(A, B, G), "{}.backward: gradient w.r.t. b".format(op),
                 EXACT_RTOL, EXACT_ATOL)


def _check_operator(op, seed):
    """``a <op> b`` records the op: flags, value, and backward() into a.grad and b.grad;
    with a constant on either side only the other operand gets a gradient."""
    operator, forward, grad_a, grad_b = OPS[op]
    A, B, _ = _operands(seed)
    ones = np.ones_like(A)
    expr = "a {} b".format(SYMBOL[op])

    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    c = operator(a, b)
    assert_close(c, forward(A, B), expr, EXACT_RTOL, EXACT_ATOL)
    assert_flags(c, "c = " + expr, requires_grad=True, is_leaf=False)
    c.backward()
    assert_close(a.grad, grad_a(A, B, ones), "a.grad after ({}).backward()".format(expr),
                 EXACT_RTOL, EXACT_ATOL)
    assert_close(b.grad, grad_b(A, B, ones), "b.grad after ({}).backward()".format(expr),
                 EXACT_RTOL, EXACT_ATOL)
    assert_no_grad(c, "c = " + expr, "c is not a leaf")

    a, k = Tensor(A.copy(), requires_grad=True), Tensor(B.copy())
    operator(a, k).backward()
    assert_close(a.grad, grad_a(A, B, ones), "a.grad after (a {} constant).backward()"
                 .format(SYMBOL[op]), EXACT_RTOL, EXACT_ATOL)
    assert_no_grad(k, "constant", "it does not require grad")

    k, b = Tensor(A.copy()), Tensor(B.copy(), requires_grad=True)
    operator(k, b).backward()
    assert_close(b.grad, grad_b(A, B, ones), "b.grad after (constant {} b).backward()"
                 .format(SYMBOL[op]), EXACT_RTOL, EXACT_ATOL)
    assert_no_grad(k, "constant", "it does not require grad")


# --------------------------------------------------------------------------- #
# 1.1.0 Addition (given)   1.1.1 Subtraction   1.1.2 Multiplication   1.1.3 Division
# --------------------------------------------------------------------------- #
def test_add_functions():
    _check_functions("Add", 10)


def test_add_operator_and_backward():
    _check_operator("Add", 11)


def test_sub_functions():
    _check_functions("Sub", 20)


def test_sub_operator_and_backward():
    _check_operator("Sub", 21)


def test_mul_functions():
    _check_functions("Mul", 30)


def test_mul_operator_and_backward():
    _check_operator("Mul", 31)


def test_div_functions():
    _check_functions("Div", 40)


def test_div_operator_and_backward():
    _check_operator("Div", 41)


# --------------------------------------------------------------------------- #
# 1.2 Autograd
# --------------------------------------------------------------------------- #
def test_autograd_handout_worked_example():
    """Handout 0.1.4-0.1.7: d = a*b + a; e = (d + c) + 3 with b and 3 constants."""
    a = Tensor(1., requires_grad=True)
    b = Tensor(2.)
    c = Tensor(3., requires_grad=True)
    d = a * b + a
    e = (d + c) + Tensor(3.)
    assert_close(e, 9.0, "e", scalar=True)
    assert_flags(d, "d", requires_grad=True, is_leaf=False)
    assert_flags(e, "e", requires_grad=True, is_leaf=False)
    e.backward()
    assert_close(a.grad, 3.0, "a.grad (de/da = b + 1)", scalar=True)
    assert_close(c.grad, 1.0, "c.grad (de/dc)", scalar=True)
    assert_no_grad(b, "b", "b does not require grad")
    assert_no_grad(d, "d", "only leaf tensors store gradients")
    assert_flags(a, "a after backward", requires_grad=True, is_leaf=True)


def test_autograd_accumulate_grad_node_adds_up():
    """Handout step 8: AccumulateGrad.apply stores the first gradient, then adds with +=."""
    a = Tensor(np.zeros((2, 3)), requires_grad=True)
    node = AccumulateGrad(a)
    first, second = np.arange(6.).reshape(2, 3), np.full((2, 3), 0.5)
    node.apply(Tensor(first.copy()))
    assert_close(a.grad, first, "a.grad after one AccumulateGrad.apply")
    node.apply(Tensor(second.copy()))
    assert_close(a.grad, first + second, "a.grad after a second AccumulateGrad.apply (+=)")


def test_autograd_gradients_accumulate_across_backward_calls():
    """Two backward() calls without zeroing add up in .grad (as in PyTorch)."""
    rng = np.random.default_rng(50)
    X, W = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x, w = Tensor(X.copy(), requires_grad=True), Tensor(W.copy())
    (x * w).backward()
    assert_close(x.grad, W, "x.grad after one backward()")
    (x * w).backward()
    assert_close(x.grad, 2 * W, "x.grad after a second backward() (gradients accumulate)")


def test_autograd_shared_subexpressions():
    """Generalized chain rule (handout 0.1.6): every path into a tensor adds to its gradient."""
    rng = np.random.default_rng(51)
    X = rng.normal(size=(3, 4))
    x = Tensor(X.copy(), requires_grad=True)
    y = x * x
    z = y * x + y                                   # x**3 + x**2
    z.backward()
    assert_close(x.grad, 3 * X ** 2 + 2 * X, "x.grad for z = x*x*x + x*x")

    A, B = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    u = a * b
    v = u + u
    w = v * a                                       # 2 a**2 b
    w.backward()
    assert_close(a.grad, 4 * A * B, "a.grad for w = (a*b + a*b) * a")
    assert_close(b.grad, 2 * A * A, "b.grad for w = (a*b + a*b) * a")


def test_autograd_constants_and_requires_grad_flags():
    """Appendix A: which tensors require grad, which are leaves, and who stores a gradient."""
    rng = np.random.default_rng(52)
    X, K1, K2 = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    k1, k2 = Tensor(K1.copy()), Tensor(K2.copy())
    assert_flags(k1, "Tensor(data)", requires_grad=False, is_leaf=True, is_parameter=False)
    p = k1 * k2
    assert_flags(p, "product of two constants", requires_grad=False, is_leaf=True)
    assert_close(p, K1 * K2, "product of two constants", EXACT_RTOL, EXACT_ATOL)

    x = Tensor(X.copy(), requires_grad=True)
    assert_flags(x, "Tensor(data, requires_grad=True)", requires_grad=True, is_leaf=True,
                 is_parameter=False)
    q = x * k1 + k2
    assert_flags(q, "x * k1 + k2", requires_grad=True, is_leaf=False)
    q.backward()
    assert_close(x.grad, K1, "x.grad for q = x * k1 + k2")
    assert_no_grad(k1, "k1", "a constant")
    assert_no_grad(k2, "k2", "a constant")
    assert_no_grad(p, "k1 * k2", "no input requires grad")


def test_autograd_reshape_transpose_log():
    """The given Reshape, Transpose and Log inside a graph."""
    rng = np.random.default_rng(53)
    X, W = rng.normal(size=(2, 6)), rng.normal(size=(3, 4))
    x, w = Tensor(X.copy(), requires_grad=True), Tensor(W.copy(), requires_grad=True)
    y = x.reshape(3, 4) * w
    assert_close(y, X.reshape(3, 4) * W, "x.reshape(3, 4) * w")
    z = (y.T() * y.T()).log()                      # log(y**2), shape (4, 3)
    assert_close(z, np.log((X.reshape(3, 4) * W) ** 2).T, "log(y.T() * y.T())")
    z.backward()
    # d log(y**2) / dy = 2 / y
    assert_close(x.grad, (2 / (X.reshape(3, 4) * W) * W).reshape(2, 6), "x.grad")
    assert_close(w.grad, 2 / (X.reshape(3, 4) * W) * X.reshape(3, 4), "w.grad")


def test_autograd_graph_matches_pytorch():
    """out = log(((a*b + a).T() * c).reshape(2, 6) ** 2 + k): values and grads from PyTorch."""
    fx = fixture("autograd", "graph")
    a = Tensor(fx["a"].copy(), requires_grad=True)
    b = Tensor(fx["b"].copy(), requires_grad=True)
    c, k = Tensor(fx["c"].copy()), Tensor(fx["k"].copy())
    w = (a * b + a).T() * c
    z = w.reshape(2, 6)
    out = (z * z + k).log()
    assert_close(out, fx["out"], "out")
    out.backward()
    assert_close(a.grad, fx["grad.a"], "a.grad")
    assert_close(b.grad, fx["grad.b"], "b.grad")
    assert_no_grad(c, "c", "a constant")
