"""Problems 1.1.1 and 1.1.2: RNNUnit.forward and the gradients that flow back through it.

Each test is a plain function (pytest runs them); the spec scores them by the name's
prefix: test_rnn_unit_forward -> 1.1.1, test_rnn_unit_backward -> 1.1.2.  Both grade
one student function, RNNUnit.forward: its values, then its gradients.

The unit is called directly (``probes.call_layer``) with its parameters set the way
course code sets them (``unit.weight_ih.data = array``), for input and hidden sizes 1
to 5, both nonlinearities, with and without h; gradients flow back from the grader's
probe loss sum(h' * R).  The tests run inside ``grader_tensor_ops()``, so a unit that
slices or joins uses the grader's operations, not the student's 1.2 code.  Expected
values: torch.nn.RNNCell in float64 (fixtures/rnn_unit.npz).
"""
import numpy as np

from autograder.hw3_autograder.checks import (assert_value, cases, check_unit_gradients,
                                              fixture)
from autograder.hw3_autograder.grader_ops import grader_tensor_ops
from autograder.hw3_autograder.recurrences import rnn_step
from autograder.probes import call_layer
from mytorch.nn.rnn import RNNUnit
from mytorch.tensor import Tensor

PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _unit(fx):
    """RNNUnit(input_size, hidden_size, nonlinearity) with the case's parameters."""
    hidden_size, input_size = fx["param.weight_ih"].shape
    nonlinearity = str(fx["nonlinearity"])
    unit = RNNUnit(input_size, hidden_size, nonlinearity)
    for name in PARAMETERS:
        getattr(unit, name).data = fx["param." + name].copy()
    return unit, "RNNUnit({}, {}, nonlinearity={!r})".format(input_size, hidden_size,
                                                            nonlinearity)


def _params(fx):
    return {name: fx["param." + name] for name in PARAMETERS}


def _wrong_outputs(fx):
    """Typical wrong forwards, each with what it means."""
    p, x = _params(fx), fx["x"]
    h = fx["h"] if "h" in fx else np.zeros_like(fx["out"])
    nonlinearity = str(fx["nonlinearity"])
    other = "relu" if nonlinearity == "tanh" else "tanh"
    wrong = [("{} instead of {}: the unit must use its nonlinearity".format(other, nonlinearity),
              rnn_step(p, x, h, other)),
             ("bias_hh is missing", rnn_step(p, x, h, nonlinearity, without=("bias_hh",))),
             ("bias_ih is missing", rnn_step(p, x, h, nonlinearity, without=("bias_ih",))),
             ("the hidden state h was ignored (the unit ran from zeros)",
              rnn_step(p, x, np.zeros_like(h), nonlinearity))]
    if p["weight_ih"].shape == p["weight_hh"].shape:
        swapped = dict(p, weight_ih=p["weight_hh"], weight_hh=p["weight_ih"])
        wrong.append(("weight_ih and weight_hh swapped: x goes through weight_ih, h through "
                      "weight_hh", rnn_step(swapped, x, h, nonlinearity)))
    return wrong


def _call(unit, fx, requires_grad=False):
    """(x, h or None, the unit's output) for the case's inputs."""
    x = Tensor(fx["x"].copy(), requires_grad=requires_grad)
    h = Tensor(fx["h"].copy(), requires_grad=requires_grad) if "h" in fx else None
    with grader_tensor_ops():
        out = call_layer(unit, x) if h is None else call_layer(unit, x, h)
    return x, h, out


def _inputs(fx):
    return "x {}{}".format(fx["x"].shape, ", h {}".format(fx["h"].shape) if "h" in fx
                           else ", no h (zeros)")


# --------------------------------------------------------------------------- #
# 1.1.1 Forward
# --------------------------------------------------------------------------- #
def test_rnn_unit_forward_values():
    """h' = act(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh), as torch.nn.RNNCell."""
    for _, fx in cases("rnn_unit", "unit"):
        unit, name = _unit(fx)
        _, _, out = _call(unit, fx)
        assert_value(out, fx["out"], "{}({}): h'".format(name, _inputs(fx)),
                     alternatives=_wrong_outputs(fx))


def test_rnn_unit_forward_reads_the_parameters_on_every_call():
    """Course code sets new weights with ``unit.weight_ih.data = array`` between calls: the
    next call must use them (no copies kept from an earlier call)."""
    first, second = fixture("rnn_unit", "unit7"), fixture("rnn_unit", "unit8")
    unit, name = _unit(first)
    _call(unit, first)
    for parameter in PARAMETERS:
        getattr(unit, parameter).data = second["param." + parameter].copy()
    _, _, out = _call(unit, second)
    stale = rnn_step(_params(first), second["x"], second["h"], str(first["nonlinearity"]))
    assert_value(out, second["out"], "{}: h' after new weights were set with "
                 "unit.weight_ih.data = ... (and the others)".format(name),
                 alternatives=[("the first call's weights were used: forward must read "
                                "self.weight_ih (and the others) each time it runs", stale)]
                 + _wrong_outputs(second))


# --------------------------------------------------------------------------- #
# 1.1.2 Backward
# --------------------------------------------------------------------------- #
def test_rnn_unit_backward_gradients():
    """The gradients of x, h and the four parameters, from sum(h' * R)."""
    check_unit_gradients("rnn_unit", _unit, _call, _inputs, PARAMETERS)
