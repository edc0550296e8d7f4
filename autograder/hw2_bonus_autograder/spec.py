"""The HW2 bonus (``./grade.sh 2b``): Conv2d, MaxPool2d, AvgPool2d and a small CNN.

The project's own table, 25 points: each Function's forward and backward is a test of
its own, and a small CNN (Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, AvgPool2d, Flatten,
Linear) trained for 3 SGD steps with momentum puts them together.

Isolation: every forward is called directly, and every backward directly on a ctx
filled the way the given first statements of forward fill it, so a forward mistake
costs its forward test (and the CNN), never the backward's.  The CNN's Flatten is the
grader's (HW2's 1.2 is not under test here); the CNN depends on all six Functions.
The bonus builds on HW2 Part 1 (the library's Conv2d shares Conv1d's helpers, which
are 1.1.1's and 1.1.2's parts) and on HW1's layers, SGD and loss: ./grade.sh 2 and
./grade.sh 1 are graded silently first, so a failure inside one of their parts is
named ("... fails inside your get_conv1d_output_size: see 1.1.1 of ./grade.sh 2").
"""
from autograder.specs import Homework, Part, Problem

FUNCTIONAL = "mytorch/nn/functional.py"
LAYERS = ("Conv2d", "MaxPool2d", "AvgPool2d")


def _problems(layer, points, module):
    forward, backward = points
    return [Problem("{} 1".format(layer), "{} Forward".format(layer), forward,
                    (module, "test_{}_forward_".format(layer.lower())),
                    key="{} Forward".format(layer), part=layer),
            Problem("{} 2".format(layer), "{} Backward".format(layer), backward,
                    (module, "test_{}_backward_".format(layer.lower())),
                    key="{} Backward".format(layer), part=layer)]


SPEC = Homework(
    command="2b",
    title="HW2 bonus",
    homework=2,
    bonus=True,
    problems=(_problems("Conv2d", (5, 5), "test_conv2d")
              + _problems("MaxPool2d", (3, 4), "test_pooling")
              + _problems("AvgPool2d", (2, 2), "test_pooling")
              + [Problem("CNN", "Small CNN, 3 SGD steps with momentum", 4,
                         ("test_small_cnn", "test_small_cnn_"),
                         key="Small CNN with Momentum")]),
    depends_on={"CNN": tuple("{} {}".format(layer, n) for layer in LAYERS for n in (1, 2))},
    parts=[
        # forward keeps the handout's first statements: what backward needs, saved
        Part("Conv2d", FUNCTIONAL, "Conv2d.forward", keep=3, section="bonus"),
        Part("Conv2d", FUNCTIONAL, "Conv2d.backward", section="bonus"),
        Part("MaxPool2d", FUNCTIONAL, "_max_taps", section="bonus"),
        Part("MaxPool2d", FUNCTIONAL, "MaxPool2d.forward", keep=2, section="bonus"),
        Part("MaxPool2d", FUNCTIONAL, "MaxPool2d.backward", section="bonus"),
        Part("AvgPool2d", FUNCTIONAL, "AvgPool2d.forward", keep=2, section="bonus"),
        Part("AvgPool2d", FUNCTIONAL, "AvgPool2d.backward", section="bonus"),
    ],
    requires=("2",),
    sheet="docs/hw2p1.md",
    handin=["mytorch/**/*.py", "hw2/*.py"],
    guide="The bonus adds 2-D convolution and pooling (docs/hw2p1.md, section bonus): each "
          "Function's forward and backward scores on its own, and a small CNN puts them "
          "together. The layers (mytorch/nn/conv.py) are given; you write the Functions.",
    footer="The bonus is scored on its own, out of 25 points; HW2 Part 1 is ./grade.sh 2.",
)
