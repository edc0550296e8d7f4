#!/usr/bin/env python3
"""Local autograder for HW1 Part 1, Problems 1.1-2.6 (``./grade.sh 1``).

    python3 autograder/hw1_autograder/runner.py               # every problem
    python3 autograder/hw1_autograder/runner.py 1.1.1 2.4     # only these
    python3 autograder/hw1_autograder/runner.py --timeout 10  # seconds per problem
    python3 autograder/hw1_autograder/runner.py 2.4 -s --timeout 0   # debug 2.4 with pdb

The tests are the plain ``test_*`` functions of test_autograd.py and
test_mlp.py (pytest runs the same functions); autograder/problems.py maps each
problem to the functions whose names start with its prefix and holds the
dependency table.  Each problem runs in a child process of its own, with a time
limit (AUTOGRADER_TIMEOUT, default 60 s): a test that fails, raises, exits,
crashes, prints or hangs costs only its own problem (autograder/grading.py).
A problem scores its points when all of its tests that count pass, else 0.
The practice checks (test_practice.py, 0 points) follow under their own heading.
The output ends with one line per problem, the total, and an Autolab-style JSON
line.  Exit status: 0 if every problem passed, 1 if not, 2 for bad arguments.

From Python: ``run(problems=None, timeout=None, stream=None) -> {problem: score}``.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import grading  # noqa: E402  (needs ROOT on sys.path)
from autograder.problems import (HW1_DEPENDS_ON, HW1_PRACTICE, HW1_PROBLEMS,  # noqa: E402
                                 MNIST)

PROBLEMS = HW1_PROBLEMS
TIMEOUT_ENV = grading.TIMEOUT_ENV
MNIST_NOTE = ("Problem 3 (MNIST, {} points) is graded by hand from hw1/validation_accuracy.png "
              "(made by ./grade.sh m): 100/110 is a full local score.".format(MNIST.points))


def key(problem):
    """The problem's name in the output and the JSON: "1.1.1 Subtraction"."""
    return "{} {}".format(problem.number, problem.name)


GRADER = grading.Grader(title="HW1 Part 1", package="autograder.hw1_autograder",
                        problems=HW1_PROBLEMS, depends_on=HW1_DEPENDS_ON,
                        practice=HW1_PRACTICE, key=key, footer=MNIST_NOTE,
                        fixtures=Path(__file__).resolve().parent / "fixtures")


def grade(problems=None, timeout=None, stream=None, capture=True, root=ROOT, practice=None):
    """Grade and print the report to ``stream``; return a grading.Run (.results, .practice)."""
    return grading.grade(GRADER, problems, timeout, stream, capture, root, practice)


def run(problems=None, timeout=None, stream=None, capture=True, root=ROOT):
    """Grade and report; return {"1.1.1 Subtraction": score, ...} in problem order."""
    return grading.run(GRADER, problems, timeout, stream, capture, root)


def main(argv=None):
    return grading.main(GRADER, argv, "Score HW1P1 Problems 1.1-2.6 (./grade.sh 1).")


if __name__ == "__main__":
    sys.exit(main())
