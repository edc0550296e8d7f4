"""What the HW3 tests share: their fixture cases, and checks for what HW3 returns.

``cases("packing", "pack")`` yields every case of fixtures/packing.npz whose name is
``pack0``, ``pack1``, ...  The checks add to autograder/helpers.py what recurrent code
needs: a value whose shape is wrong in a recognisable way (``assert_value`` names the
pattern even then), integer index arrays (``assert_indices``), a parameter's gradient
that never arrived (``assert_grad`` says why that happens), and a PackedSequence's
fields (``packed_fields``).
"""
import numpy as np

from autograder.helpers import CheckFailure, assert_close, check, fixtures_beside, to_array
from autograder.probes import backprop
from mytorch.tensor import Tensor

# A failure's "at" line is the test's that called a check here (helpers.short_traceback).
__tracebackhide__ = True
fixture = fixtures_beside(__file__)


def cases(filename, prefix):
    """(index, Fixture) of each case ``prefix0``, ``prefix1``, ... of fixtures/filename.npz."""
    index = 0
    while True:
        try:
            fx = fixture(filename, "{}{}".format(prefix, index))
        except KeyError:
            return
        yield index, fx
        index += 1


def _same(got, value):
    return got.shape == np.shape(value) and np.allclose(got, value, rtol=1e-6, atol=1e-12)


def assert_value(got, expected, name, alternatives=()):
    """``assert_close`` that also names a typical wrong answer (description, value) whose
    shape differs from the expected one (h_last holding only the last step's rows)."""
    array = to_array(got, name)
    expected = np.asarray(expected, dtype=np.float64)
    if array.shape != expected.shape:
        for description, value in alternatives:
            if _same(array, np.asarray(value, dtype=np.float64)):
                raise CheckFailure("{}: shape {} expected, got shape {}\n  pattern: {}".format(
                    name, expected.shape, array.shape, description))
    assert_close(got, expected, name, alternatives=alternatives)


def assert_indices(got, expected, name, alternatives=()):
    """Integer indices (sorted_indices, batch_sizes): equal to ``expected``, element by
    element; a typical wrong answer (description, value) is named."""
    if isinstance(got, Tensor):
        got = got.data
    try:
        array = np.asarray(got)
    except (TypeError, ValueError):
        array = np.asarray([])
    expected = np.asarray(expected)
    check(array.dtype.kind in "biuf" and array.ndim == 1,
          "{}: expected an int ndarray like {}, got {!r}".format(name, expected.tolist(), got))
    if array.shape == expected.shape and np.array_equal(array, expected):
        check(array.dtype.kind in "iu",
              "{}: the values are right but of dtype {}: keep indices as ints (they index "
              "arrays)".format(name, array.dtype))
        return
    lines = ["{}: expected {}, got {}".format(name, expected.tolist(), array.tolist())]
    for description, value in alternatives:
        value = np.asarray(value)
        if value.shape == array.shape and not np.array_equal(value, expected) \
                and np.array_equal(array, value):
            lines.append("  pattern: " + description)
            break
    raise CheckFailure("\n".join(lines))


def assert_grad(tensor, expected, name, alternatives=(), parameter=False):
    """``tensor.grad`` against ``expected``; when no gradient arrived, say why that happens."""
    grad = getattr(tensor, "grad", None)
    if grad is None:
        raise CheckFailure(
            "{}: got None: no gradient arrived for it. {}".format(
                name, "Build the forward from the parameter Tensors themselves (self.weight_ih,"
                " ...), with Tensor operations: a copy (Tensor(p.data)) or NumPy on .data is "
                "outside the graph" if parameter else
                "Every step from this tensor to the output must be a Tensor operation (no "
                "NumPy on .data, no new Tensor(...) of its values)"))
    assert_value(grad, expected, name, alternatives)


def packed_fields(ps, what):
    """(data, sorted_indices, batch_sizes) of what the student returned as a PackedSequence."""
    fields = ("data", "sorted_indices", "batch_sizes")
    check(all(hasattr(ps, f) for f in fields),
          "{} returned {}: return a PackedSequence(data, sorted_indices, batch_sizes) "
          "(mytorch/nn/util.py), whose fields course code reads by name".format(
              what, "None" if ps is None else "a " + type(ps).__name__))
    check(isinstance(ps.data, Tensor),
          "{}: .data is a {}, not a Tensor: build it with Tensor operations, so that gradients "
          "flow through it".format(what, type(ps.data).__name__))
    return ps.data, ps.sorted_indices, ps.batch_sizes


def assert_shape(value, shape, name):
    """Before backpropagating through ``value``: it has ``shape`` (else the probe loss could
    not be formed; the forward's test says more)."""
    got = getattr(value, "shape", None)
    check(isinstance(value, Tensor) and tuple(got) == tuple(shape),
          "{}: a Tensor of shape {} expected, got {}".format(
              name, tuple(shape), "shape {}".format(tuple(got)) if isinstance(value, Tensor)
              else "a " + type(value).__name__))


def check_unit_gradients(filename, unit_of, call, inputs, parameters):
    """For each unit case of ``filename``: the gradients of x, h and every parameter of a
    recurrent unit (``unit_of(fx)`` -> (unit, its name); ``call(unit, fx, requires_grad)`` ->
    (x, h, h'); ``inputs(fx)`` describes them), from the probe loss sum(h' * R)."""
    for _, fx in cases(filename, "unit"):
        unit, name = unit_of(fx)
        x, h, out = call(unit, fx, requires_grad=True)
        backprop(out, fx["R"])
        where = "{}({}), backward from sum(h' * R)".format(name, inputs(fx))
        assert_grad(x, fx["grad.x"], where + ": x.grad")
        if h is not None:
            assert_grad(h, fx["grad.h"], where + ": h.grad")
        for parameter in parameters:
            assert_grad(getattr(unit, parameter), fx["grad." + parameter],
                        "{}: {}.grad".format(where, parameter), parameter=True)
