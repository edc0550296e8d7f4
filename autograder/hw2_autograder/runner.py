#!/usr/bin/env python3
"""Local autograder for HW2 Part 1: Conv1d, Flatten, the scanning MLPs, the CNN (``./grade.sh 2``).

    python3 autograder/hw2_autograder/runner.py               # every problem (95 points)
    python3 autograder/hw2_autograder/runner.py 1.1.2 3       # only these
    python3 autograder/hw2_autograder/runner.py 3 -s --timeout 0    # debug 3 with pdb

The same runner, sandbox, messages and Autolab JSON as ./grade.sh 1, with the course's
point table and Autolab names (spec.py beside this file).  HW2 builds on HW1's engine
and layers, so ./grade.sh 1 is graded too, silently: a failure inside one of its parts
is named ("... fails inside your Linear.forward: see 2.1 of ./grade.sh 1").  Exit
status: 0 if every problem passed, 1 if not, 2 for bad arguments.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import cli  # noqa: E402  (needs ROOT on sys.path)

SPEC, grade, main = cli.runner("2", "Score HW2P1: Conv1d, Flatten, the scanning MLPs and "
                                      "the CNN (./grade.sh 2).")

if __name__ == "__main__":
    sys.exit(main())
