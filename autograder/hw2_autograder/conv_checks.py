"""Checks shared by the Conv1d (./grade.sh 2) and Conv2d (./grade.sh 2b) tests.

``check_forward(F.Conv1d, fx)`` calls the Function's forward directly on a fixture
case (x, weight, bias, stride, and PyTorch's output y); ``check_backward(F.Conv1d, fx)``
calls its backward directly on a ctx filled as the given first statements of forward
fill it (``filled_ctx``), with the case's upstream gradient g, and compares the three
gradients with PyTorch's.  Both check that no argument was modified in place, and name
the typical wrong answers (grader_layers.py computes them): a flipped kernel, a
missing bias, the stride ignored, an ignored upstream gradient, swapped kernel axes.
"""
import numpy as np

from autograder.helpers import assert_close, check, to_array
from autograder.hw2_autograder.grader_layers import (ATOL, RTOL, conv_backward,
                                                     conv_backward_stride_ignored, conv_forward,
                                                     output_size)
from autograder.probes import call_backward, call_op, gradient, new_ctx
from mytorch.tensor import Tensor

SHEET = "docs/hw2p1.md#{}"


def inputs(fx):
    """The case's arrays, fresh Tensors of them that require grad, and the stride."""
    arrays = [np.array(fx[name]) for name in ("x", "weight", "bias")]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    return arrays, tensors, int(fx["stride"])


def describe(x, w, stride):
    return "x {}, weight {}, bias ({},), stride {}".format(x.shape, w.shape, w.shape[0], stride)


def check_unchanged(what, pairs):
    """Every (name, Tensor, original array): the Tensor still holds the original."""
    for name, tensor, original in pairs:
        check(np.array_equal(np.asarray(tensor.data), original),
              "{} modified its argument {} in place: leave the inputs (and grad_output) as "
              "they are, the graph may use them again".format(what, name))


def size_hint(got, size, kernel, stride):
    """What a wrong output size along one axis says about the formula, or ''."""
    guesses = [(size - kernel + 1, "the stride is ignored"),
               ((size - kernel) // stride, "one short: the formula needs its + 1 (the first "
                                           "window counts)"),
               ((size - kernel) // stride + 2, "one too many"),
               (-(-(size - kernel) // stride) + 1, "rounded up: a window that would run past "
                                                   "the input's end does not count"),
               (size // stride, "the kernel size is ignored")]
    for value, meaning in guesses:
        if got == value and value != output_size(size, kernel, stride):
            return ": {} (see {})".format(meaning, SHEET.format("shapes"))
    return ""


def shape_hint(got, expected, spatial, kernel, stride):
    """Why an output of shape ``got`` is not ``expected`` (N, C, *out), or ''."""
    if len(got) != len(expected):
        return ""
    if len(spatial) == 2 and tuple(got[2:]) == tuple(expected[2:])[::-1]:
        return ": H and W are swapped (an input is (N, C, H, W); the output (N, C, H_out, " \
               "W_out))"
    for axis, size in enumerate(spatial):
        if got[2 + axis] != expected[2 + axis]:
            return size_hint(got[2 + axis], size, kernel, stride)
    return ""


def check_output_shape(what, out, expected, spatial, kernel, stride, layout):
    got = to_array(out, what + ": output").shape
    check(got == expected.shape, "{}: output of shape {} expected {}, got {}{}".format(
        what, expected.shape, layout, got, shape_hint(got, expected.shape, spatial, kernel,
                                                      stride)))


def check_forward(function, fx):
    (X, W, B), (x, w, b), stride = inputs(fx)
    dims = X.ndim - 2
    name = function.__name__
    what = "{}.forward({})".format(name, describe(X, W, stride))
    out, _ = call_op(function, x, w, b, stride)
    expected = np.asarray(fx["y"])
    check_output_shape(what, out, expected, X.shape[2:], W.shape[-1], stride,
                       "(N, C_out, W_out)" if dims == 1 else "(N, C_out, H_out, W_out)")
    flipped = W[(Ellipsis,) + (slice(None, None, -1),) * dims]
    alternatives = [
        ("the kernel is flipped (a true convolution): PyTorch's {} cross-correlates, reading "
         "weight[o, c, {}] at x[n, c, {}]".format(
             name, "k" if dims == 1 else "a, b",
             "p*stride + k" if dims == 1 else "i*stride + a, j*stride + b"),
         conv_forward(X, flipped, B, stride)),
        ("the stride is ignored: output position p reads x[p*stride + k], not x[p + k]",
         conv_forward(X[(Ellipsis,) + tuple(slice(0, o + W.shape[-1] - 1)
                                            for o in expected.shape[2:])], W, B, 1)),
        ("the bias is missing", conv_forward(X, W, 0 * B, stride)),
        ("the bias is added once per input channel", conv_forward(X, W, X.shape[1] * B, stride))]
    if dims == 2:
        alternatives.append(("the kernel's axes are swapped: weight[o, c, a, b] is row a, "
                             "column b of the window", conv_forward(X, W.swapaxes(2, 3), B,
                                                                    stride)))
    assert_close(out, expected, what + ": output", RTOL, ATOL, alternatives=alternatives)
    check_unchanged(what, [("x", x, X), ("weight", w, W), ("bias", b, B)])


def filled_ctx(x, weight, bias, stride):
    """A ctx as the given first statements of a convolution's forward fill it."""
    ctx = new_ctx([x, weight, bias, stride])
    ctx.save_for_backward(x, weight, bias)
    ctx.stride = stride
    ctx.input_shape = x.shape
    return ctx


def check_backward(function, fx):
    (X, W, B), (x, w, b), stride = inputs(fx)
    dims = X.ndim - 2
    G = np.array(fx["g"])
    name = function.__name__
    what = "{}.backward(ctx, grad_output {}) for {}".format(name, G.shape,
                                                            describe(X, W, stride))
    grad_output = Tensor(G.copy())
    grads = call_backward(function, filled_ctx(x, w, b, stride), grad_output)
    spatial = tuple(range(2, 2 + dims))
    reverse = (Ellipsis,) + (slice(None, None, -1),) * dims
    stride_x, stride_w = conv_backward_stride_ignored(X, W, G)
    flipped_x = conv_backward(X, W[reverse], G, stride)[0]
    ones = conv_backward(X, W, np.ones(G.shape), stride)
    ignored = "the upstream gradient was ignored: multiply by grad_output"
    stride_ignored = ("the stride is ignored: output position p read x[p*stride + k], so its "
                      "gradient goes back there, not to x[p + k]")
    checks = [
        (0, "x", [(stride_ignored, stride_x),
                  ("computed with the kernel flipped: the tap that read x[p*stride + k] sends "
                   "its gradient back through the same weight (written as a full convolution "
                   "of grad_output, the kernel is flipped: see {})".format(
                       SHEET.format("conv1d-backward")), flipped_x), (ignored, ones[0])]),
        (1, "weight", [(stride_ignored, stride_w),
                       ("the kernel taps are in reverse order",
                        np.array(fx["grad.weight"])[reverse]), (ignored, ones[1])]),
        (2, "bias", [("averaged over samples and positions instead of summed",
                      G.mean(axis=(0,) + spatial)), (ignored, ones[2])])]
    for index, label, alternatives in checks:
        got = gradient(grads, index, name, 4)
        expected = np.array(fx["grad." + label])
        got_shape = np.shape(getattr(got, "data", got))
        check(got is None or got_shape == expected.shape,
              "{}: gradient w.r.t. {}: shape {} expected (the shape of {}), got {}{}".format(
                  what, label, expected.shape, label, got_shape,
                  ": sum over the batch and every position" if label == "bias" else ""))
        assert_close(got, expected, "{}: gradient w.r.t. {}".format(what, label), RTOL, ATOL,
                     batch=X.shape[0] if label == "weight" else None, alternatives=alternatives)
    check(len(grads) < 4 or grads[3] is None,
          "{}: the fourth gradient (for stride, not a tensor) should be None, got {!r}"
          .format(what, grads[3]))
    check_unchanged(what, [("x", x, X), ("weight", w, W), ("bias", b, B),
                           ("grad_output", grad_output, G)])
