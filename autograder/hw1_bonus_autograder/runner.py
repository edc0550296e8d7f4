#!/usr/bin/env python3
"""Local autograder for the HW1 bonus: Adam, Dropout, BatchNorm in bigger models (``./grade.sh 1b``).

    python3 autograder/hw1_bonus_autograder/runner.py            # every test (25 points)
    python3 autograder/hw1_bonus_autograder/runner.py Dropout    # one part: Adam, Dropout, BatchNorm
    python3 autograder/hw1_bonus_autograder/runner.py "Adam 2" --timeout 10

The same runner, sandbox, messages and Autolab JSON as ./grade.sh 1, with the course's
bonus point table (spec.py beside this file): each test scores on its own, under the
course's Autolab name.  The bonus builds on HW1 Part 1's layers, so the HW1 problems
are graded too, silently: a bonus test that fails inside a failing HW1 part says so
("... fails inside your BatchNorm: see 2.4 of ./grade.sh 1").  Exit status: 0 if every
test passed, 1 if not, 2 for bad arguments.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import cli  # noqa: E402  (needs ROOT on sys.path)

SPEC, grade, main = cli.runner("1b", "Score the HW1 bonus: Adam, Dropout, BatchNorm "
                                      "(./grade.sh 1b).")

if __name__ == "__main__":
    sys.exit(main())
