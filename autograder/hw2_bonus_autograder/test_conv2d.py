"""Bonus: the Conv2d Function (mytorch/nn/functional.py), 10 points.

test_conv2d_forward_ -> Conv2d 1, test_conv2d_backward_ -> Conv2d 2.  The same checks as
HW2's Conv1d (autograder/hw2_autograder/conv_checks.py) with two spatial axes: forward
called directly, backward called directly on a ctx filled as the given first statements
of forward fill it, every value compared with PyTorch's ``conv2d`` in float64
(fixtures/conv2d.npz): random configurations with H and W apart, and edge cases (a
kernel as tall or as wide as the input, a stride that does not divide, a stride wider
than the kernel, a kernel of 1, batch 1).
"""
import mytorch.nn.functional as F
from autograder.helpers import fixtures_beside
from autograder.hw2_autograder.conv_checks import check_backward, check_forward

fixture = fixtures_beside(__file__)


def _cases(random):
    return [str(n) for n in fixture("conv2d", "index")["names"]
            if str(n).startswith("random") == random]


def test_conv2d_forward_random_configurations():
    for case in _cases(random=True):
        check_forward(F.Conv2d, fixture("conv2d", case))


def test_conv2d_forward_edge_cases():
    for case in _cases(random=False):
        check_forward(F.Conv2d, fixture("conv2d", case))


def test_conv2d_backward_random_configurations():
    for case in _cases(random=True):
        check_backward(F.Conv2d, fixture("conv2d", case))


def test_conv2d_backward_edge_cases():
    for case in _cases(random=False):
        check_backward(F.Conv2d, fixture("conv2d", case))
