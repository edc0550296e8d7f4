"""Bonus: Dropout (mytorch/nn/dropout.py and F.Dropout), 10 points.

Training: each element is zeroed with probability p and the survivors are scaled
by 1 / (1 - p); the mask is drawn once per forward as
``np.random.binomial(1, 1 - p, size=x.shape)`` after the grader seeds np.random,
and backward uses the same mask.  Evaluation: the identity.  The big model also
trains with Adam, so a broken Adam costs that test too (the report says so).
"""
import numpy as np

import mytorch.nn.functional as F
from autograder.helpers import assert_close, fixtures_beside
from autograder.probes import call_op, gradient
from autograder.replay import replay
from mytorch.tensor import Tensor

fixture = fixtures_beside(__file__)


def _dropout_function(p, seed, check_grad):
    """F.Dropout.apply's forward (and backward) called directly, with the course's mask."""
    rng = np.random.default_rng(seed)
    X, G = rng.normal(size=(6, 9)), rng.normal(size=(6, 9))
    np.random.seed(seed)
    keep = np.random.binomial(1, 1 - p, size=X.shape)
    mask = keep / (1 - p) if p < 1 else keep * 0.0          # p = 1 drops everything
    np.random.seed(seed)
    out, grads = call_op(F.Dropout, Tensor(X.copy(), requires_grad=True), p, True,
                         grad=G if check_grad else None)
    where = "F.Dropout(x (6, 9), p={:g}, training) after np.random.seed({})".format(p, seed)
    assert_close(out, X * mask, where + ": forward")
    if check_grad:
        assert_close(gradient(grads, 0, "Dropout", 3), G * mask, where + ": backward",
                     alternatives=[("multiplied by the dropped activations, not by mask / "
                                    "(1 - p)", G * X * mask)])


def test_dropout_forward():
    """Linear -> ReLU -> Dropout(0.3): outputs in train mode (three seeds) and in eval mode;
    the Function alone, which must leave its input as it is, with p = 0.3, 0 (the identity)
    and 1 (zeros)."""
    for p in (0.3, 0.0, 1.0):
        _dropout_function(p, 71, check_grad=False)
    replay(fixture("bonus", "dropout_forward"), check_grads=False)


def test_dropout_backward():
    """Linear -> ReLU -> Dropout(0.4): the gradients go through the same mask; the Function
    alone, which must leave its input and its grad_output as they are, with p = 0.4, 0 and
    1 (a zero gradient)."""
    for p in (0.4, 0.0, 1.0):
        _dropout_function(p, 72, check_grad=True)
    replay(fixture("bonus", "dropout_backward"))


def test_dropout_big_model_with_adam():
    """Linear -> BatchNorm1d -> ReLU -> Dropout(0.4) -> Linear -> BatchNorm1d -> ReLU ->
    Dropout(0.2) -> Linear, with cross-entropy and Adam, over five steps, then eval mode."""
    replay(fixture("bonus", "dropout_big"))
