"""Problem 1.2: Flatten (mytorch/nn/conv.py), test_flatten_ -> 1.2.

The layer is called directly on 3-D and 4-D inputs: its output must be the input with
every axis after the batch flattened in C order (as torch.nn.Flatten), and a part of
the graph, so that backward (the student's HW1 engine, from the grader's probe loss
sum(y * R)) gives x the gradient reshaped back.  Nothing else of HW2 runs.
"""
import numpy as np

from autograder.helpers import assert_close, assert_flags
from autograder.probes import backprop, call_layer
from mytorch.nn.conv import Flatten
from mytorch.tensor import Tensor

SHAPES = [(2, 4, 31), (3, 2, 5, 4), (1, 6, 7), (4, 14, 13), (2, 3, 1, 5)]


def _wrong_orders(X):
    """Typical wrong flattenings of X, each with what it means."""
    n = X.shape[0]
    reversed_axes = (0,) + tuple(range(X.ndim - 1, 0, -1))
    return [("the axes after the batch were read in reverse order (for (N, C, W): time step by "
             "time step); keep C order: all of channel 0's positions, then channel 1's",
             X.transpose(reversed_axes).reshape(n, -1)),
            ("the input was transposed (all its axes reversed) before the reshape",
             X.T.reshape(n, -1))]


def test_flatten_forward_and_backward():
    """Flatten()(x) for x (N, C, W) and (N, C, H, W), batch 1 included; backward reshapes
    the gradient back to x's shape."""
    rng = np.random.default_rng(240)
    for shape in SHAPES:
        X = rng.normal(size=shape)
        n, rest = shape[0], int(np.prod(shape[1:]))
        R = rng.normal(size=(n, rest))
        x = Tensor(X.copy(), requires_grad=True)
        y = call_layer(Flatten(), x)
        where = "Flatten()(x), x {}".format(shape)
        assert_close(y, X.reshape(n, rest), "{}: output ({}, {})".format(where, n, rest),
                     rtol=0, atol=0, alternatives=_wrong_orders(X))
        assert_flags(y, where, requires_grad=True, is_leaf=False,
                     why="the output must be part of the graph: build Flatten on "
                         "Tensor.reshape, not on a new Tensor of x.data")
        backprop(y, R)
        assert_close(x.grad, R.reshape(shape), "{}: x.grad after backward from sum(R * y) "
                     "(R reshaped back to x's shape)".format(where), rtol=0, atol=0)
