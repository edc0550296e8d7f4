#!/usr/bin/env python3
"""Local autograder for HW1 Part 1, Problems 1.1-2.6 (``./grade.sh 1``).

    python3 autograder/hw1_autograder/runner.py               # every problem
    python3 autograder/hw1_autograder/runner.py 1.1.1 2.4     # only these
    python3 autograder/hw1_autograder/runner.py --timeout 10  # seconds per problem

The tests are the plain ``test_*`` functions of test_autograd.py and
test_mlp.py (pytest runs the same functions); PROBLEMS maps each problem to
the functions whose names start with its prefix.  A problem scores its points
when all of its tests pass, else 0.  A test that fails, raises, exits, prints
or runs past the time limit (AUTOGRADER_TIMEOUT, default 60 s per problem)
costs only its own problem.  The output ends with one line per problem, the
total, and an Autolab-style JSON line.  Exit status: 0 if every problem
passed, 1 if not, 2 for bad arguments.

From Python: ``run(problems=None, timeout=None, stream=None) -> {problem: score}``.
"""
import argparse
import contextlib
import importlib
import json
import os
import platform
import sys
import time
from collections import namedtuple
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import helpers  # noqa: E402  (needs ROOT on sys.path)

TIMEOUT_ENV = "AUTOGRADER_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
MAX_MESSAGE_LINES = 30

Problem = namedtuple("Problem", "number name points module prefix")
PROBLEMS = (
    Problem("1.1.0", "Addition", 0, "test_autograd", "test_add_"),     # given: shown, not scored
    Problem("1.1.1", "Subtraction", 5, "test_autograd", "test_sub_"),
    Problem("1.1.2", "Multiplication", 5, "test_autograd", "test_mul_"),
    Problem("1.1.3", "Division", 5, "test_autograd", "test_div_"),
    Problem("1.2", "Autograd", 25, "test_autograd", "test_autograd_"),
    Problem("2.1", "Linear", 5, "test_mlp", "test_linear_"),
    Problem("2.2", "ReLU", 10, "test_mlp", "test_relu_"),
    Problem("2.3", "SGD", 10, "test_mlp", "test_sgd_"),
    Problem("2.4", "BatchNorm", 10, "test_mlp", "test_batchnorm_"),
    Problem("2.5", "Cross-entropy", 15, "test_mlp", "test_cross_entropy_"),
    Problem("2.6", "Momentum", 10, "test_mlp", "test_momentum_"),
)
MNIST_NOTE = ("Problem 3 (MNIST, 10 points) is graded by hand from hw1/validation_accuracy.png "
              "(made by ./grade.sh m): 100/110 is a full local score.")


def key(problem):
    """The problem's name in the output and the JSON: "1.1.1 Subtraction"."""
    return "{} {}".format(problem.number, problem.name)


class Result:
    """How one problem went: ``failures`` is [(test name, message lines)]."""

    def __init__(self, problem):
        self.problem, self.failures, self.output, self.seconds = problem, [], "", 0.0

    @property
    def passed(self):
        return not self.failures

    @property
    def score(self):
        return self.problem.points if self.passed else 0


# --------------------------------------------------------------------------- #
# Running
# --------------------------------------------------------------------------- #
def tests_of(problem):
    """[(name, function)] of the problem's tests, in the order they are written."""
    module = importlib.import_module("autograder.hw1_autograder." + problem.module)
    tests = [(name, value) for name, value in vars(module).items()
             if name.startswith(problem.prefix) and callable(value)]
    return sorted(tests, key=lambda item: item[1].__code__.co_firstlineno)


def describe(error, timeout=None):
    """Message lines for an exception raised by a test (or by the student's code under it)."""
    if isinstance(error, helpers.TimeLimitExceeded):
        where = helpers.short_traceback(error, limit=3)
        lines = ["timed out after {:g} s, the limit per problem (an infinite loop? set {} or "
                 "--timeout to change it); {}".format(
                     timeout, TIMEOUT_ENV, "it was running:" if where else
                     "your code caught the timeout (an `except:` or `except BaseException:`)")]
        return lines + ["  " + line for line in where]
    if isinstance(error, helpers.CheckFailure):
        lines = str(error).splitlines() or ["check failed"]
        where = helpers.short_traceback(error, limit=1)
        return lines + (["  at " + where[0]] if where else [])
    if isinstance(error, SystemExit):
        lines = ["your code called exit({!r})".format(error.code)]
    else:
        lines = ["{}: {}".format(type(error).__name__, error).splitlines()[0]]
        lines += str(error).splitlines()[1:]
    if isinstance(error, SyntaxError) and error.filename:
        lines.append("  {}:{}: {}".format(_relative(error.filename), error.lineno,
                                          (error.text or "").strip()))
    return lines + ["  traceback (most recent call last):"] + \
        ["    " + line for line in helpers.short_traceback(error, limit=5)]


def _relative(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def grade_problem(problem, timeout=DEFAULT_TIMEOUT, capture=True, broken_modules=None):
    """Run every test of ``problem`` (never raises, except KeyboardInterrupt).

    ``broken_modules`` ({module: problem}) remembers test modules that failed to
    import, so the error is explained once, under the first problem that hit it.
    """
    result = Result(problem)
    broken_modules = {} if broken_modules is None else broken_modules
    if problem.module in broken_modules:
        result.failures.append(("(importing the tests)", [
            "{}.py could not be imported: see {} above".format(
                problem.module, key(broken_modules[problem.module]))]))
        return result
    started = time.perf_counter()
    current = "(importing the tests)"
    sink = helpers.captured_output() if capture else contextlib.nullcontext()
    with sink as output:
        try:
            with helpers.time_limit(timeout) as limit:
                tests = tests_of(problem)
                for current, function in tests:
                    try:
                        function()
                    except (helpers.TimeLimitExceeded, KeyboardInterrupt):
                        raise
                    except BaseException as error:    # failures, errors, exit(), ...
                        result.failures.append((current, describe(error)))
                    if limit.expired:                 # the student's code swallowed it
                        raise helpers.TimeLimitExceeded()
                if not tests:
                    result.failures.append((problem.prefix + "*", ["no tests found"]))
        except helpers.TimeLimitExceeded as error:
            result.failures.append((current, describe(error, timeout)))
        except KeyboardInterrupt:
            raise
        except BaseException as error:                # the test module did not import
            result.failures.append((current, describe(error)))
            broken_modules[problem.module] = problem
    result.output = output.getvalue() if capture else ""
    result.seconds = time.perf_counter() - started
    return result


def resolve_timeout(timeout=None):
    """``timeout`` if given, else $AUTOGRADER_TIMEOUT, else 60 (seconds; 0 = no limit)."""
    if timeout is not None:
        return float(timeout)
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        return float(text)
    except ValueError:
        raise ValueError("{}={!r} is not a number of seconds".format(TIMEOUT_ENV, text)) from None


def select(problems=None):
    """The Problem tuples named by ``problems`` ("2.4", "1.1.1 Subtraction", ...); None: all."""
    if problems is None:
        return list(PROBLEMS)
    chosen = []
    for wanted in problems:
        matches = [p for p in PROBLEMS if str(wanted).strip() in (p.number, key(p), p.name)]
        if not matches:
            raise ValueError("unknown problem {!r}; choose from: {}".format(
                wanted, ", ".join(p.number for p in PROBLEMS)))
        chosen += [p for p in matches if p not in chosen]
    return sorted(chosen, key=PROBLEMS.index)


def grade(problems=None, timeout=None, stream=None, capture=True):
    """Grade the selected problems, print the report to ``stream``; return [Result]."""
    stream = sys.stdout if stream is None else stream
    chosen, limit = select(problems), resolve_timeout(timeout)
    print("MyTorch local autograder, HW1 Part 1 (Python {}, NumPy {})".format(
        platform.python_version(), _numpy_version()), file=stream)
    results, broken_modules = [], {}
    for problem in chosen:
        result = grade_problem(problem, limit, capture, broken_modules)
        results.append(result)
        if not result.passed:
            print_failure(result, stream)
        stream.flush()
    print_summary(results, stream, full=len(chosen) == len(PROBLEMS))
    return results


def run(problems=None, timeout=None, stream=None, capture=True):
    """Grade and report; return {"1.1.1 Subtraction": score, ...} in problem order."""
    return {key(r.problem): r.score for r in grade(problems, timeout, stream, capture)}


def _numpy_version():
    try:
        import numpy
        return numpy.__version__
    except ImportError:
        return "not installed"


# --------------------------------------------------------------------------- #
# Report
# --------------------------------------------------------------------------- #
def print_failure(result, stream):
    problem = result.problem
    print("\nFAIL {} ({} points)".format(key(problem), problem.points), file=stream)
    for name, lines in result.failures:
        print("  " + name, file=stream)
        if len(lines) > MAX_MESSAGE_LINES:
            lines = lines[:MAX_MESSAGE_LINES] + ["... ({} more lines)".format(
                len(lines) - MAX_MESSAGE_LINES)]
        for line in lines:
            print("    " + line, file=stream)
    if result.output.strip():
        print("  your code printed:", file=stream)
        for line in result.output.rstrip().splitlines():
            print("    | " + line, file=stream)


def print_summary(results, stream, full=True):
    width = max(len(key(r.problem)) for r in results) if results else 10
    print("\n{:<{w}}  {:>6}  {}".format("Problem", "Score", "Result", w=width), file=stream)
    for r in results:
        print("{:<{w}}  {:>6}  {}".format(key(r.problem), "{}/{}".format(r.score, r.problem.points),
                                          "PASS" if r.passed else "FAIL", w=width), file=stream)
    total = sum(r.score for r in results)
    possible = sum(r.problem.points for r in results)
    print("Total score: {}/{}{}".format(total, possible, "" if full else " (selected problems)"),
          file=stream)
    if full:
        print(MNIST_NOTE, file=stream)
    print(json.dumps({"scores": {key(r.problem): r.score for r in results}}), file=stream)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Score HW1P1 Problems 1.1-2.6 (./grade.sh 1).",
        epilog="Exit status: 0 if every problem passed, 1 otherwise.")
    parser.add_argument("problems", nargs="*", metavar="PROBLEM",
                        help="problem numbers to grade (default: all): "
                             + " ".join(p.number for p in PROBLEMS))
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit per problem (default: ${} or {:g}; 0: none)"
                        .format(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    parser.add_argument("-s", "--show-output", action="store_true",
                        help="let your code's print()s through instead of capturing them")
    args = parser.parse_args(argv)
    try:
        results = grade(args.problems or None, args.timeout, capture=not args.show_output)
    except ValueError as error:
        parser.error(str(error))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
