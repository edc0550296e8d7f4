"""The HW1 bonus (``./grade.sh 1b``): Adam, Dropout, and BatchNorm in bigger models.

The course's Autolab names are the problems' keys; each test scores on its own.  The
bonus builds on HW1 Part 1's layers, so ./grade.sh 1 is graded silently first, and a
bonus test that fails inside a failing HW1 part names it.  The big Dropout model trains
with Adam, so a broken Adam costs it too: the one place where the isolation bends.
"""
from autograder.specs import Homework, Part, Problem

SPEC = Homework(
    command="1b",
    aliases=("b",),
    title="HW1 bonus",
    homework=1,
    bonus=True,
    problems=[      # the course's Autolab names are the keys, exactly
        Problem("Adam 1", "Linear Adam", 1, ("test_adam", "test_linear_adam_"),
                key="Linear Adam", part="Adam"),
        Problem("Adam 2", "Big Linear ReLU XELoss Adam", 4,
                ("test_adam", "test_big_adam_"),
                key="Big Linear ReLU XELoss Adam", part="Adam"),
        Problem("Dropout 1", "Linear ReLU Dropout", 3, ("test_dropout", "test_dropout_forward"),
                key="Linear ReLU Dropout", part="Dropout"),
        Problem("Dropout 2", "Linear ReLU Dropout Backward", 3,
                ("test_dropout", "test_dropout_backward"),
                key="Linear ReLU Dropout Backward", part="Dropout"),
        Problem("Dropout 3", "Big Linear BN ReLU Dropout XELoss Adam", 4,
                ("test_dropout", "test_dropout_big_model_with_adam"),
                key="Big Linear BN ReLU Dropout XELoss Adam", part="Dropout"),
        Problem("BatchNorm 1", "Linear Batchnorm ReLU Forward (Train)", 1,
                ("test_batchnorm", "test_batchnorm_forward_train"),
                key="Linear Batchnorm ReLU Forward (Train)", part="BatchNorm"),
        Problem("BatchNorm 2", "Linear Batchnorm ReLU Backward (Train)", 1,
                ("test_batchnorm", "test_batchnorm_backward_train"),
                key="Linear Batchnorm ReLU Backward (Train)", part="BatchNorm"),
        Problem("BatchNorm 3", "Linear Batchnorm ReLU Train/Eval", 2,
                ("test_batchnorm", "test_batchnorm_train_eval"),
                key="Linear Batchnorm ReLU Train/Eval", part="BatchNorm"),
        Problem("BatchNorm 4", "Big Linear Batchnorm ReLU Train/Eval", 6,
                ("test_batchnorm", "test_batchnorm_big_train_eval"),
                key="Big Linear Batchnorm ReLU Train/Eval", part="BatchNorm"),
    ],
    depends_on={"Dropout 3": ("Adam 1", "Adam 2")},
    parts=[
        Part("Adam", "mytorch/optim/adam.py", "Adam.step"),
        Part("Dropout", "mytorch/nn/functional.py", "Dropout.forward"),
        Part("Dropout", "mytorch/nn/functional.py", "Dropout.backward"),
        Part("Dropout", "mytorch/nn/dropout.py", "Dropout.forward"),
    ],
    requires=("1",),
    handin=["mytorch/**/*.py", "hw1/*.py"],
    guide="The bonus adds Adam and Dropout; each test scores on its own, under the course's "
          "Autolab name.",
    footer="The bonus is scored on its own, out of 25 points; HW1 Part 1 is ./grade.sh 1.",
)
