#!/usr/bin/env python3
"""Local autograder for HW3 Part 1 (``./grade.sh 3``).

    python3 autograder/hw3_autograder/runner.py               # every problem (100 points)
    python3 autograder/hw3_autograder/runner.py 1.4.1 2.1     # a problem, or a part's problems
    python3 autograder/hw3_autograder/runner.py 1.3.1 -s --timeout 0   # debug with pdb

The same runner, sandbox, messages and Autolab JSON as ./grade.sh 1, with the course's
point table under its Autolab names (spec.py beside this file).  HW3 builds on HW1's
engine and layers, so the HW1 problems are graded too, silently: a test that fails
inside a failing HW1 part says so ("... fails inside your Linear: see 2.1 of
./grade.sh 1").  Exit status: 0 if every problem passed, 1 if not, 2 for bad arguments.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import cli, grading, specs  # noqa: E402  (needs ROOT on sys.path)

SPEC = specs.get("3")


def grade(problems=None, timeout=None, stream=None, capture=True, root=ROOT, practice=None):
    """Grade and print the report to ``stream``; return a grading.Run."""
    return grading.grade(SPEC, problems, timeout, stream, capture, root, practice)


def main(argv=None):
    return cli.grade_main(SPEC, argv, "Score HW3P1 (./grade.sh 3).")


if __name__ == "__main__":
    sys.exit(main())
