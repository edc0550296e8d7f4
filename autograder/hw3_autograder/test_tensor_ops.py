"""Problems 1.2.1-1.2.3: cat and Cat, Tensor.__getitem__ and Slice, Tensor.unsqueeze.

Each test is a plain function (pytest runs them); the spec scores them by the name's
prefix: test_cat_forward -> 1.2.1.1, test_cat_backward -> 1.2.1.2, test_slice_forward
-> 1.2.2.1, test_slice_backward -> 1.2.2.2, test_unsqueeze -> 1.2.3.

These are the only tests that run the student's Cat, Slice and unsqueeze.  Cat and
Slice are called directly (``probes.call_op``: forward, then backward on a random
grad_output); ``cat(seq, dim)`` and ``x[key]`` through the grader's own ``apply``
(``probes.grader_apply``), which records the op they call without running the engine;
and once each through the engine (HW1's), in a graph with constants.  Expected values:
PyTorch's (fixtures/tensor_ops.npz) for tensors of 1 to 4 dimensions, negative dims and
indices, slices with steps (negative too) and index lists with repeats (keys.py).
"""
import numpy as np

import mytorch.nn.functional as F
from autograder.child import is_todo_stub
from autograder.helpers import CheckFailure, assert_close, check
from autograder.hw3_autograder.checks import assert_value, cases, fixture
from autograder.hw3_autograder.keys import SLICES, describe
from autograder.probes import backprop, call_function, call_op, gradient, grader_apply
from mytorch import tensor
from mytorch.tensor import Tensor


# --------------------------------------------------------------------------- #
# 1.2.1 Concatenation
# --------------------------------------------------------------------------- #
def _cat_case(fx):
    """(input arrays, dim, "Cat.forward(...)"-style description of the inputs)."""
    arrays = [fx["in{}".format(i)] for i in range(int(fx["n"]))]
    dim = int(fx["dim"])
    return arrays, dim, "tensors of shapes {}, dim={}".format(
        ", ".join(str(a.shape) for a in arrays), dim)


def _joined_elsewhere(arrays, dim):
    """The typical wrong answers: the tensors joined along another axis."""
    wrong = []
    for axis in range(arrays[0].ndim):
        if axis != dim % arrays[0].ndim:
            try:
                value = np.concatenate(arrays, axis=axis)
            except ValueError:
                continue
            wrong.append(("joined along dim {}, not dim={}".format(axis, dim), value))
    return wrong


def test_cat_forward_values():
    """Cat.forward(ctx, *seq, dim): the tensors first, the dim last."""
    for _, fx in cases("tensor_ops", "cat"):
        arrays, dim, inputs = _cat_case(fx)
        out, _ = call_op(F.Cat, *[Tensor(a.copy()) for a in arrays], dim)
        assert_value(out, fx["out"], "Cat.forward({}): output".format(inputs),
                     alternatives=_joined_elsewhere(arrays, dim))


def test_cat_forward_function_records_one_cat():
    """cat(seq, dim) in mytorch/tensor.py is one F.Cat.apply(*seq, dim): one graph node."""
    for _, fx in cases("tensor_ops", "cat"):
        arrays, dim, inputs = _cat_case(fx)
        seq = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        with grader_apply() as calls:
            out = call_function(tensor.cat, seq, dim)
        names = [c.function.__name__ for c in calls]
        check(names == ["Cat"], "cat(seq, dim={}) should call F.Cat.apply once (one node in the "
              "graph); it called {}".format(dim, names or "no Function"))
        args = calls[0].args
        check(len(args) == len(seq) + 1 and all(a is t for a, t in zip(args, seq))
              and not isinstance(args[-1], Tensor) and args[-1] == dim,
              "cat(seq, dim={}) should call F.Cat.apply(*seq, dim): the tensors first, the dim "
              "last (docs/hw3p1.md, 1.2.1); it passed {}".format(
                  dim, ", ".join("Tensor" + str(a.shape) if isinstance(a, Tensor) else repr(a)
                                 for a in args)))
        assert_value(out, fx["out"], "cat({}): output".format(inputs),
                     alternatives=_joined_elsewhere(arrays, dim))
    arrays, _, _ = _cat_case(fixture("tensor_ops", "cat1"))
    with grader_apply() as calls:
        out = call_function(tensor.cat, [Tensor(a.copy()) for a in arrays])
    check(len(calls) == 1 and calls[0].args[-1] == 0,
          "cat(seq) without a dim should join along dim 0 (the default, as torch.cat)")
    assert_close(out, np.concatenate(arrays), "cat(seq) (dim 0 by default): output")


def test_cat_backward_cuts_the_gradient_where_the_inputs_were_joined():
    """Cat.backward(ctx, grad_output): one piece of grad_output per tensor, then None."""
    for _, fx in cases("tensor_ops", "cat"):
        arrays, dim, inputs = _cat_case(fx)
        seq = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        _, grads = call_op(F.Cat, *seq, dim, grad=fx["R"])
        for i in range(len(seq)):
            assert_value(gradient(grads, i, "Cat", len(seq)), fx["grad.in{}".format(i)],
                         "Cat.backward({}; random grad_output): gradient of tensor {}"
                         .format(inputs, i))


def test_cat_backward_in_a_graph_with_constants():
    """cat of tensors that require grad and constants, through the engine: each tensor
    that requires grad gets its piece, the constants nothing."""
    for index, fx in cases("tensor_ops", "cat"):
        arrays, dim, inputs = _cat_case(fx)
        needs = [(index + i) % 2 == 0 or len(arrays) == 1 for i in range(len(arrays))]
        seq = [Tensor(a.copy(), requires_grad=need) for a, need in zip(arrays, needs)]
        backprop(tensor.cat(seq, dim), fx["R"])
        for i, (t, need) in enumerate(zip(seq, needs)):
            if need:
                assert_value(t.grad, fx["grad.in{}".format(i)],
                             "tensor {}'s .grad after backward from cat({})".format(i, inputs))
            else:
                check(t.grad is None, "cat({}): tensor {} is a constant, yet it got a .grad"
                      .format(inputs, i))


# --------------------------------------------------------------------------- #
# 1.2.2 Slicing
# --------------------------------------------------------------------------- #
def _slice_case(index):
    """(x's array, the key as the test passes it, the key in NumPy terms, its description)."""
    shape, key, as_tensor = SLICES[index]
    fx = fixture("tensor_ops", "slice{}".format(index))
    given = Tensor(np.array(key)) if as_tensor else key
    text = describe(key) + (" (the indices as a Tensor)" if as_tensor else "")
    return fx, given, key, "{} for x of shape {}".format(text, shape)


def test_slice_forward_values():
    """Slice.forward(ctx, x, key) is x.data[key]: NumPy's indexing."""
    for index in range(len(SLICES)):
        fx, given, _, what = _slice_case(index)
        out, _ = call_op(F.Slice, Tensor(fx["x"].copy()), given)
        assert_value(out, fx["out"], "Slice.forward: {}".format(what))


def test_slice_forward_operator_records_one_slice():
    """x[key] (Tensor.__getitem__) is one F.Slice.apply(x, key)."""
    for index in range(len(SLICES)):
        fx, given, _, what = _slice_case(index)
        x = Tensor(fx["x"].copy(), requires_grad=True)
        with grader_apply() as calls:
            out = x[given]
        names = [c.function.__name__ for c in calls]
        check(names == ["Slice"], "{} should call F.Slice.apply(x, key) once (one node in the "
              "graph); it called {}".format(what, names or "no Function"))
        check(calls[0].args[0] is x, "{}: F.Slice.apply's first argument should be x itself"
              .format(what))
        assert_value(out, fx["out"], what)


def test_slice_forward_an_int_out_of_range_raises_index_error():
    """x[6] for 6 rows raises IndexError, as a list does (Python's iteration counts on it)."""
    x = Tensor(np.arange(6.0))
    for key in (6, -7):
        try:
            out, _ = call_op(F.Slice, x, key)
        except IndexError:
            continue
        except Exception as error:            # whatever the student's code raised
            if is_todo_stub(error):
                raise
            raise CheckFailure("Slice.forward(x of shape (6,), {}) raised {}: {}; an int out of "
                               "range should raise IndexError".format(
                                   key, type(error).__name__, error))
        raise CheckFailure("Slice.forward(x of shape (6,), {}) returned {} instead of raising "
                           "IndexError".format(key, out))


def _assigned(shape, key, grad_output):
    """The gradient that ``grad[key] = grad_output`` gives: where an index repeats, only
    the last read's gradient survives."""
    grad = np.zeros(shape)
    grad[key] = grad_output
    return grad


def test_slice_backward_scatters_and_adds_repeated_indices():
    """Slice.backward: zeros of x's shape, each output gradient added where it was read."""
    for index in range(len(SLICES)):
        fx, given, key, what = _slice_case(index)
        x = Tensor(fx["x"].copy(), requires_grad=True)
        _, grads = call_op(F.Slice, x, given, grad=fx["R"])
        assigned = _assigned(fx["x"].shape, key, fx["R"])
        assert_value(gradient(grads, 0, "Slice", 1), fx["grad.x"],
                     "Slice.backward: gradient of x, {}, random grad_output".format(what),
                     alternatives=[("assigned instead of added: where an index repeats, each "
                                    "read adds its gradient (np.add.at(grad, key, "
                                    "grad_output)), grad[key] = grad_output keeps only the "
                                    "last", assigned)])


def test_slice_backward_in_a_graph():
    """y = x[key] through the engine, for every key: x.grad is each read's gradient added."""
    for index in range(len(SLICES)):
        fx, given, key, what = _slice_case(index)
        x = Tensor(fx["x"].copy(), requires_grad=True)
        backprop(x[given], fx["R"])
        assert_value(x.grad, fx["grad.x"], "x.grad after backward from {}".format(what),
                     alternatives=[("assigned instead of added: where an index repeats, each "
                                    "read adds its gradient", _assigned(fx["x"].shape, key,
                                                                        fx["R"]))])


# --------------------------------------------------------------------------- #
# 1.2.3 Unsqueeze
# --------------------------------------------------------------------------- #
def test_unsqueeze_every_dim_forward_and_backward():
    """x.unsqueeze(dim) for every dim in [-ndim - 1, ndim], tensors of 0 to 3 dimensions:
    the values with a new axis of size 1 there, and the gradient reshaped back."""
    for _, fx in cases("tensor_ops", "unsqueeze"):
        dim = int(fx["dim"])
        x = Tensor(fx["x"].copy(), requires_grad=True)
        what = "x.unsqueeze({}) for x of shape {}".format(dim, fx["x"].shape)
        out = call_function(Tensor.unsqueeze, x, dim)
        wrong = [("the new axis went in at dim {}, not {}".format(d, dim),
                  np.expand_dims(fx["x"], d)) for d in range(fx["x"].ndim + 1)
                 if d != dim % (fx["x"].ndim + 1)]
        assert_value(out, fx["out"], what, alternatives=wrong)
        check(getattr(out, "requires_grad", False),
              "{}: the result does not require grad: build it with a Tensor operation "
              "(a reshape), so that the gradient flows back to x".format(what))
        backprop(out, fx["R"])
        assert_value(x.grad, fx["grad.x"], "x.grad after backward from " + what)


def test_unsqueeze_dim_defaults_to_0_and_out_of_range_raises_index_error():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert_close(call_function(Tensor.unsqueeze, x), np.arange(6.0).reshape(1, 2, 3),
                 "x.unsqueeze() (dim 0 by default) for x of shape (2, 3)")
    for dim in (3, -4):
        try:
            out = call_function(Tensor.unsqueeze, x, dim)
        except IndexError:
            continue
        except Exception as error:            # whatever the student's code raised
            if is_todo_stub(error):
                raise
            raise CheckFailure("x.unsqueeze({}) for x of shape (2, 3) raised {}: {}; a dim outside "
                               "[-3, 2] should raise IndexError (as torch.unsqueeze)".format(
                                   dim, type(error).__name__, error))
        raise CheckFailure("x.unsqueeze({}) for x of shape (2, 3) returned shape {} instead of "
                           "raising IndexError: dim ranges over [-3, 2]".format(
                               dim, getattr(out, "shape", None)))
