"""Bonus: Dropout (mytorch/nn/dropout.py and F.Dropout), 10 points.

Training: each element is zeroed with probability p and the survivors are scaled
by 1 / (1 - p); the mask is drawn once per forward as
``np.random.binomial(1, 1 - p, size=x.shape)`` after the grader seeds np.random,
and backward uses the same mask.  Evaluation: the identity.  The big model also
trains with Adam, so a broken Adam costs that test too (the report says so).
"""
from autograder.helpers import fixtures_beside
from autograder.replay import replay

fixture = fixtures_beside(__file__)


def test_dropout_forward():
    """Linear -> ReLU -> Dropout(0.3): outputs in train mode (three seeds) and in eval mode."""
    replay(fixture("bonus", "dropout_forward"), check_grads=False)


def test_dropout_backward():
    """Linear -> ReLU -> Dropout(0.4): the gradients go through the same mask."""
    replay(fixture("bonus", "dropout_backward"))


def test_dropout_big_model_with_adam():
    """Linear -> ReLU -> Dropout(0.4) -> Linear -> ReLU -> Dropout(0.2) -> Linear, with
    cross-entropy and Adam, over five steps, then eval mode."""
    replay(fixture("bonus", "dropout_big"))
