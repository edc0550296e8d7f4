"""Bonus: BatchNorm1d inside bigger models (Linear -> BatchNorm1d -> ReLU blocks), 10 points.

Batch statistics in train mode (and the running statistics they update), the
running statistics in eval mode, gradients through both; PyTorch float64 is the
oracle (fixtures/bonus.npz).  No optimizer: the parameters keep their values.
"""
from autograder.helpers import fixtures_beside
from autograder.replay import replay

fixture = fixtures_beside(__file__)


def test_batchnorm_forward_train():
    """Linear -> BatchNorm1d -> ReLU, train mode: outputs and running statistics."""
    replay(fixture("bonus", "bn_forward"), check_grads=False)


def test_batchnorm_backward_train():
    """Linear -> BatchNorm1d -> ReLU, train mode: every gradient."""
    replay(fixture("bonus", "bn_backward"))


def test_batchnorm_train_eval():
    """Linear -> BatchNorm1d -> ReLU, train steps then eval steps."""
    replay(fixture("bonus", "bn_train_eval"))


def test_batchnorm_big_train_eval():
    """Two Linear -> BatchNorm1d -> ReLU blocks, train and eval steps interleaved."""
    replay(fixture("bonus", "bn_big"))
