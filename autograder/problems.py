"""The problems the autograders score, and the dependency table that keeps them apart.

``DEPENDS_ON[p]`` lists the problems whose student code the scored tests of ``p``
may run.  Everything else a test runs is code the handout gives ready-made (the
Tensor basics, Add, Transpose, Reshape, Log, the node classes, Module,
CrossEntropyLoss) or code the grader owns.  So a mistake in one problem's code
may cost that problem and the problems that depend on it, and nothing else:

    1.1.x  nothing (the op's forward/backward are called directly, and its Tensor
           operator goes through a grader-owned ``apply``, so a broken engine
           cannot fail Sub)
    1.2    nothing (the engine is tested with the given ops and grader-owned Functions)
    2.x    1.2 (every layer needs the engine)
    2.6    also 2.3 (momentum is SGD's update with one more term)

A whole-model test may also run other problems' code; it says which with
``@builds_on`` (autograder.helpers) and counts only when those problems pass.
Otherwise it is reported as not graded and costs nothing.

The practice-mode starter (make_handout.py) and the manifest of the student's
parts (manifest.py) use this table too.
"""
from collections import namedtuple

Problem = namedtuple("Problem", "number name points module prefix")
Problem.__doc__ = """One scored problem: its number and name (the JSON key is "number name"),
points, and the test functions that grade it: those of ``module`` whose names
start with ``prefix``."""

HW1_PROBLEMS = (
    Problem("1.1.0", "Addition", 0, "test_autograd", "test_add_"),     # given: shown, not scored
    Problem("1.1.1", "Subtraction", 5, "test_autograd", "test_sub_"),
    Problem("1.1.2", "Multiplication", 5, "test_autograd", "test_mul_"),
    Problem("1.1.3", "Division", 5, "test_autograd", "test_div_"),
    Problem("1.2", "Autograd", 25, "test_autograd", "test_autograd_"),
    Problem("2.1", "Linear", 5, "test_mlp", "test_linear_"),
    Problem("2.2", "ReLU", 10, "test_mlp", "test_relu_"),
    Problem("2.3", "SGD", 10, "test_mlp", "test_sgd_"),
    Problem("2.4", "BatchNorm", 10, "test_mlp", "test_batchnorm_"),
    Problem("2.5", "Cross-entropy", 15, "test_mlp", "test_cross_entropy_"),
    Problem("2.6", "Momentum", 10, "test_mlp", "test_momentum_"),
)

HW1_DEPENDS_ON = {
    "1.1.0": (), "1.1.1": (), "1.1.2": (), "1.1.3": (),
    "1.2": (),
    "2.1": ("1.2",), "2.2": ("1.2",), "2.3": ("1.2",), "2.4": ("1.2",), "2.5": ("1.2",),
    "2.6": ("1.2", "2.3"),
}

# Problem 3 (MNIST) is graded by hand from the plot that ./grade.sh m draws.
MNIST = Problem("3", "MNIST", 10, "test_mnist", None)

# The 0-point practice checks: shown under their own heading, never scored.
HW1_PRACTICE = ("test_practice", "test_practice_")


def closure(numbers, depends_on):
    """``numbers`` and every problem they depend on, directly or not."""
    seen, todo = set(), list(numbers)
    while todo:
        number = todo.pop()
        if number not in seen:
            seen.add(number)
            todo.extend(depends_on.get(number, ()))
    return seen


# The HW1 bonus (./grade.sh 1b): the course's Autolab names are the problems' names and
# its JSON keys.  Each test is scored on its own.  The big Dropout model trains with
# Adam, so a broken Adam costs it too: the one place where the isolation rule bends.
BONUS_PROBLEMS = (
    Problem("Adam 1", "Linear Adam", 1, "test_adam", "test_adam_linear_model"),
    Problem("Adam 2", "Linear ReLU Linear ReLU Adam", 4, "test_adam",
            "test_adam_two_layer_model"),
    Problem("Dropout 1", "Linear ReLU Dropout Forward", 3, "test_dropout",
            "test_dropout_forward"),
    Problem("Dropout 2", "Linear ReLU Dropout Backward", 3, "test_dropout",
            "test_dropout_backward"),
    Problem("Dropout 3", "Big Linear BN ReLU Dropout XELoss Adam", 4, "test_dropout",
            "test_dropout_big_model_with_adam"),
    Problem("BatchNorm 1", "Linear BN ReLU Forward (Train)", 1, "test_batchnorm",
            "test_batchnorm_forward_train"),
    Problem("BatchNorm 2", "Linear BN ReLU Backward (Train)", 1, "test_batchnorm",
            "test_batchnorm_backward_train"),
    Problem("BatchNorm 3", "Linear BN ReLU Train/Eval", 2, "test_batchnorm",
            "test_batchnorm_train_eval"),
    Problem("BatchNorm 4", "Big Linear BN ReLU Train/Eval", 6, "test_batchnorm",
            "test_batchnorm_big_train_eval"),
)

BONUS_DEPENDS_ON = dict({p.number: () for p in BONUS_PROBLEMS},
                        **{"Dropout 3": ("Adam 1", "Adam 2")})
