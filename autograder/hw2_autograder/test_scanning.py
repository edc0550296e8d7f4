"""Problems 2.1 and 2.2: the scanning MLPs as CNNs (hw2/mlp_scan.py).

test_simple_scanning_ -> 2.1 (CNN_SimpleScanningMLP), test_distributed_scanning_ -> 2.2
(CNN_DistributedScanningMLP).  Each class is built (its ``__init__``), checked layer by
layer, given the MLP's weights by ``init_weights``, and run on the data: the output
must be the MLP's at its 31 scan positions.

The weights and data are the project's own (fixtures/scanning.npz, made by a seeded
script in cases.py) in the course files' layout, (in, out): the test passes their
transposes, which are views, not copies; the simple MLP's are integers; the
distributed MLP's hold the shared values in every copy of a block and NaN elsewhere.
The expected outputs are PyTorch's, from the MLP itself.

Isolation: the student's Conv1d and Flatten layers run on the grader's own Conv1d
Function and Flatten (grader_layers.py), so only ``__init__`` and ``init_weights`` of
the class under test (and the given layers, and HW1's ReLU and engine) are graded.
"""
import numpy as np

from autograder.helpers import assert_close, assert_flags, check, fixtures_beside
from autograder.hw2_autograder.grader_layers import ATOL, RTOL, run_on_grader_layers
from mlp_scan import CNN_DistributedScanningMLP, CNN_SimpleScanningMLP
from mytorch.autograd_engine import BackwardFunction
from mytorch.nn.activations import ReLU
from mytorch.nn.conv import Conv1d, Flatten
from mytorch.nn.sequential import Sequential
from mytorch.tensor import Tensor

fixture = fixtures_beside(__file__)
SHEET = "docs/hw2p1.md#{}"

# The layers each class builds: Conv1d(in_channel, out_channel, kernel_size, stride)
SIMPLE = [(24, 8, 8, 4), "ReLU", (8, 16, 1, 1), "ReLU", (16, 4, 1, 1), "Flatten"]
DISTRIBUTED = [(24, 2, 2, 2), "ReLU", (2, 8, 2, 2), "ReLU", (8, 4, 2, 1), "Flatten"]
KINDS = {"ReLU": ReLU, "Flatten": Flatten}


def describe(layer):
    if isinstance(layer, Conv1d):
        return "Conv1d({}, {}, {}, {})".format(*conv_arguments(layer))
    return "{}()".format(type(layer).__name__)


def conv_arguments(layer):
    return tuple(getattr(layer, name, "?") for name in ("in_channel", "out_channel",
                                                          "kernel_size", "stride"))


def check_layers(model, expected, what, section):
    """``model.layers`` is a Sequential of the expected layers, in order; their list."""
    layers = getattr(model, "layers", None)
    wanted = ", ".join("Conv1d({}, {}, {}, {})".format(*e) if isinstance(e, tuple)
                       else e + "()" for e in expected)
    check(isinstance(layers, Sequential),
          "{}.layers should be a Sequential of the CNN's layers ({}), got {!r}".format(
              what, wanted, layers))
    found = list(layers.layers)
    ok = len(found) == len(expected) and all(
        isinstance(layer, Conv1d) and conv_arguments(layer) == e if isinstance(e, tuple)
        else isinstance(layer, KINDS[e]) for layer, e in zip(found, expected))
    check(ok, "{}.layers should be [{}] (Conv1d(in_channel, out_channel, kernel_size, "
              "stride)), got [{}] (see {})".format(what, wanted, ", ".join(
                  describe(layer) for layer in found), SHEET.format(section)))
    return found


def _run(model_class, case, expected_layers, section, conv_weights, wrong):
    """Build ``model_class``, load the case's weights (transposed views of the files'
    arrays), check its conv weights against ``conv_weights(w1, w2, w3)`` and its output
    against PyTorch's; ``wrong(w1, w2, w3)``: for each conv, typical wrong weights
    (description, value)."""
    fx = fixture("scanning", case)
    what = model_class.__name__
    model = model_class()
    layers = check_layers(model, expected_layers, what, section)
    weights = tuple(np.array(fx["w{}_file".format(i)]).T for i in (1, 2, 3))
    kind = "integer" if weights[0].dtype.kind == "i" else "float"
    call = "{}.init_weights((w1, w2, w3)), {} arrays that are transposed views".format(what,
                                                                                     kind)
    model.init_weights(weights)
    convs = [layer for layer in layers if isinstance(layer, Conv1d)]
    expected = conv_weights(*weights)
    alternatives = wrong(*weights)
    for index, (conv, w) in enumerate(zip(convs, expected)):
        name = "layers[{}].weight".format(layers.index(conv))
        where = "{}: {} ({})".format(call, name, describe(conv))
        weight = conv.weight
        check(isinstance(weight, Tensor), "{} should stay a Tensor, got {!r}".format(where,
                                                                                      weight))
        assert_flags(weight, where, why="init_weights must write the values into the existing "
                     "parameter (conv.weight.data = ...), keeping it a leaf parameter",
                     requires_grad=True, is_leaf=True, is_parameter=True)
        check(not isinstance(weight.grad_fn, BackwardFunction),
              "{} has grad_fn {}: init_weights recorded graph nodes (set .data with NumPy "
              "instead)".format(where, weight.grad_fn))
        data = np.asarray(weight.data)
        check(data.dtype == np.float64, "{} should hold float64 values, got dtype {} (the MLP's "
              "weights may be integers: convert them)".format(where, data.dtype))
        check(data.shape != w.shape or np.isfinite(data).all(),
              "{} holds NaN: the block taken from the MLP's weights is not one copy of the "
              "shared block (see {}: which inputs each block's neurons read)".format(
                  where, SHEET.format(section)))
        assert_close(data, w, where + ": (out_channel, in_channel, kernel_size)", RTOL, ATOL,
                     alternatives=alternatives[index])
        assert_close(conv.bias, np.zeros(w.shape[0]), where.replace(".weight", ".bias") +
                     ": the biases stay zero (the MLP has none)")
    run_on_grader_layers(layers)
    x = Tensor(np.array(fx["x"]))
    y = model(x)
    assert_close(y, fx["y"], "{}(x), x {} after {}: the output (N, 124), the MLP's 4 outputs "
                 "at 31 positions as (N, 4, 31) flattened".format(what, x.shape, call),
                 RTOL, ATOL)


# --------------------------------------------------------------------------- #
# 2.1 Simple scanning MLP
# --------------------------------------------------------------------------- #
def simple_weights(w1, w2, w3):
    """Conv weights (out, in, kernel): w1's 192 inputs are time-major (t * 24 + c)."""
    return (w1.reshape(8, 8, 24).transpose(0, 2, 1).astype(float),
            w2[:, :, None].astype(float), w3[:, :, None].astype(float))


def simple_mistakes(w1, w2, w3):
    steps = w1.reshape(8, 8, 24).transpose(0, 2, 1).astype(float)
    return [[("w1 reshaped channel-major: its 192 inputs run time step by time step (input "
              "t*24 + c), so split them into (8 steps, 24 channels) and swap those axes (see "
              "{})".format(SHEET.format("simple-scanning-mlp")), w1.reshape(8, 24, 8)),
             ("the time steps of w1 are in reverse order", steps[:, :, ::-1])], [], []]


def test_simple_scanning_mlp_integer_weights():
    """Integer weights, passed as transposed views (as the course's files give them)."""
    _run(CNN_SimpleScanningMLP, "simple_int", SIMPLE, "simple-scanning-mlp", simple_weights,
         simple_mistakes)


def test_simple_scanning_mlp_float_weights():
    _run(CNN_SimpleScanningMLP, "simple_float", SIMPLE, "simple-scanning-mlp", simple_weights,
         simple_mistakes)


# --------------------------------------------------------------------------- #
# 2.2 Distributed scanning MLP
# --------------------------------------------------------------------------- #
def distributed_weights(w1, w2, w3):
    """One copy of each shared block: layer 1's 2 neurons over 2 steps of 24 channels,
    layer 2's 8 neurons over 2 positions of 2 channels, layer 3 over 2 positions of 8."""
    return (w1[0:2, 0:48].reshape(2, 2, 24).transpose(0, 2, 1),
            w2[0:8, 0:4].reshape(8, 2, 2).transpose(0, 2, 1),
            w3.reshape(4, 2, 8).transpose(0, 2, 1))


def distributed_mistakes(w1, w2, w3):
    see = " (see {})".format(SHEET.format("distributed-scanning-mlp"))
    return [[("layer 1's block reshaped channel-major: its 48 inputs are 2 time steps of 24 "
              "channels, step by step, so split them into (steps, channels) and swap those "
              "axes" + see, w1[0:2, 0:48].reshape(2, 24, 2))],
            [("layer 2's block reshaped channel-major: its 4 inputs are 2 positions of layer "
              "1's 2 channels, position by position" + see, w2[0:8, 0:4].reshape(8, 2, 2))],
            [("layer 3's weights reshaped channel-major: its 16 inputs are 2 positions of "
              "layer 2's 8 channels, position by position" + see, w3.reshape(4, 8, 2))]]


def test_distributed_scanning_mlp():
    """Full-size weights with the shared values in every copy and NaN outside the blocks."""
    _run(CNN_DistributedScanningMLP, "distributed", DISTRIBUTED, "distributed-scanning-mlp",
         distributed_weights, distributed_mistakes)
