"""Problems 1.4.1 and 1.4.2: TimeIterator.forward, its values and its gradients.

Each test is a plain function (pytest runs them); the spec scores them by the name's
prefix: test_time_iterator_forward -> 1.4.1, test_time_iterator_backward -> 1.4.2.

The student's TimeIterator runs the grader's own RNN cell
(``TimeIterator(GraderRNNUnit, input_size, hidden_size, nonlinearity)``), on the
grader's own indexing, ``cat``, packing and unpacking (``grader_tensor_ops``), over a
PackedSequence the grader builds: a bug in the RNN unit (1.1), in slicing or Cat (1.2)
or in packing (1.3) costs nothing here.  Gradients flow back from the grader's probe loss
on both results through the student's engine (HW1).  Expected values: torch.nn.RNN in
float64 (fixtures/time_iterator.npz), whose h_n is in the input's order: the fixtures
hold it in sorted order, as MyTorch's h_last is.
"""
import numpy as np

from autograder.helpers import check
from autograder.hw3_autograder.checks import (assert_grad, assert_indices, assert_shape,
                                              assert_value, cases, packed_fields)
from autograder.hw3_autograder.grader_ops import GraderRNNUnit, cat, grader_tensor_ops
from autograder.hw3_autograder.recurrences import rnn_backward, rnn_step, run
from autograder.probes import backprop, call_layer
from mytorch.nn.rnn import TimeIterator
from mytorch.nn.util import PackedSequence
from mytorch.tensor import Tensor

PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _params(fx):
    return {name: fx["param." + name] for name in PARAMETERS}


def _about(fx):
    lengths = [fx["seq{}".format(i)].shape[0] for i in range(int(fx["n"]))]
    hidden_size, input_size = fx["param.weight_ih"].shape
    return "TimeIterator(GraderRNNUnit, {}, {}, {!r}) on sequences of lengths {}{}".format(
        input_size, hidden_size, str(fx["nonlinearity"]), lengths,
        " with an initial hidden state" if "hidden" in fx else "")


def run_case(fx, requires_grad=False):
    """Build the TimeIterator on the grader's unit, run it on the case; returns
    (its unit, the input data, the hidden state or None, output, h_last, description)."""
    hidden_size, input_size = fx["param.weight_ih"].shape
    what = _about(fx)
    iterator = TimeIterator(GraderRNNUnit, input_size, hidden_size, str(fx["nonlinearity"]))
    unit = getattr(iterator, "unit", None)
    check(isinstance(unit, GraderRNNUnit),
          "TimeIterator(basic_unit, input_size, hidden_size, nonlinearity) should build its "
          "cell as self.unit = basic_unit(input_size, hidden_size, nonlinearity); self.unit is "
          "{!r}".format(unit))
    for name in PARAMETERS:
        getattr(unit, name).data = fx["param." + name].copy()
    data = Tensor(fx["data"].copy(), requires_grad=requires_grad)
    packed = PackedSequence(data, fx["sorted_indices"].copy(), fx["batch_sizes"].copy())
    hidden = Tensor(fx["hidden"].copy(), requires_grad=requires_grad) if "hidden" in fx else None
    with grader_tensor_ops(packing=True):
        result = call_layer(iterator, packed) if hidden is None else \
            call_layer(iterator, packed, hidden)
    check(isinstance(result, tuple) and len(result) == 2,
          "{} returned {}: forward returns (output, h_last), output a PackedSequence".format(
              what, "a " + type(result).__name__))
    output, h_last = result
    return unit, data, hidden, output, h_last, what


def _alternatives(fx):
    """Typical wrong (output data, h_last), each with what it means."""
    p, data, sizes = _params(fx), fx["data"], fx["batch_sizes"]
    hidden, hidden_size = (fx["hidden"] if "hidden" in fx else None), fx["param.weight_hh"].shape[0]

    def step(x, h):
        return rnn_step(p, x, h, str(fx["nonlinearity"]))
    output, h_last = run(step, data, sizes, hidden, hidden_size)
    fresh_output, fresh_last = run(step, data, sizes, hidden, hidden_size, carry=False)
    not_carried = "the hidden state was not carried from one step to the next: each step " \
                  "started again from the initial state"
    wrong_output = [(not_carried, fresh_output)]
    wrong_last = [(not_carried, fresh_last)]
    if hidden is not None:
        ignored = run(step, data, sizes, None, hidden_size)
        wrong_output.append(("the hidden argument was ignored (the loop started from zeros)",
                             ignored[0]))
        wrong_last.append(("the hidden argument was ignored (the loop started from zeros)",
                           ignored[1]))
    inverse = np.argsort(fx["sorted_indices"])
    wrong_last += [("h_last in input order, not sorted order: row i of h_last belongs to "
                    "sequence sorted_indices[i]", h_last[inverse]),
                   ("only the last time step's states: h_last holds every sequence's state at "
                    "its own last step", output[-int(sizes[-1]):]),
                   ("the last {} rows of output.data: a sequence's last state is at the row "
                    "of its own last step, sum(batch_sizes[:T_i - 1]) + i".format(len(h_last)),
                    output[-len(h_last):])]
    return wrong_output, wrong_last


# --------------------------------------------------------------------------- #
# 1.4.1 Forward
# --------------------------------------------------------------------------- #
def test_time_iterator_forward_output_and_h_last():
    for _, fx in cases("time_iterator", "layer"):
        unit, _, _, output, h_last, what = run_case(fx)
        data, sorted_indices, batch_sizes = packed_fields(output, what + ": output")
        wrong_output, wrong_last = _alternatives(fx)
        assert_value(data, fx["output"], what + ": output.data (the hidden state at every "
                     "step, packed)", alternatives=wrong_output)
        assert_indices(sorted_indices, fx["sorted_indices"],
                       what + ": output.sorted_indices (the input's)")
        assert_indices(batch_sizes, fx["batch_sizes"], what + ": output.batch_sizes (the "
                       "input's)")
        assert_value(h_last, fx["h_last"], what + ": h_last", alternatives=wrong_last)
        sizes = [int(n) for n in fx["batch_sizes"]]
        check(unit.calls == sizes,
              "{}: the unit ran on batches of {}; it should run once per time step on the "
              "batch_sizes[t] sequences still running, {} (no loop over the sequences)".format(
                  what, unit.calls, sizes))


# --------------------------------------------------------------------------- #
# 1.4.2 Backward
# --------------------------------------------------------------------------- #
def test_time_iterator_backward_through_time():
    """From sum(output.data * R1) + sum(h_last * R2): the gradients of the input data, the
    initial hidden state and the unit's parameters, summed over every step."""
    for _, fx in cases("time_iterator", "layer"):
        unit, data, hidden, output, h_last, what = run_case(fx, requires_grad=True)
        rows, _, _ = packed_fields(output, what + ": output")
        assert_shape(rows, fx["output"].shape, what + ": output.data")
        assert_shape(h_last, fx["h_last"].shape, what + ": h_last")
        with grader_tensor_ops():
            both = cat([rows, h_last], 0)
        backprop(both, np.concatenate([fx["R.output"], fx["R.h_last"]]))
        truncated = rnn_backward(_params(fx), fx["data"], fx["batch_sizes"],
                                 fx["hidden"] if "hidden" in fx else None,
                                 str(fx["nonlinearity"]), fx["R.output"], fx["R.h_last"],
                                 truncate=True)
        pattern = "the gradient stopped between steps: the hidden state passed to the next " \
                  "step must be the unit's output itself (no Tensor(h.data), no copy)"
        where = what + ", backward from sum(output.data * R1) + sum(h_last * R2)"
        assert_grad(data, fx["grad.data"], where + ": gradient of the input data",
                    alternatives=[(pattern, truncated["data"])])
        if hidden is not None:
            assert_grad(hidden, fx["grad.hidden"], where + ": gradient of the initial hidden "
                        "state", alternatives=[(pattern, truncated["hidden"])])
        for name in PARAMETERS:
            assert_grad(getattr(unit, name), fx["grad." + name],
                        "{}: unit.{}.grad (summed over the steps)".format(where, name),
                        alternatives=[(pattern, truncated[name])], parameter=True)

