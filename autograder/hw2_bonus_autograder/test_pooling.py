"""Bonus: the MaxPool2d and AvgPool2d Functions (mytorch/nn/functional.py), 11 points.

test_maxpool2d_forward_ -> MaxPool2d 1, test_maxpool2d_backward_ -> MaxPool2d 2,
test_avgpool2d_forward_ -> AvgPool2d 1, test_avgpool2d_backward_ -> AvgPool2d 2.

Forward is called directly; backward directly on a ctx filled as the given first
statements of forward fill it (``save_for_backward(x)``, ``ctx.kernel_size``,
``ctx.stride``), so each is graded on its own.  Expected values are PyTorch's
``max_pool2d`` and ``avg_pool2d`` in float64 (fixtures/pooling.npz) on inputs full of
ties (after a ReLU, small integers): max pooling's gradient goes to each window's
first maximum in row-major order, PyTorch's rule.  Windows overlap (stride < kernel),
leave inputs unread (a stride that does not divide, or wider than the kernel), and H
and W differ.
"""
import numpy as np

import mytorch.nn.functional as F
from autograder.helpers import assert_close, check, fixtures_beside
from autograder.hw2_autograder.conv_checks import check_output_shape, check_unchanged
from autograder.hw2_autograder.grader_layers import (ATOL, RTOL, avg_pool, avg_pool_backward,
                                                     max_pool, max_pool_backward)
from autograder.probes import call_backward, call_op, gradient, new_ctx
from mytorch.tensor import Tensor

fixture = fixtures_beside(__file__)
LAYOUT = "(N, C, H_out, W_out)"


def _cases():
    return [str(n) for n in fixture("pooling", "index")["names"]]


def _case(kind, name):
    fx = fixture("pooling", "{}_{}".format(kind, name))
    X = np.array(fx["x"])
    return fx, X, int(fx["kernel"]), int(fx["stride"])


def _describe(function, X, k, s):
    return "{}.forward(x {}, kernel_size {}, stride {})".format(function.__name__, X.shape, k, s)


def _check_forward(function, kind, alternatives):
    for name in _cases():
        fx, X, k, s = _case(kind, name)
        x = Tensor(X.copy(), requires_grad=True)
        what = _describe(function, X, k, s)
        out, _ = call_op(function, x, k, s)
        expected = np.asarray(fx["y"])
        check_output_shape(what, out, expected, X.shape[2:], k, s, LAYOUT)
        assert_close(out, expected, what + ": output", RTOL, ATOL,
                     alternatives=alternatives(X, k, s))
        check_unchanged(what, [("x", x, X)])


def _check_backward(function, kind, alternatives):
    for name in _cases():
        fx, X, k, s = _case(kind, name)
        G = np.array(fx["g"])
        x, grad_output = Tensor(X.copy(), requires_grad=True), Tensor(G.copy())
        ctx = new_ctx([x, k, s])
        ctx.save_for_backward(x)                      # as the given first statements of
        ctx.kernel_size, ctx.stride = k, s            # forward fill the ctx
        what = "{}.backward(ctx, grad_output {}) for x {}, kernel_size {}, stride {}".format(
            function.__name__, G.shape, X.shape, k, s)
        grads = call_backward(function, ctx, grad_output)
        got = gradient(grads, 0, function.__name__, 3)
        assert_close(got, fx["grad.x"], what + ": gradient w.r.t. x", RTOL, ATOL,
                     alternatives=alternatives(X, G, k, s))
        check(all(g is None for g in grads[1:3]),
              "{}: the gradients for kernel_size and stride (not tensors) should be None, got "
              "{!r}".format(what, list(grads[1:3])))
        check_unchanged(what, [("x", x, X), ("grad_output", grad_output, G)])


IGNORED = "the upstream gradient was ignored: multiply by grad_output"
STRIDE_IGNORED = ("the stride is ignored: a window's inputs are those it read, at "
                  "(i*stride + a, j*stride + b)")


# --------------------------------------------------------------------------- #
# MaxPool2d
# --------------------------------------------------------------------------- #
def _max_forward_mistakes(X, k, s):
    return [("the mean of each window: that is average pooling", avg_pool(X, k, s))]


def _max_backward_mistakes(X, G, k, s):
    return [("the gradient went to every tied maximum: it goes to one input only, the "
             "window's first maximum in row-major order (PyTorch's rule; ties are common "
             "after a ReLU)", max_pool_backward(X, G, k, s, ties="all")),
            ("the gradient went to the window's last maximum: with ties it goes to the first "
             "one in row-major order", max_pool_backward(X, G, k, s, ties="last")),
            (IGNORED, max_pool_backward(X, np.ones(G.shape), k, s)),
            ("the gradient was spread over the window as for average pooling",
             avg_pool_backward(X.shape, G, k, s))]


def test_maxpool2d_forward_values():
    _check_forward(F.MaxPool2d, "max", _max_forward_mistakes)


def test_maxpool2d_backward_first_maximum():
    _check_backward(F.MaxPool2d, "max", _max_backward_mistakes)


# --------------------------------------------------------------------------- #
# AvgPool2d
# --------------------------------------------------------------------------- #
def _avg_forward_mistakes(X, k, s):
    mean = avg_pool(X, k, s)
    return [("the maximum of each window: that is max pooling", max_pool(X, k, s)),
            ("the sum of each window: divide it by kernel_size * kernel_size", mean * k * k),
            ("divided by kernel_size: a window holds kernel_size * kernel_size inputs",
             mean * k)]


def _avg_backward_mistakes(X, G, k, s):
    return [("divided by kernel_size: each of the window's kernel_size * kernel_size inputs "
             "gets grad / (kernel_size * kernel_size)", avg_pool_backward(X.shape, G, k, s, k)),
            ("not divided at all: that is the gradient of the window's sum",
             avg_pool_backward(X.shape, G, k, s, 1)),
            (IGNORED, avg_pool_backward(X.shape, np.ones(G.shape), k, s)),
            (STRIDE_IGNORED, _avg_stride_ignored(X.shape, G, k))]


def _avg_stride_ignored(shape, G, k):
    reach = tuple(o + k - 1 for o in G.shape[2:])
    grad = np.zeros(shape)
    grad[:, :, :reach[0], :reach[1]] = avg_pool_backward(shape[:2] + reach, G, k, 1)
    return grad


def test_avgpool2d_forward_values():
    _check_forward(F.AvgPool2d, "avg", _avg_forward_mistakes)


def test_avgpool2d_backward_values():
    _check_backward(F.AvgPool2d, "avg", _avg_backward_mistakes)
