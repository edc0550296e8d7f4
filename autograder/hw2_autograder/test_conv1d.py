"""Problems 1.1.1 and 1.1.2: the Conv1d Function (mytorch/nn/functional.py).

runner.py scores the tests by prefix: test_conv1d_forward_ -> 1.1.1
(``get_conv1d_output_size`` and ``F.Conv1d.forward``), test_conv1d_backward_ -> 1.1.2
(``F.Conv1d.backward``).

Isolation: forward and backward are called directly.  Backward gets a ctx filled the
way the given first statements of forward fill it (``save_for_backward(x, weight,
bias)``, ``ctx.stride``, ``ctx.input_shape``), so 1.1.2 is graded without running the
student's forward.  Only the stacked-layers tests run the Conv1d layer (given) through
the student's HW1 engine; 1.1.2's counts only when 1.1.1 passes.

Expected values are PyTorch's ``conv1d`` in float64 (fixtures/conv1d.npz, made by
cases.py): configurations drawn as the course draws them (5-14 channels, kernel 3-6,
stride 3-4, width 60-79, batch 1-3), edge cases (a kernel as wide as the input,
stride 1, a stride that does not divide, a stride wider than the kernel, batch 1),
and stacks of 1 to 3 layers.  The tolerance is the course's (rtol 1e-5, atol 1e-8):
any order of summation passes.  The checks themselves are conv_checks.py's (shared with
the bonus's Conv2d); the wrong answers a ``pattern:`` names come from grader_layers.py.
"""
import numbers

import mytorch.nn.functional as F
from autograder.helpers import builds_on, check, fixtures_beside
from autograder.hw2_autograder.conv_checks import check_backward, check_forward, size_hint
from autograder.probes import call_function
from autograder.replay import replay

fixture = fixtures_beside(__file__)


def _cases():
    return [str(name) for name in fixture("conv1d", "index")["names"]]


# --------------------------------------------------------------------------- #
# 1.1.1 Conv1D forward
# --------------------------------------------------------------------------- #
SIZES = [(60, 5, 1, 56), (56, 6, 2, 26), (26, 2, 2, 13), (128, 8, 4, 31), (79, 6, 4, 19),
         (5, 5, 1, 1), (6, 6, 4, 1), (17, 4, 3, 5), (11, 2, 3, 4), (9, 1, 2, 5), (64, 3, 3, 21)]


def test_conv1d_forward_output_size():
    """get_conv1d_output_size(input_size, kernel_size, stride) is (W - K) // stride + 1, an int."""
    for width, kernel, stride, expected in SIZES:
        got = call_function(F.get_conv1d_output_size, width, kernel, stride)
        what = "get_conv1d_output_size({}, {}, {})".format(width, kernel, stride)
        check(isinstance(got, numbers.Integral) and not isinstance(got, bool),
              "{} should return a plain int, got {} {!r}".format(what, type(got).__name__, got))
        check(got == expected, "{} should be {} (= ({} - {}) // {} + 1), got {}{}".format(
            what, expected, width, kernel, stride, got, size_hint(got, width, kernel, stride)))


def test_conv1d_forward_random_configurations():
    """F.Conv1d.forward on configurations drawn as the course draws them."""
    for case in _cases():
        if case.startswith("random"):
            check_forward(F.Conv1d, fixture("conv1d", case))


def test_conv1d_forward_edge_cases():
    """A kernel as wide as the input, stride 1, a stride that does not divide (the last
    inputs are never read), a stride wider than the kernel, a kernel of width 1, batch 1."""
    for case in _cases():
        if not case.startswith("random"):
            check_forward(F.Conv1d, fixture("conv1d", case))


def test_conv1d_forward_stacked_layers():
    """1 to 3 Conv1d layers (the given layer, calling your F.Conv1d) in a Sequential."""
    for depth in (1, 2, 3):
        replay(fixture("conv1d", "stack{}".format(depth)), check_grads=False)


# --------------------------------------------------------------------------- #
# 1.1.2 Conv1D backward
# --------------------------------------------------------------------------- #
def test_conv1d_backward_random_configurations():
    """F.Conv1d.backward on the course's configurations, called on a filled ctx."""
    for case in _cases():
        if case.startswith("random"):
            check_backward(F.Conv1d, fixture("conv1d", case))


def test_conv1d_backward_edge_cases():
    """Backward where windows overlap (stride 1), leave inputs unread (a stride that does
    not divide, a stride wider than the kernel: their gradient is 0), cover the whole
    input once, and for batch 1."""
    for case in _cases():
        if not case.startswith("random"):
            check_backward(F.Conv1d, fixture("conv1d", case))


@builds_on("1.1.1")
def test_conv1d_backward_stacked_layers():
    """1 to 3 Conv1d layers in a Sequential, forward and backward through your engine."""
    for depth in (1, 2, 3):
        replay(fixture("conv1d", "stack{}".format(depth)))
