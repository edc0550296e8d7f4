"""Bonus: a small CNN trained with momentum, 4 points.

Conv2d(2, 4, 3) -> ReLU -> MaxPool2d(2, 2) -> Conv2d(4, 6, 2) -> ReLU -> AvgPool2d(2, 2) ->
Flatten -> Linear(24, 5), built from the student's layers, loaded with PyTorch's initial
weights and trained for 3 SGD steps (lr 0.1, momentum 0.9) with CrossEntropyLoss on
inputs (N, 2, 15, 13): after every step the outputs, loss, gradients and updated
weights must match PyTorch's (fixtures/cnn.npz).  It runs all six bonus Functions (the
dependency table charges a failure of theirs to them first), HW1's layers, SGD and loss,
and the grader's own Flatten (HW2's 1.2 is not under test here).
"""
from autograder.helpers import fixtures_beside
from autograder.hw2_autograder.grader_layers import run_on_grader_layers
from autograder.replay import build, replay

fixture = fixtures_beside(__file__)


def test_small_cnn_three_sgd_steps_with_momentum():
    fx = fixture("cnn", "cnn")
    model, layers, _ = build(fx)
    run_on_grader_layers(layers)
    replay(fx, model=(model, layers))
