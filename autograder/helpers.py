"""What the autograder's tests share: comparisons with clear messages, fixtures, time limits.

A test calls ``assert_close(got, expected, "what it is")``; when the values
differ it raises ``CheckFailure`` (an AssertionError, so pytest reports it too)
whose message names the value, the shapes, the largest difference and where it
is.  ``to_array`` turns whatever the student's code returned (a Tensor, an
ndarray, a number) into an ndarray.  ``fixture("mlp", "sgd")`` reads the
expected values that make_fixtures.py computed with PyTorch.
"""
import contextlib
import io
import os
import signal
import threading
import traceback
from pathlib import Path

import numpy as np

AUTOGRADER_DIR = Path(__file__).resolve().parent
ROOT = AUTOGRADER_DIR.parent
FIXTURE_DIR = AUTOGRADER_DIR / "hw1_autograder" / "fixtures"

# float64 leaves ~1e-16 per operation.  Correct implementations (fused or built
# from Tensor ops, either variance formula) differ from PyTorch by at most ~6e-14
# absolute / ~2e-13 relative on these tests: these bounds leave a 100x margin.
RTOL, ATOL = 1e-9, 1e-11
# One elementwise operation: any correct formula is within a few ulps.
EXACT_RTOL, EXACT_ATOL = 1e-12, 1e-14


class CheckFailure(AssertionError):
    """The student's code produced a value (or a flag) that differs from the expected one."""


def check(condition, message):
    """Raise CheckFailure(message) unless ``condition``."""
    if not condition:
        raise CheckFailure(message)


# --------------------------------------------------------------------------- #
# Values
# --------------------------------------------------------------------------- #
def to_array(value, name="value"):
    """``value`` (a Tensor, ndarray or number) as an ndarray; CheckFailure for anything else."""
    if value is None:
        raise CheckFailure("{}: got None".format(name))
    data = value
    if not isinstance(value, (np.ndarray, np.generic, int, float)) and hasattr(value, "data"):
        data = value.data                                  # a Tensor
    if isinstance(data, (np.ndarray, np.generic, int, float)):
        array = np.asarray(data)
        if array.dtype.kind in "biuf":
            return array
    raise CheckFailure("{}: expected a Tensor (or a NumPy array), got {} {}"
                       .format(name, type(value).__name__, _abbreviate(value)))


def assert_close(got, expected, name, rtol=RTOL, atol=ATOL, scalar=False):
    """Check ``got`` against ``expected`` elementwise: |got - expected| <= atol + rtol * |expected|.

    ``scalar=True`` accepts any one-element shape for a one-element expected
    value (a loss of shape () or (1,)); otherwise the shapes must be equal.
    """
    expected = np.asarray(expected, dtype=np.float64)
    got = to_array(got, name)
    if scalar and expected.size == 1 and got.size == 1:
        got, expected = got.reshape(()), expected.reshape(())
    if got.shape != expected.shape:
        raise CheckFailure("{}: shape {} expected, got shape {}".format(name, expected.shape,
                                                                        got.shape))
    got = got.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(got - expected)
        bad = ~(difference <= atol + rtol * np.abs(expected))     # NaN counts as bad
    if not bad.any():
        return
    where = np.unravel_index(np.argmax(np.where(bad, np.nan_to_num(difference, nan=np.inf), -1)),
                             got.shape) if got.ndim else ()
    lines = ["{}: values differ (shape {}); {} of {} elements off".format(
        name, expected.shape, int(bad.sum()), expected.size)]
    if not np.isfinite(got).all() and np.isfinite(expected).all():
        lines.append("  got non-finite values (nan or inf): numerical overflow or 0/0?")
    lines.append("  max abs difference {} at index {}: expected {}, got {}".format(
        _number(difference[where]), tuple(int(i) for i in where), _number(expected[where]),
        _number(got[where])))
    lines.append("  (tolerance: atol {:g} + rtol {:g} * |expected|)".format(atol, rtol))
    if expected.size <= 12:
        lines.append("  expected {}".format(_preview(expected)))
        lines.append("  got      {}".format(_preview(got)))
    raise CheckFailure("\n".join(lines))


def assert_flags(tensor, name, **flags):
    """Check attributes such as requires_grad=True, is_leaf=False (handout Appendix A)."""
    for flag, value in flags.items():
        if not hasattr(tensor, flag):
            raise CheckFailure("{} has no attribute {!r} (it is a {})"
                               .format(name, flag, type(tensor).__name__))
        actual = getattr(tensor, flag)
        check(actual is value or (isinstance(actual, (bool, np.bool_)) and actual == value),
              "{}.{} should be {}, got {!r}".format(name, flag, value, actual))


def assert_no_grad(tensor, name, why):
    """Check that ``tensor.grad`` is None (``why``: the reason, for the message)."""
    check(getattr(tensor, "grad", None) is None,
          "{}.grad should be None ({}), got {}".format(name, why,
                                                     _abbreviate(getattr(tensor, "grad", None))))


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

    def keys(self, prefix=""):
        return [k for k in self._arrays if k.startswith(prefix)]


def fixture(filename, case):
    """The arrays of ``case`` in fixtures/``filename``.npz, keys without the ``case.`` prefix."""
    if filename not in _FIXTURE_CACHE:
        with np.load(FIXTURE_DIR / (filename + ".npz"), allow_pickle=False) as data:
            arrays = {}
            for key in data.files:
                array = data[key]
                array.flags.writeable = False      # a student's in-place edit cannot corrupt it
                arrays[key] = array
        _FIXTURE_CACHE[filename] = arrays
    prefix = case + "."
    arrays = {k[len(prefix):]: v for k, v in _FIXTURE_CACHE[filename].items()
              if k.startswith(prefix)}
    if not arrays:
        raise KeyError("no case {!r} in fixtures/{}.npz".format(case, filename))
    return Fixture(arrays, "{}:{}".format(filename, case))


# --------------------------------------------------------------------------- #
# Running student code: time limits, captured output, short tracebacks
# --------------------------------------------------------------------------- #
class TimeLimitExceeded(BaseException):
    """Raised in the student's code when a problem runs out of time.

    A BaseException, so that a student's ``except Exception`` cannot swallow it.
    """


class _Limit:
    expired = False


@contextlib.contextmanager
def time_limit(seconds):
    """Interrupt the block with TimeLimitExceeded after ``seconds`` (SIGALRM; main thread only).

    Yields an object whose ``expired`` turns True when the limit is hit, so a
    caller can tell even if the student's code caught the exception; the alarm
    then repeats every second until the block ends.  Where SIGALRM is
    unavailable (Windows, a non-main thread) the block runs without a limit.
    """
    limit = _Limit()
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield limit
        return

    def on_alarm(signum, frame):
        limit.expired = True
        raise TimeLimitExceeded("timed out after {:g} s".format(seconds))

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        yield limit
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class BoundedOutput(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and ``max_lines`` lines
    written to it, and counts the rest (so a print() in a loop cannot flood the report)."""

    def __init__(self, limit=2000, max_lines=20):
        super().__init__()
        self.limit, self.max_lines = limit, max_lines
        self.kept, self.total = [], 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - sum(len(t) for t in self.kept) if self.total < self.limit else 0
        if room > 0:
            self.kept.append(text[:room])
        self.total += len(text)
        return len(text)

    def getvalue(self):
        kept = "".join(self.kept)
        lines = kept.splitlines()
        shown = "\n".join(lines[:self.max_lines])
        hidden = self.total - len(shown)
        if hidden > 1:
            shown += "\n... ({} more characters not shown; --show-output shows all)".format(hidden)
        return shown


@contextlib.contextmanager
def captured_output(limit=2000):
    """Send the block's print()s and warnings (stdout and stderr) to one BoundedOutput."""
    sink = BoundedOutput(limit)
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        yield sink


def short_traceback(error, limit=4):
    """The last ``limit`` frames of ``error``'s traceback outside the autograder's machinery,
    as "path:line in function" lines (paths relative to the project), each with its source line."""
    machinery = {str(AUTOGRADER_DIR / "helpers.py"),
                 str(AUTOGRADER_DIR / "hw1_autograder" / "runner.py")}
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if os.path.abspath(f.filename) not in machinery
              and not f.filename.startswith("<frozen")]
    lines = []
    for frame in frames[-limit:]:
        path = Path(os.path.abspath(frame.filename))
        try:
            path = path.relative_to(ROOT)
        except ValueError:
            pass
        lines.append("{}:{} in {}".format(path, frame.lineno, frame.name))
        if frame.line:
            lines.append("    " + frame.line.strip())
    return lines
