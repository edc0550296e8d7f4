"""Convolution and pooling the HW2 graders own, so a test runs only its own problem's code.

- ``conv_forward``, ``conv_backward``, ``max_pool``, ``avg_pool`` (and their backward):
  plain NumPy references, a loop over the kernel taps, for 1-D and 2-D inputs alike.
  The expected values of the tests are PyTorch's (the fixtures); these compute the
  typical wrong answers a ``pattern:`` names (a flipped kernel, the stride ignored,
  every tied maximum) and run the grader's own layers.
- ``Conv1dFunction``, ``FlattenFunction``: grader-owned Functions on those references.
  They follow the handout's conventions (Tensor arguments only, output flagged in
  forward), so any engine written to the handout runs them.
- ``run_on_grader_layers(layers)``: the student's Conv1d and Flatten layers among
  ``layers`` run on those Functions instead of the student's F.Conv1d and
  Flatten.forward, and ``grader_output_size()`` stands in for the student's
  ``get_conv1d_output_size``: 2.1, 2.2 and 3 (and the bonus CNN's Flatten) use them, so
  a mistake in 1.1 or 1.2 costs none of those problems.

This module imports the student's mytorch (the engine's Function, the Tensor): the
grader re-imports it in each child process after choosing where mytorch comes from.
"""
import contextlib
import sys

import numpy as np

from autograder.helpers import CheckFailure
from autograder.probes import constant, flagged
from mytorch.autograd_engine import Function
from mytorch.tensor import Tensor


# The course's tolerance: every correct order of summation passes, and every mistake in
# the catalogue (tests/test_grader_hw2.py) is off by far more.
RTOL, ATOL = 1e-5, 1e-8


def output_size(size, kernel_size, stride):
    """The width of a window layer's output with no padding: (size - kernel) // stride + 1."""
    return (int(size) - int(kernel_size)) // int(stride) + 1


def _taps(shape, kernel_size, stride):
    """[(tap, where)] for an input of ``shape`` (N, C, *spatial): ``where`` slices, out of
    the input, the elements that kernel tap ``tap`` reads at every output position."""
    out = [output_size(n, kernel_size, stride) for n in shape[2:]]
    taps = []
    for tap in np.ndindex(*((kernel_size,) * len(out))):
        where = (slice(None), slice(None)) + tuple(
            slice(k, k + stride * (o - 1) + 1, stride) for k, o in zip(tap, out))
        taps.append((tap, where))
    return taps


# --------------------------------------------------------------------------- #
# NumPy references
# --------------------------------------------------------------------------- #
def conv_forward(x, w, b, stride):
    """out[n, o, *p] = b[o] + sum over c and the taps k of w[o, c, *k] x[n, c, *(p s + k)]."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    dims = x.ndim - 2
    out = None
    for tap, where in _taps(x.shape, w.shape[-1], stride):
        share = np.tensordot(w[(slice(None), slice(None)) + tap], x[where], axes=([1], [1]))
        out = share if out is None else out + share                # (C_out, N, *out)
    return np.moveaxis(out, 0, 1) + np.asarray(b, dtype=np.float64).reshape((-1,) + (1,) * dims)


def conv_backward(x, w, g, stride):
    """(grad_x, grad_w, grad_b) of ``conv_forward`` for the upstream gradient ``g``."""
    x, w, g = (np.asarray(a, dtype=np.float64) for a in (x, w, g))
    spatial = tuple(range(2, x.ndim))
    grad_x, grad_w = np.zeros(x.shape), np.zeros(w.shape)
    for tap, where in _taps(x.shape, w.shape[-1], stride):
        kernel = (slice(None), slice(None)) + tap
        grad_w[kernel] = np.tensordot(g, x[where], axes=((0,) + spatial, (0,) + spatial))
        grad_x[where] += np.moveaxis(np.tensordot(w[kernel], g, axes=([0], [1])), 0, 1)
    return grad_x, grad_w, g.sum(axis=(0,) + spatial)


def conv_backward_stride_ignored(x, w, g):
    """(grad_x, grad_w) as if output position p had read x[p + k] rather than
    x[p * stride + k]: the typical "stride ignored in backward"."""
    x = np.asarray(x, dtype=np.float64)
    reach = tuple(o + w.shape[-1] - 1 for o in np.shape(g)[2:])
    window = (slice(None), slice(None)) + tuple(slice(0, r) for r in reach)
    grad_x, grad_w, _ = conv_backward(x[window], w, g, 1)
    padded = np.zeros(x.shape)
    padded[window] = grad_x
    return padded, grad_w


def _window_values(x, kernel_size, stride):
    return [x[where] for _, where in _taps(x.shape, kernel_size, stride)]


def max_pool(x, kernel_size, stride):
    """The maximum of each window of x (N, C, H, W)."""
    return np.max(np.stack(_window_values(np.asarray(x, dtype=np.float64), kernel_size,
                                          stride)), axis=0)


def max_pool_backward(x, g, kernel_size, stride, ties="first"):
    """The input's gradient of max pooling: each output's gradient goes to its window's
    first maximum in row-major order (``ties="first"``, PyTorch's rule), to the last one
    (``"last"``) or to every tied one (``"all"``: a typical mistake)."""
    x = np.asarray(x, dtype=np.float64)
    taps = _taps(x.shape, kernel_size, stride)
    best = max_pool(x, kernel_size, stride)
    grad_x, unclaimed = np.zeros(x.shape), np.ones(best.shape, dtype=bool)
    for _, where in (taps if ties != "last" else taps[::-1]):
        hit = x[where] == best
        if ties != "all":
            hit &= unclaimed
            unclaimed &= ~hit
        grad_x[where] += np.where(hit, g, 0.0)
    return grad_x


def avg_pool(x, kernel_size, stride):
    """The mean of each window of x (N, C, H, W)."""
    return np.mean(np.stack(_window_values(np.asarray(x, dtype=np.float64), kernel_size,
                                           stride)), axis=0)


def avg_pool_backward(x_shape, g, kernel_size, stride, count=None):
    """The input's gradient of average pooling: each input of a window receives the
    output's gradient divided by ``count`` (default kernel_size ** 2, the window's size)."""
    count = kernel_size * kernel_size if count is None else count
    grad_x = np.zeros(x_shape)
    for _, where in _taps(x_shape, kernel_size, stride):
        grad_x[where] += np.asarray(g, dtype=np.float64) / count
    return grad_x


# --------------------------------------------------------------------------- #
# Grader-owned Functions
# --------------------------------------------------------------------------- #
def _data(t):
    return np.asarray(t.data, dtype=np.float64)


class Conv1dFunction(Function):
    """The grader's 1-D convolution: x, weight, bias and a constant Tensor stride."""

    @staticmethod
    def forward(ctx, x, weight, bias, stride):
        ctx.stride = int(_data(stride))
        ctx.x, ctx.weight = _data(x), _data(weight)
        return flagged(conv_forward(ctx.x, ctx.weight, _data(bias), ctx.stride), x, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        grad_x, grad_w, grad_b = conv_backward(ctx.x, ctx.weight, _data(grad_output), ctx.stride)
        return Tensor(grad_x), Tensor(grad_w), Tensor(grad_b), None


class FlattenFunction(Function):
    """The grader's Flatten: (N, d1, d2, ...) -> (N, d1 * d2 * ...) in C order."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return flagged(_data(x).reshape(x.shape[0], -1), x)

    @staticmethod
    def backward(ctx, grad_output):
        return (Tensor(_data(grad_output).reshape(ctx.shape)),)


def _conv1d_forward(layer, label):
    """A forward for the student's Conv1d layer ``layer`` that runs Conv1dFunction, with a
    clear message when its weight does not fit the input."""
    def forward(x):
        weight, shape = layer.weight, tuple(np.shape(x.data))
        described = "{} ({!r})".format(label, layer)
        if np.ndim(weight.data) != 3:
            raise CheckFailure("{}: its weight should have shape (out_channel, in_channel, "
                               "kernel_size), got {}".format(described, weight.shape))
        if len(shape) != 3 or shape[1] != weight.shape[1]:
            raise CheckFailure("{} received an input of shape {}, but its weight {} reads {} "
                               "channels (N, {}, W): check the layers before it and their "
                               "weights".format(described, shape, weight.shape,
                                                weight.shape[1], weight.shape[1]))
        if shape[2] < weight.shape[2]:
            raise CheckFailure("{} received an input of width {}, narrower than its kernel "
                               "({}): check the kernel sizes and strides before it"
                               .format(described, shape[2], weight.shape[2]))
        return Conv1dFunction.apply(x, weight, layer.bias, constant(layer.stride))
    return forward


def _flatten_forward(x):
    return FlattenFunction.apply(x)


def run_on_grader_layers(layers, names=None):
    """Make every Conv1d and Flatten layer among ``layers`` (the student's instances) run
    on the grader's Functions; ``names``: how messages name each layer (default
    "layers[i]").  The layers keep their parameters: only their forward changes."""
    from mytorch.nn.conv import Conv1d, Flatten
    for index, layer in enumerate(layers):
        label = names[index] if names else "layers[{}]".format(index)
        if isinstance(layer, Conv1d):
            layer.forward = _conv1d_forward(layer, label)
        elif isinstance(layer, Flatten):
            layer.forward = _flatten_forward
    return layers


@contextlib.contextmanager
def grader_output_size():
    """Within the block, every module that holds the student's ``get_conv1d_output_size``
    (mytorch.nn.functional, hw2.py after ``from ... import``) holds the grader's instead."""
    from mytorch.nn import functional
    theirs = vars(functional).get("get_conv1d_output_size")
    patched = []
    if theirs is not None:
        for module in list(sys.modules.values()):
            if module is not None and vars(module).get("get_conv1d_output_size") is theirs:
                setattr(module, "get_conv1d_output_size", output_size)
                patched.append(module)
    try:
        yield
    finally:
        for module in patched:
            setattr(module, "get_conv1d_output_size", theirs)
