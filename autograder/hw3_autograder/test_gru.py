"""Problems 2.1.1, 2.1.2 and 2.2: GRUUnit.forward, its gradients, and the GRU layer.

Each test is a plain function (pytest runs them); the spec scores them by the name's
prefix: test_gru_unit_forward -> 2.1.1, test_gru_unit_backward -> 2.1.2,
test_gru_layer_forward -> 2.2.

2.1: the unit is called directly (``probes.call_layer``) with its twelve parameters set
the way course code sets them, for input and hidden sizes 1 to 5, with and without h;
gradients flow back from the grader's probe loss.  2.2: the student's GRU, a
TimeIterator (1.4) over a GRUUnit (2.1), on a PackedSequence the grader builds; it
counts only once 1.4.1 and 2.1.1 pass (``@builds_on``).  All of it runs inside
``grader_tensor_ops()``, on the grader's slicing and ``cat``.  Expected values:
torch.nn.GRUCell and torch.nn.GRU in float64 (fixtures/gru.npz), PyTorch's stacked
weights split in its order r, z, n.
"""
import numpy as np

from autograder.helpers import builds_on, check
from autograder.hw3_autograder.checks import (assert_value, cases, check_unit_gradients,
                                              fixture)
from autograder.hw3_autograder.grader_ops import grader_tensor_ops
from autograder.hw3_autograder.recurrences import GRU_MISTAKES, gru_step, run
from autograder.probes import call_layer
from mytorch.nn.gru import GRU, GRUUnit
from mytorch.nn.util import PackedSequence
from mytorch.tensor import Tensor

PARAMETERS = ("weight_ir", "weight_iz", "weight_in", "weight_hr", "weight_hz", "weight_hn",
              "bias_ir", "bias_iz", "bias_in", "bias_hr", "bias_hz", "bias_hn")


def _params(fx):
    return {name: fx["param." + name] for name in PARAMETERS}


def _load(unit, fx):
    for name in PARAMETERS:
        getattr(unit, name).data = fx["param." + name].copy()


def _unit(fx):
    hidden_size, input_size = fx["param.weight_ir"].shape
    unit = GRUUnit(input_size, hidden_size)
    _load(unit, fx)
    return unit, "GRUUnit({}, {})".format(input_size, hidden_size)


def _inputs(fx):
    return "x {}{}".format(fx["x"].shape, ", h {}".format(fx["h"].shape) if "h" in fx
                           else ", no h (zeros)")


def _call(unit, fx, requires_grad=False):
    x = Tensor(fx["x"].copy(), requires_grad=requires_grad)
    h = Tensor(fx["h"].copy(), requires_grad=requires_grad) if "h" in fx else None
    with grader_tensor_ops():
        out = call_layer(unit, x) if h is None else call_layer(unit, x, h)
    return x, h, out


# --------------------------------------------------------------------------- #
# 2.1.1 Forward
# --------------------------------------------------------------------------- #
def test_gru_unit_forward_values():
    """r, z, n and h' as torch.nn.GRUCell computes them (bias_hn inside r * (...))."""
    for _, fx in cases("gru", "unit"):
        unit, name = _unit(fx)
        _, _, out = _call(unit, fx)
        h = fx["h"] if "h" in fx else np.zeros_like(fx["out"])
        wrong = [(description, gru_step(_params(fx), fx["x"], h, mistake))
                 for mistake, description in GRU_MISTAKES.items()]
        assert_value(out, fx["out"], "{}({}): h'".format(name, _inputs(fx)), alternatives=wrong)


def test_gru_unit_forward_reads_the_parameters_on_every_call():
    """New weights set with ``unit.weight_ir.data = array`` (and the others) between calls
    are used by the next call."""
    first, second = fixture("gru", "unit7"), fixture("gru", "unit8")
    unit, name = _unit(first)
    _call(unit, first)
    _load(unit, second)
    _, _, out = _call(unit, second)
    stale = gru_step(_params(first), second["x"], second["h"])
    assert_value(out, second["out"], "{}: h' after new weights were set with "
                 "unit.weight_ir.data = ... (and the others)".format(name),
                 alternatives=[("the first call's weights were used: forward must read the "
                                "parameters each time it runs", stale)]
                 + [(description, gru_step(_params(second), second["x"], second["h"], mistake))
                    for mistake, description in GRU_MISTAKES.items()])


# --------------------------------------------------------------------------- #
# 2.1.2 Backward
# --------------------------------------------------------------------------- #
def test_gru_unit_backward_gradients():
    """The gradients of x, h and the twelve parameters, from sum(h' * R)."""
    check_unit_gradients("gru", _unit, _call, _inputs, PARAMETERS)


# --------------------------------------------------------------------------- #
# 2.2 The GRU layer
# --------------------------------------------------------------------------- #
@builds_on("1.4.1", "2.1.1")
def test_gru_layer_forward_output_and_h_last():
    """GRU(input_size, hidden_size) over a packed batch: output and h_last (sorted order)."""
    for _, fx in cases("gru", "layer"):
        hidden_size, input_size = fx["param.weight_ir"].shape
        lengths = [fx["seq{}".format(i)].shape[0] for i in range(int(fx["n"]))]
        what = "GRU({}, {}) on sequences of lengths {}{}".format(
            input_size, hidden_size, lengths,
            " with an initial hidden state" if "hidden" in fx else "")
        gru = GRU(input_size, hidden_size)
        check(isinstance(getattr(gru, "unit", None), GRUUnit),
              "GRU(input_size, hidden_size) should be a TimeIterator over a GRUUnit (its "
              "self.unit); got {!r}".format(getattr(gru, "unit", None)))
        _load(gru.unit, fx)
        packed = PackedSequence(Tensor(fx["data"].copy()), fx["sorted_indices"].copy(),
                                fx["batch_sizes"].copy())
        hidden = Tensor(fx["hidden"].copy()) if "hidden" in fx else None
        with grader_tensor_ops(packing=True):
            result = gru(packed) if hidden is None else gru(packed, hidden)
        check(isinstance(result, tuple) and len(result) == 2 and hasattr(result[0], "data"),
              "{} returned {}: it returns (output, h_last), output a PackedSequence".format(
                  what, "a " + type(result).__name__))
        output, h_last = result
        _, expected_last = run(lambda x, h: gru_step(_params(fx), x, h), fx["data"],
                               fx["batch_sizes"], fx["hidden"] if "hidden" in fx else None,
                               hidden_size)
        assert_value(output.data, fx["output"], what + ": output.data")
        assert_value(h_last, fx["h_last"], what + ": h_last", alternatives=[
            ("h_last in input order, not sorted order: row i of h_last belongs to sequence "
             "sorted_indices[i]", expected_last[np.argsort(fx["sorted_indices"])])])
