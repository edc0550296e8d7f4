"""Problem 3: the CNN (hw2/hw2.py), test_cnn_ -> 3.

``CNN()`` must build the question's layers in ``self.layers`` (a Sequential), with the
Linear's input size computed by ``get_final_conv_output_size``; that function is also
called directly on other stacks and widths, so a constant 13 fails.  Then the CNN is
trained for 5 SGD steps with CrossEntropyLoss, from weights loaded out of
fixtures/cnn.npz, and after every step its outputs, loss, gradients and updated
weights must match PyTorch's (float64, made by cases.py).

Isolation: while the CNN is built, the student's ``get_conv1d_output_size`` is the
grader's, and its Conv1d and Flatten layers run on the grader's own Function
(grader_layers.py), so no 1.x code runs; HW1's layers, SGD and loss do.
"""
import numpy as np

from autograder.helpers import check, fixtures_beside
from autograder.hw2_autograder.grader_layers import (grader_output_size, output_size,
                                                     run_on_grader_layers)
from autograder.probes import call_function
from autograder.replay import replay
from hw2 import CNN, get_final_conv_output_size
from mytorch.nn.activations import ReLU, Sigmoid, Tanh
from mytorch.nn.conv import Conv1d, Flatten
from mytorch.nn.linear import Linear
from mytorch.nn.sequential import Sequential

fixture = fixtures_beside(__file__)
SECTION = "docs/hw2p1.md#cnn"
LAYERS = [(Conv1d, (24, 56, 5, 1)), (Tanh, None), (Conv1d, (56, 28, 6, 2)), (ReLU, None),
          (Conv1d, (28, 14, 2, 2)), (Sigmoid, None), (Flatten, None), (Linear, (182, 10))]


def _arguments(layer):
    if isinstance(layer, Linear):        # (in_features, out_features), from the weight
        shape = np.shape(getattr(getattr(layer, "weight", None), "data", ()))
        return tuple(shape[::-1]) if len(shape) == 2 else None
    return tuple(getattr(layer, name, "?") for name in ("in_channel", "out_channel",
                                                          "kernel_size", "stride"))


def _describe(kind, arguments):
    name = kind.__name__
    return "{}({})".format(name, ", ".join(str(a) for a in arguments or ()))


def build_cnn():
    """The student's CNN, built with the grader's output size; its layers checked."""
    with grader_output_size():
        model = CNN()
    layers = getattr(model, "layers", None)
    wanted = ", ".join(_describe(kind, arguments) for kind, arguments in LAYERS)
    check(isinstance(layers, Sequential), "CNN().layers should be a Sequential of its layers "
          "({}), got {!r} (course code reads cnn.layers.layers)".format(wanted, layers))
    found = list(layers.layers)
    described = ", ".join(_describe(type(layer), _arguments(layer) if isinstance(
        layer, (Conv1d, Linear)) else None) for layer in found)
    same = len(found) == len(LAYERS) and all(
        isinstance(layer, kind) and (arguments is None or _arguments(layer) == arguments)
        for layer, (kind, arguments) in zip(found, LAYERS))
    hint = ""
    if len(found) == len(LAYERS) and isinstance(found[-1], Linear) and \
            _arguments(found[-1]) not in (None, (182, 10)):
        hint = ": the Linear reads 14 channels times the width the convolutions leave " \
               "(13, from get_final_conv_output_size)"
    check(same, "CNN().layers should be [{}], got [{}]{} (see {})".format(
        wanted, described, hint, SECTION))
    return model, found


def test_cnn_layers():
    """CNN() builds the question's eight layers in self.layers."""
    build_cnn()


# Conv1d stacks (in, out, kernel, stride) with activations between, and input widths.
STACKS = [
    ([(24, 56, 5, 1), Tanh, (56, 28, 6, 2), ReLU, (28, 14, 2, 2), Sigmoid], [60, 75, 64]),
    ([(3, 4, 3, 2), ReLU, (4, 5, 2, 1)], [20, 9]),
    ([(6, 2, 4, 3)], [40, 4]),
    ([(5, 5, 2, 2), Sigmoid, (5, 6, 3, 1), Tanh, (6, 3, 1, 1), ReLU, (3, 2, 2, 3)], [33]),
]


def test_cnn_final_conv_output_size():
    """get_final_conv_output_size(layers, input_size): each Conv1d maps the width w to
    (w - kernel_size) // stride + 1, activations keep it; for the CNN's layers and 60,
    13, and the right width for other stacks and widths."""
    for stack, widths in STACKS:
        layers = [Conv1d(*item) if isinstance(item, tuple) else item() for item in stack]
        text = "[{}]".format(", ".join(describe_layer(layer) for layer in layers))
        for width in widths:
            expected = width
            for layer in layers:
                if isinstance(layer, Conv1d):
                    expected = output_size(expected, layer.kernel_size, layer.stride)
            with grader_output_size():
                got = call_function(get_final_conv_output_size, layers, width)
            check(got == expected, "get_final_conv_output_size({}, {}) should be {}, got {!r}"
                  "{}".format(text, width, expected, got,
                              ": compute it from the layers, not as a constant"
                              if got == 13 else ""))


def describe_layer(layer):
    if isinstance(layer, Conv1d):
        return _describe(Conv1d, _arguments(layer))
    return type(layer).__name__ + "()"


def test_cnn_training_steps():
    """The CNN, from PyTorch's initial weights, trained for 5 SGD steps (lr 0.1) with
    CrossEntropyLoss on batches of 1 to 3: every output, loss, gradient and update."""
    model, layers = build_cnn()
    run_on_grader_layers(layers)
    replay(fixture("cnn", "cnn"), model=(model, layers))
