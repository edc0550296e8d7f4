"""Practice checks: 0 points, reported under their own heading by ./grade.sh 1.

They try what the scored problems do not need but a student soon will:
broadcasting in Sub, Mul and Div (as soon as BatchNorm or cross-entropy is built
from Tensor ops), operators with a number on either side (``2 - a``), and every
other op the library offers: MatMul, Neg, Pow, Exp, Log, Sum and Mean with
axis/keepdims, Transpose, Reshape, Sigmoid, Tanh.  Each check names the op, the
inputs and the value that differs.

Ops are reached the way a student's code reaches them (``a @ b``, ``a.sum(axis=1)``,
``a ** 2``) through the grader's own ``apply`` (autograder/probes.py), then the
recorded op's backward is called directly: no check needs the student's engine,
except Mean, which is a composition of ops and is differentiated by it.
"""
import numpy as np

from autograder.helpers import assert_close, check
from autograder.probes import (backprop, build_array, grader_apply, recorded_backward,
                               sum_to_shape)
from mytorch.nn import functional as F
from mytorch.tensor import Tensor

BROADCASTS = [((5, 3), (3,)), ((3,), (5, 3)), ((5, 3), (1, 3)), ((5, 3), (5, 1)),
              ((5, 1), (1, 3)), ((5, 3), ()), ((), (5, 3))]


def _check_op(what, make, inputs, value, grads, rng):
    """``make(*inputs)`` through the grader's apply: check its output, then run the recorded
    op's backward on a random grad_output and check the gradient of every input that
    requires grad (``grads[i]`` is a function of that grad_output)."""
    with grader_apply() as calls:
        out = make(*inputs)
    check(calls, "{} did not call any Function's apply (so it would not join the graph)"
          .format(what))
    call = calls[-1]
    assert_close(out, value, what + ": output")
    G = rng.normal(size=np.shape(value))
    backward = recorded_backward(call, G)
    for index, tensor in enumerate(inputs):
        if not (isinstance(tensor, Tensor) and tensor.requires_grad):
            continue
        position = [j for j, arg in enumerate(call.args) if arg is tensor]
        check(position, "{}: input {} is not among the arguments of {}.apply"
              .format(what, index, call.function.__name__))
        check(len(backward) > position[0],
              "{}: {}.backward returned {} gradient(s), too few for its {} inputs".format(
                  what, call.function.__name__, len(backward), len(call.args)))
        assert_close(backward[position[0]], grads[index](G),
                     "{}: {}.backward on a random grad_output, gradient w.r.t. input {}"
                     .format(what, call.function.__name__, index))


def _broadcasting(op, symbol, forward, grad_a, grad_b):
    rng = np.random.default_rng({"Sub": 81, "Mul": 82, "Div": 83}[op])
    for a_shape, b_shape in BROADCASTS:
        A, B = rng.normal(size=a_shape), build_array(b_shape, rng, low=0.5)
        a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
        _check_op("a {} b with a {} and b {}".format(symbol, a_shape, b_shape), forward, (a, b),
                  forward(A, B),
                  (lambda G, A=A, B=B: sum_to_shape(grad_a(A, B, G), a_shape),
                   lambda G, A=A, B=B: sum_to_shape(grad_b(A, B, G), b_shape)), rng)


def test_practice_broadcasting_in_sub():
    _broadcasting("Sub", "-", lambda a, b: a - b, lambda A, B, G: G, lambda A, B, G: -G)


def test_practice_broadcasting_in_mul():
    _broadcasting("Mul", "*", lambda a, b: a * b, lambda A, B, G: G * B, lambda A, B, G: G * A)


def test_practice_broadcasting_in_div():
    _broadcasting("Div", "/", lambda a, b: a / b, lambda A, B, G: G / B,
                  lambda A, B, G: -G * A / (B * B))


def test_practice_operators_with_a_number():
    """a + 2, 2 + a, a - 2, 2 - a, a * 2, 2 * a, a / 2, 2 / a: the number becomes a constant."""
    rng = np.random.default_rng(70)
    A = build_array((3, 4), rng, low=0.5)
    cases = [("a + 2", lambda a: a + 2.0, A + 2, lambda G: G),
             ("2 + a", lambda a: 2.0 + a, 2 + A, lambda G: G),
             ("a - 2", lambda a: a - 2.0, A - 2, lambda G: G),
             ("2 - a", lambda a: 2.0 - a, 2 - A, lambda G: -G),
             ("a * 2", lambda a: a * 2.0, A * 2, lambda G: 2 * G),
             ("2 * a", lambda a: 2.0 * a, 2 * A, lambda G: 2 * G),
             ("a / 2", lambda a: a / 2.0, A / 2, lambda G: G / 2),
             ("2 / a", lambda a: 2.0 / a, 2 / A, lambda G: -2 * G / (A * A))]
    for what, make, value, grad in cases:
        _check_op(what, make, (Tensor(A.copy(), requires_grad=True),), value, (grad,), rng)


def test_practice_matmul():
    rng = np.random.default_rng(71)
    for a_shape, b_shape in (((4, 3), (3, 5)), ((1, 6), (6, 2)), ((3,), (3, 4)), ((2, 3), (3,))):
        A, B = rng.normal(size=a_shape), rng.normal(size=b_shape)
        a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)

        def grad_a(G, B=B, A=A):
            return (np.outer(G, B) if B.ndim == 1 else G @ B.T).reshape(A.shape)

        def grad_b(G, A=A, B=B):
            return (np.outer(A, G) if A.ndim == 1 else A.T @ G).reshape(B.shape)
        _check_op("a @ b with a {} and b {}".format(a_shape, b_shape), lambda x, y: x @ y,
                  (a, b), A @ B, (grad_a, grad_b), rng)


def test_practice_neg():
    rng = np.random.default_rng(72)
    A = rng.normal(size=(3, 4))
    _check_op("-a", lambda a: -a, (Tensor(A.copy(), requires_grad=True),), -A,
              (lambda G: -G,), rng)


def test_practice_pow():
    rng = np.random.default_rng(73)
    A = rng.uniform(0.5, 2.0, size=(3, 4))
    for p in (2, 3, 0.5, -1.0):
        _check_op("a ** {}".format(p), lambda a, p=p: a ** p,
                  (Tensor(A.copy(), requires_grad=True),), A ** p,
                  (lambda G, p=p: G * p * A ** (p - 1),), rng)


def test_practice_exp():
    rng = np.random.default_rng(74)
    A = rng.normal(size=(3, 4))
    _check_op("a.exp()", lambda a: a.exp(), (Tensor(A.copy(), requires_grad=True),), np.exp(A),
              (lambda G: G * np.exp(A),), rng)


def test_practice_log():
    rng = np.random.default_rng(75)
    A = rng.uniform(0.5, 2.0, size=(3, 4))
    _check_op("a.log()", lambda a: a.log(), (Tensor(A.copy(), requires_grad=True),), np.log(A),
              (lambda G: G / A,), rng)


def test_practice_sum():
    rng = np.random.default_rng(76)
    A = rng.normal(size=(3, 4))
    for axis in (None, 0, 1):
        for keepdims in (False, True):
            value = A.sum(axis=axis, keepdims=keepdims)

            def grad(G, axis=axis):
                G = np.asarray(G)
                if axis is not None and G.ndim < A.ndim:
                    G = np.expand_dims(G, axis)
                return np.broadcast_to(G, A.shape)
            _check_op("a.sum(axis={}, keepdims={})".format(axis, keepdims),
                      lambda a, axis=axis, keepdims=keepdims: a.sum(axis=axis, keepdims=keepdims),
                      (Tensor(A.copy(), requires_grad=True),), value, (grad,), rng)


def test_practice_mean():
    """Mean is a composition (sum, then divide): it is differentiated by your engine."""
    rng = np.random.default_rng(77)
    A = rng.normal(size=(3, 4))
    for axis in (None, 0, 1):
        for keepdims in (False, True):
            a = Tensor(A.copy(), requires_grad=True)
            what = "a.mean(axis={}, keepdims={})".format(axis, keepdims)
            out = a.mean(axis=axis, keepdims=keepdims)
            value = A.mean(axis=axis, keepdims=keepdims)
            assert_close(out, value, what + ": output")
            R = rng.normal(size=np.shape(value))
            backprop(out, R)
            count = A.size // np.size(value)
            expected = np.broadcast_to(np.expand_dims(R, axis) if axis is not None and not keepdims
                                       else R, A.shape) / count
            assert_close(a.grad, expected, what + ": a.grad after backward from sum(R * mean)",
                         batch=count)


def test_practice_transpose_and_reshape():
    rng = np.random.default_rng(78)
    A = rng.normal(size=(2, 6))
    _check_op("a.T()", lambda a: a.T(), (Tensor(A.copy(), requires_grad=True),), A.T,
              (lambda G: G.T,), rng)
    _check_op("a.reshape(3, 4)", lambda a: a.reshape(3, 4),
              (Tensor(A.copy(), requires_grad=True),), A.reshape(3, 4),
              (lambda G: G.reshape(2, 6),), rng)


def test_practice_sigmoid():
    rng = np.random.default_rng(79)
    A = rng.normal(size=(3, 4)) * 3
    s = 1 / (1 + np.exp(-A))
    _check_op("Sigmoid", lambda a: F.Sigmoid.apply(a), (Tensor(A.copy(), requires_grad=True),),
              s, (lambda G: G * s * (1 - s),), rng)


def test_practice_tanh():
    rng = np.random.default_rng(80)
    A = rng.normal(size=(3, 4)) * 2
    t = np.tanh(A)
    _check_op("Tanh", lambda a: F.Tanh.apply(a), (Tensor(A.copy(), requires_grad=True),), t,
              (lambda G: G * (1 - t * t),), rng)
