"""What the autograder's tests share: comparisons that explain themselves, and fixtures.

A test calls ``assert_close(got, expected, "what it is")``; when the values
differ it raises ``CheckFailure`` (an AssertionError, so pytest reports it too)
whose message names the value, the shapes, the first differing element, the
largest difference, and a pattern when every element shows one ("the sign is
flipped", "5 times too large: summed instead of averaged over the batch of 5",
"the transpose", "the other input's gradient", ...).  ``to_array`` turns
whatever the student's code returned (a Tensor, an ndarray, a number) into an
ndarray.  ``fixture("mlp", "sgd")`` reads the expected values that
make_fixtures.py computed with PyTorch (a test module makes its own reader with
``fixture = fixtures_beside(__file__)``).  ``@builds_on("2.1")`` marks a
whole-model test that counts only when problem 2.1 passes.
"""
import os
import traceback
from pathlib import Path

import numpy as np

AUTOGRADER_DIR = Path(__file__).resolve().parent
ROOT = AUTOGRADER_DIR.parent

# The course's tolerances (rtol 1e-5, atol 1e-8): every correct formula passes them (a
# different but valid cross-entropy or variance formula differs from PyTorch by ~1e-8 in
# the worst case seen in real students' code), and the tests' data make the typical
# mistakes differ by far more (a BatchNorm without eps is tested on inputs whose variance
# is small enough for eps to matter).
RTOL, ATOL = 1e-5, 1e-8
PATTERN_RTOL = 1e-6


class CheckFailure(AssertionError):
    """The student's code produced a value (or a flag) that differs from the expected one."""


def check(condition, message):
    """Raise CheckFailure(message) unless ``condition``."""
    if not condition:
        raise CheckFailure(message)


def builds_on(*problems):
    """Mark a whole-model test: it also runs these problems' code, so it counts only
    when they pass (otherwise the report says "not graded" and it costs nothing)."""
    def mark(test):
        test.builds_on = problems
        return test
    return mark


# --------------------------------------------------------------------------- #
# Values
# --------------------------------------------------------------------------- #
def to_array(value, name="value"):
    """``value`` (a Tensor, ndarray or number) as an ndarray; CheckFailure for anything else."""
    if value is None:
        raise CheckFailure("{}: got None{}".format(name, ": no gradient arrived for it"
                                                   if "grad" in name else ""))
    data = value
    if not isinstance(value, (np.ndarray, np.generic, int, float)) and hasattr(value, "data"):
        data = value.data                                  # a Tensor
    if isinstance(data, (np.ndarray, np.generic, int, float)):
        array = np.asarray(data)
        if array.dtype.kind in "biuf":
            return array
    raise CheckFailure("{}: expected a Tensor (or a NumPy array), got {} {}"
                       .format(name, type(value).__name__, _abbreviate(value)))


def assert_close(got, expected, name, rtol=RTOL, atol=ATOL, scalar=False, batch=None,
                 alternatives=(), squeeze=False):
    """Check ``got`` against ``expected`` elementwise: |got - expected| <= atol + rtol * |expected|.

    ``scalar=True`` accepts any one-element shape for a one-element expected
    value (a loss of shape () or (1,)); ``squeeze=True`` accepts a shape that differs
    only by axes of size 1 (a running mean kept as (1, F) where PyTorch keeps (F,));
    otherwise the shapes must be equal.
    ``batch`` (the batch size) lets the message recognise a sum taken instead of a
    mean and the reverse; ``alternatives`` are (description, array) pairs of
    typical wrong answers, named when ``got`` equals one of them.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = to_array(got, name)
    if scalar and expected.size == 1 and got.size == 1:
        got, expected = got.reshape(()), expected.reshape(())
    if squeeze and got.shape != expected.shape and \
            tuple(n for n in got.shape if n != 1) == tuple(n for n in expected.shape if n != 1):
        got = got.reshape(expected.shape)
    if got.shape != expected.shape:
        raise CheckFailure("{}: shape {} expected, got shape {}{}".format(
            name, expected.shape, got.shape, _shape_hint(got, expected, name)))
    got = got.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(got - expected)
        bad = ~(difference <= atol + rtol * np.abs(expected))     # NaN counts as bad
    if not bad.any():
        return
    lines = ["{}: values differ (shape {}); {} of {} elements off".format(
        name, expected.shape, int(bad.sum()), expected.size)]
    first = tuple(int(i) for i in np.argwhere(bad)[0]) if got.ndim else ()
    lines.append("  first differing element {}: expected {}, got {}".format(
        _index(first), _number(expected[first]), _number(got[first])))
    worst = tuple(int(i) for i in np.unravel_index(
        np.argmax(np.where(bad, np.nan_to_num(difference, nan=np.inf), -1)), got.shape)) \
        if got.ndim else ()
    if worst != first:
        lines.append("  largest difference {} {}: expected {}, got {}".format(
            _number(difference[worst]), _index(worst), _number(expected[worst]),
            _number(got[worst])))
    if not np.isfinite(got).all() and np.isfinite(expected).all():
        lines.append("  got non-finite values (nan or inf): numerical overflow or 0/0?")
    pattern = diagnose(got, expected, batch, alternatives)
    if pattern:
        lines.append("  pattern: " + pattern)
    if expected.size <= 12:
        lines.append("  expected {}".format(_preview(expected)))
        lines.append("  got      {}".format(_preview(got)))
    raise CheckFailure("\n".join(lines))


def _same(a, b):
    """True if every element of a equals b within the pattern precision."""
    with np.errstate(invalid="ignore", over="ignore"):
        scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1e-300)
        return bool(np.all(np.abs(a - b) <= PATTERN_RTOL * np.abs(b) + 1e-12 * scale))


def diagnose(got, expected, batch=None, alternatives=()):
    """A sentence for a pattern that every element of ``got`` shows, or None."""
    if not (np.isfinite(got).all() and np.isfinite(expected).all()) or not expected.any():
        return None
    for description, value in alternatives:
        value = np.asarray(value, dtype=np.float64)
        if value.shape == got.shape and not _same(value, expected) and _same(got, value):
            return description
    if _same(got, -expected):
        return "the sign is flipped on every element"
    if got.ndim == 2 and got.shape[0] == got.shape[1] and _same(got, expected.T) \
            and not _same(expected, expected.T):
        return "got the transpose of the expected value"
    if not got.any():
        return "got zeros everywhere"
    factor = _common_factor(got, expected)
    if factor is not None:
        if batch and abs(factor - batch) <= PATTERN_RTOL * batch:
            return ("{0:g} times too large everywhere: summed over the batch instead of "
                    "averaged (the batch has {0:g} rows)".format(batch))
        if batch and abs(factor * batch - 1) <= PATTERN_RTOL:
            return ("{0:g} times too small everywhere: averaged over the batch instead of "
                    "summed, or divided by the batch size ({0:g}) twice".format(batch))
        if got.size == 1:          # on one number a ratio is no pattern: say nothing
            return None
        return "every element is {} times the expected value".format(_number(factor))
    return None


def _common_factor(got, expected):
    """k if got == k * expected on every element (k != 1, 0), else None."""
    nonzero = np.abs(expected) > 1e-12 * np.max(np.abs(expected))
    if not np.all(np.abs(got[~nonzero]) <= 1e-12 * np.max(np.abs(expected))):
        return None
    ratios = got[nonzero] / expected[nonzero]
    k = float(np.median(ratios))
    if k == 0 or abs(k - 1) <= PATTERN_RTOL or not np.all(np.abs(ratios - k) <= PATTERN_RTOL * abs(k)):
        return None
    return k


def _shape_hint(got, expected, name=""):
    if got.shape == expected.shape[::-1] and got.ndim == 2:
        return " (the transpose?)"
    if "grad" not in name:                       # the unbroadcast hint is for gradients only
        return ""
    try:
        if np.broadcast(np.empty(got.shape), np.empty(expected.shape)).shape == got.shape:
            return (": the gradient of a broadcast input must be summed back to the input's "
                    "shape (unbroadcast)")
    except ValueError:
        pass
    return ""


def assert_flags(tensor, name, why=None, **flags):
    """Check attributes such as requires_grad=True, is_leaf=False (handout Appendix A);
    ``why`` (optional) says what the flag means, for the message."""
    for flag, value in flags.items():
        if not hasattr(tensor, flag):
            raise CheckFailure("{} has no attribute {!r} (it is a {})"
                               .format(name, flag, type(tensor).__name__))
        actual = getattr(tensor, flag)
        check(actual is value or (isinstance(actual, (bool, np.bool_)) and actual == value),
              "{}.{} should be {}, got {!r}{}".format(name, flag, value, actual,
                                                     ": " + why if why else ""))


def assert_no_grad(tensor, name, why):
    """Check that ``tensor.grad`` is None (``why``: the reason, for the message)."""
    check(getattr(tensor, "grad", None) is None,
          "{}.grad should be None ({}), got {}".format(name, why,
                                                     _abbreviate(getattr(tensor, "grad", None))))


def _index(index):
    return "at index {}".format(index) if index else "(the only element)"


def _number(value):
    return "{:.10g}".format(float(value))


def _preview(array):
    return np.array2string(np.asarray(array), precision=6, separator=", ",
                           max_line_width=1000).replace("\n", "")


def _abbreviate(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- #
# Fixtures (made by hw1_autograder/make_fixtures.py with PyTorch)
# --------------------------------------------------------------------------- #
_FIXTURE_CACHE = {}


def load_fixtures(directory):
    """Read every fixture file in ``directory`` now (the grader does this once, before it
    starts a child process per problem, so no child reads them again)."""
    for path in sorted(Path(directory).glob("*.npz")):
        _load(path)


def _load(path):
    key = str(path)
    if key not in _FIXTURE_CACHE:
        with np.load(key, allow_pickle=False) as data:
            arrays = {}
            for name in data.files:
                array = data[name]
                array.flags.writeable = False      # a student's in-place edit cannot corrupt it
                arrays[name] = array
        _FIXTURE_CACHE[key] = arrays
    return _FIXTURE_CACHE[key]


class Fixture:
    """The arrays of one case of a fixture file: ``fx["step0.x"]`` (read-only; copy to use)."""

    def __init__(self, arrays, label):
        self._arrays, self.label = arrays, label

    def __getitem__(self, key):
        try:
            return self._arrays[key]
        except KeyError:
            raise KeyError("fixture {} has no {!r}: regenerate the fixtures with "
                           "make_fixtures.py".format(self.label, key)) from None

    def __contains__(self, key):
        return key in self._arrays


def fixtures_beside(module_file):
    """``fixture(filename, case)`` for the fixtures/ folder beside ``module_file`` (a test
    module's ``__file__``)."""
    directory = Path(module_file).resolve().parent / "fixtures"

    def fixture_here(filename, case):
        return fixture(filename, case, directory)
    return fixture_here


def fixture(filename, case, directory):
    """The arrays of ``case`` in ``directory``/``filename``.npz, keys without the ``case.`` prefix."""
    prefix = case + "."
    arrays = {k[len(prefix):]: v for k, v in _load(Path(directory) / (filename + ".npz")).items()
              if k.startswith(prefix)}
    if not arrays:
        raise KeyError("no case {!r} in fixtures/{}.npz".format(case, filename))
    return Fixture(arrays, "{}:{}".format(filename, case))


# --------------------------------------------------------------------------- #
# Where things happened
# --------------------------------------------------------------------------- #
_MACHINERY = {str(AUTOGRADER_DIR / name) for name in ("helpers.py", "grading.py", "child.py",
                                                       "loader.py", "isolation.py")}


def relative(path):
    """``path`` relative to the project root when it is inside it."""
    try:
        return str(Path(os.path.abspath(str(path))).relative_to(ROOT))
    except ValueError:
        return str(path)


def relative_frame(text):
    """A "path:line in function" string with the path made relative."""
    path, _, rest = text.partition(":")
    return relative(path) + ":" + rest if rest else text


def short_traceback(error, limit=4):
    """The last ``limit`` frames of ``error``'s traceback outside the autograder's machinery,
    as "path:line in function" lines (paths relative to the project), each with its source line.

    A grader's own check helpers hide their frames as pytest lets them, with
    ``__tracebackhide__ = True`` in the function or its module: the line shown is then the
    test's that called them."""
    kept = [(frame, line) for frame, line in traceback.walk_tb(error.__traceback__)
            if os.path.abspath(frame.f_code.co_filename) not in _MACHINERY
            and not frame.f_code.co_filename.startswith("<frozen")
            and not frame.f_locals.get("__tracebackhide__", frame.f_globals.get(
                "__tracebackhide__"))]
    frames = traceback.StackSummary.extract(iter(kept))
    lines = []
    for frame in frames[-limit:]:
        lines.append("{}:{} in {}".format(relative(frame.filename), frame.lineno, frame.name))
        if frame.line:
            lines.append("    " + frame.line.strip())
    return lines
