#!/usr/bin/env python3
"""Local autograder for the HW2 bonus (``./grade.sh 2b``): Conv2d, MaxPool2d, AvgPool2d, a CNN.

    python3 autograder/hw2_bonus_autograder/runner.py             # every test (25 points)
    python3 autograder/hw2_bonus_autograder/runner.py MaxPool2d   # one layer's two tests
    python3 autograder/hw2_bonus_autograder/runner.py "Conv2d 2" --timeout 10

The same runner, sandbox, messages and Autolab JSON as ./grade.sh 2, with the project's
own point table (spec.py beside this file).  The bonus builds on HW2 Part 1 and HW1, so
their problems are graded too, silently: a bonus test that fails inside one of their
failing parts says so.  Exit status: 0 if every test passed, 1 if not, 2 for bad
arguments.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import cli  # noqa: E402  (needs ROOT on sys.path)

SPEC, grade, main = cli.runner("2b", "Score the HW2 bonus: Conv2d, MaxPool2d, AvgPool2d and "
                                      "a small CNN (./grade.sh 2b).")

if __name__ == "__main__":
    sys.exit(main())
