#!/usr/bin/env python3
"""Local autograder for HW1 Part 1, Problems 1.1-2.6 (``./grade.sh 1``).

    python3 autograder/hw1_autograder/runner.py               # every problem
    python3 autograder/hw1_autograder/runner.py 1.1.1 2.4     # only these
    python3 autograder/hw1_autograder/runner.py practice      # the practice checks alone
    python3 autograder/hw1_autograder/runner.py --timeout 10  # seconds per problem
    python3 autograder/hw1_autograder/runner.py 2.4 -s --timeout 0   # debug 2.4 with pdb

What it grades (problems, points, the dependency table, the student's parts, the
practice checks) is in spec.py beside this file; the tests are the plain ``test_*``
functions of test_autograd.py and test_mlp.py (pytest runs the same functions).  Each
problem runs in a child process of its own, with a time limit (AUTOGRADER_TIMEOUT,
default 60 s): a test that fails, raises, exits, crashes, prints or hangs costs only its
own problem (autograder/grading.py).  A problem scores its points when all of its tests
that count pass, else 0.  The output ends with one line per problem, the total, and an
Autolab-style JSON line.  Exit status: 0 if every problem passed, 1 if not, 2 for bad
arguments.

From Python: ``grade(problems=None, timeout=None, stream=None) -> grading.Run``.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import cli  # noqa: E402  (needs ROOT on sys.path)

SPEC, grade, main = cli.runner("1", "Score HW1P1 Problems 1.1-2.6 (./grade.sh 1).")

if __name__ == "__main__":
    sys.exit(main())
