"""Bonus: Adam (mytorch/optim/adam.py), 5 points.

Expected values: torch.optim.Adam in float64 (fixtures/bonus.npz), bias
correction included, over several steps; gradients come from the probe loss
sum(y * R), so only the models' HW1 layers and Adam are involved.
"""
from autograder.helpers import fixtures_beside
from autograder.replay import replay

fixture = fixtures_beside(__file__)


def test_adam_linear_model():
    """A Linear model trained by Adam(lr=0.01) for 5 steps."""
    replay(fixture("bonus", "adam_linear"))


def test_adam_two_layer_model():
    """Linear -> ReLU -> Linear -> ReLU trained by Adam(lr=0.005, betas=(0.8, 0.99), eps=1e-6)."""
    replay(fixture("bonus", "adam_two_layers"))
