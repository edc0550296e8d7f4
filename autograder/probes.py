"""Code the grader owns, so a test runs only its own problem's student code.

- ``grader_apply()``: while active, ``Function.apply`` is the grader's: it runs the
  op's ``forward`` with a fresh ContextManager and records the call, but builds no
  graph.  1.1.x tests use it to check that ``a - b`` calls ``Sub`` without running
  the student's engine (1.2).
- ``call_op(F.Sub, a, b, grad=G)``: forward then backward, called directly;
  ``call_backward(F.Conv1d, ctx, G)``: backward alone, on a ctx the test filled;
  ``call_function(get_conv1d_output_size, 60, 5, 1)``: a plain function.
- ``WeightedSum``, ``Scale``, ``Product``: Functions written by the grader.  They
  go through the student's ``Function.apply`` and engine (1.2) but not through
  the student's ops: the 2.x tests backpropagate from ``WeightedSum(y, R)`` (the
  loss sum(y * R), whose gradient is R) instead of ``(y * Tensor(R)).sum()``, so a
  wrong Mul cannot fail BatchNorm; 1.2 tests use ``Product`` instead of Mul.  They
  follow the handout's conventions (Tensor arguments only, output flags set in
  forward), so they run on any engine written to the handout.

This module imports the student's mytorch: the grader re-imports it in each
child process after choosing where mytorch comes from.
"""
import contextlib
from collections import namedtuple

import numpy as np

from autograder.helpers import CheckFailure, check
from mytorch.autograd_engine import ContextManager, Function
from mytorch.tensor import Tensor

Call = namedtuple("Call", "function args ctx output")


def new_ctx(args):
    """A ContextManager whose ``needs_input_grad`` follows the arguments' requires_grad."""
    ctx = ContextManager()
    ctx.needs_input_grad = [isinstance(a, Tensor) and bool(a.requires_grad) for a in args]
    return ctx


@contextlib.contextmanager
def grader_apply():
    """Replace ``Function.apply`` with a recorder for the block; yields the list of calls."""
    calls = []
    original = Function.__dict__["apply"]

    def apply(cls, *args):
        ctx = new_ctx(args)
        output = returns_tensor(cls.forward(ctx, *args), "{}.forward".format(cls.__name__))
        calls.append(Call(cls, args, ctx, output))
        return output

    Function.apply = classmethod(apply)
    try:
        yield calls
    finally:
        Function.apply = original


# The functions a test called directly and checks the values of ("Mul.backward"): when
# such a test fails, its problem fails on those functions, which lets the grader name them
# when another problem's test fails after running them (autograder/child.py).
CHECKED = set()


def call_layer(layer, *args):
    """``layer(*args)``, called directly by a test that checks its output."""
    CHECKED.add(type(layer).__name__ + ".forward")
    return layer(*args)


def take_step(optimizer):
    """``optimizer.step()``, called directly by a test that checks the updated parameters."""
    CHECKED.add(type(optimizer).__name__ + ".step")
    return optimizer.step()


def call_op(function, *args, grad=None):
    """``function.forward(ctx, *args)``, then (if ``grad`` is given) ``function.backward(ctx,
    Tensor(grad))``; returns (output, gradients as a tuple, or None).

    Checks too that neither changes what it was given: an op that overwrites its input's
    .data (or its grad_output, which the engine may hand to several ops) gives right
    values here and wrong ones elsewhere in a graph."""
    ctx = new_ctx(args)
    name = function.__name__
    CHECKED.add(name + ".forward")
    before = [np.array(a.data, copy=True) if isinstance(a, Tensor) else None for a in args]
    output = returns_tensor(function.forward(ctx, *args), "{}.forward".format(name))
    _check_unchanged(args, before, "{}.forward".format(name))
    if grad is None:
        return output, None
    CHECKED.add(name + ".backward")
    grad_output = Tensor(np.array(grad, dtype=np.float64))
    grads = function.backward(ctx, grad_output)
    _check_unchanged(args, before, "{}.backward".format(name))
    check(np.array_equal(np.asarray(grad_output.data), np.asarray(grad, dtype=np.float64)),
          "{}.backward changed its grad_output in place: the engine may pass the same array to "
          "other ops too; compute a new array instead (g * mask, not g[...] = 0 or g *= ...)"
          .format(name))
    return output, as_tuple(grads, "{}.backward(ctx, grad_output)".format(name))


def _check_unchanged(args, before, what):
    for index, (arg, data) in enumerate(zip(args, before)):
        if data is not None:
            now = np.asarray(arg.data)
            check(now.shape == data.shape and np.array_equal(now, data, equal_nan=True),
                  "{} changed its input {}'s .data in place: that tensor may be used elsewhere "
                  "in the graph (and saved for backward); leave inputs as they are and return "
                  "a new Tensor".format(what, index))


def call_backward(function, ctx, grad):
    """``function.backward(ctx, grad)`` (``grad`` an array or a Tensor) on a ctx the test
    filled itself, the way the handout's given first statements of forward fill it (so
    backward is checked without running the student's forward); the gradients as a
    tuple."""
    CHECKED.add(function.__name__ + ".backward")
    if not isinstance(grad, Tensor):
        grad = Tensor(np.array(grad, dtype=np.float64))
    grads = function.backward(ctx, grad)
    return as_tuple(grads, "{}.backward(ctx, grad_output)".format(function.__name__))


def call_function(function, *args):
    """``function(*args)`` for a plain function or method (not an op:
    ``get_conv1d_output_size``, ``pack_sequence``), called directly by a test that checks
    what it returns."""
    __tracebackhide__ = True          # a traceback goes from the test to the function
    CHECKED.add(getattr(function, "__qualname__", function.__name__))
    return function(*args)


def as_tuple(grads, what):
    """A backward's return value as a tuple (a single Tensor counts as a 1-tuple), each entry
    a Tensor or None: the engine and every other op rely on that."""
    grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
    for index, grad in enumerate(grads):
        check(grad is None or isinstance(grad, Tensor),
              "{} returned {} as gradient {}: return a Tensor (wrap the array: Tensor(...)) "
              "or None; the engine and the other ops read .data of what backward returns"
              .format(what, _kind(grad), index))
    return grads


def returns_tensor(output, what):
    """Check that an op's forward returned a Tensor, which the rest of the library relies on."""
    check(isinstance(output, Tensor),
          "{} returned {}: return a Tensor (wrap the array: Tensor(...)); the engine links "
          "the output into the graph and the next op reads its .data".format(what, _kind(output)))
    return output


def _kind(value):
    if isinstance(value, np.ndarray):
        return "a NumPy array of shape {}".format(value.shape)
    return "a {} ({!r})".format(type(value).__name__, value) if not isinstance(
        value, Tensor) else "a Tensor"


def gradient(grads, index, function, count):
    """Gradient ``index`` of what a backward returned, with a clear message if it is missing."""
    if len(grads) < count:
        raise CheckFailure("{}.backward returned {} gradient(s); it should return {}, one per "
                           "forward input, in order".format(function, len(grads), count))
    return grads[index]


def build_array(shape, rng, low=None):
    """Random float64 data of ``shape``; with ``low``, magnitudes in [low, 2] and random signs
    (a denominator kept away from 0)."""
    if low is None:
        return rng.normal(size=shape)
    return rng.uniform(low, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


# --------------------------------------------------------------------------- #
# Grader-owned Functions (forward and backward written here, apply is the student's)
# --------------------------------------------------------------------------- #
# They follow the conventions of the code the handout gives, so that any engine written
# to the handout runs them: every argument is a Tensor (a constant is a Tensor that does
# not require grad), and forward flags its output as the given Add does (requires_grad
# if an input requires grad, is_leaf otherwise), for an ``apply`` that sets nothing on
# the output.  Backward returns one gradient per argument: None for a constant.
def flagged(array, *inputs):
    """An op's output Tensor, flagged in forward as the handout's given ops flag it."""
    requires_grad = any(bool(getattr(t, "requires_grad", False)) for t in inputs)
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=requires_grad,
                  is_leaf=not requires_grad)


def constant(value):
    """``value`` as a Tensor that does not require grad (a grader Function's constant)."""
    return Tensor(np.array(value, dtype=np.float64))


def _data(t):
    return np.asarray(t.data, dtype=np.float64)


class WeightedSum(Function):
    """sum(y * weights) for a constant Tensor ``weights``: a scalar whose gradient w.r.t. y
    is ``weights`` times the upstream gradient."""

    @staticmethod
    def forward(ctx, y, weights):
        ctx.weights, ctx.shape = _data(weights), np.shape(y.data)
        return flagged(np.sum(_data(y) * ctx.weights), y, weights)

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(np.broadcast_to(ctx.weights * _data(grad_output).sum(),
                                      ctx.shape).copy()), None


class Scale(Function):
    """k * t for a constant Tensor k holding one number."""

    @staticmethod
    def forward(ctx, t, k):
        ctx.k = float(_data(k))
        return flagged(_data(t) * ctx.k, t, k)

    @staticmethod
    def backward(ctx, grad_output):
        return Tensor(_data(grad_output) * ctx.k), None


class Product(Function):
    """a * b for tensors of one shape (the grader's Mul, so 1.2 does not test 1.1.2)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return flagged(_data(a) * _data(b), a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        g = _data(grad_output)
        return Tensor(g * _data(b)), Tensor(g * _data(a))


def scale(t, k):
    """``Scale.apply(t, k)`` with the number ``k`` as a constant Tensor."""
    return Scale.apply(t, constant(k))


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched to reach its shape
    (the expected gradient of a broadcast input)."""
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def recorded_backward(call, grad):
    """Run the backward of a call recorded by ``grader_apply`` on ``grad``; the gradients as
    a tuple."""
    grads = call.function.backward(call.ctx, Tensor(np.array(grad, dtype=np.float64)))
    return as_tuple(grads, "{}.backward(ctx, grad_output)".format(call.function.__name__))


def backprop(y, weights):
    """Backpropagate the loss sum(y * weights) from ``y`` (the grader's probe loss); the
    weights (an array) go in as a constant Tensor."""
    loss = WeightedSum.apply(y, constant(weights))
    loss.backward()
    return loss

