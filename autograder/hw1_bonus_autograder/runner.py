#!/usr/bin/env python3
"""Local autograder for the HW1 bonus: Adam, Dropout, BatchNorm in bigger models (``./grade.sh 1b``).

    python3 autograder/hw1_bonus_autograder/runner.py            # every test (25 points)
    python3 autograder/hw1_bonus_autograder/runner.py Dropout    # one part: Adam, Dropout, BatchNorm
    python3 autograder/hw1_bonus_autograder/runner.py "Adam 2" --timeout 10

The same runner, sandbox, messages and Autolab JSON as ./grade.sh 1
(autograder/grading.py), with the course's bonus point table
(autograder/problems.py): each test scores on its own, under the course's
Autolab name.  The bonus builds on HW1 Part 1's layers, so the HW1 problems are
graded too, silently: a bonus test that fails inside a failing HW1 part says so
("... fails inside your BatchNorm: see 2.4").  Exit status: 0 if every test
passed, 1 if not, 2 for bad arguments.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import grading  # noqa: E402  (needs ROOT on sys.path)
from autograder.hw1_autograder import runner as hw1  # noqa: E402
from autograder.problems import BONUS_DEPENDS_ON, BONUS_PROBLEMS  # noqa: E402

PROBLEMS = BONUS_PROBLEMS
FOOTER = ("The bonus is scored on its own, out of {} points; HW1 Part 1 is ./grade.sh 1."
          .format(sum(p.points for p in BONUS_PROBLEMS)))


def key(problem):
    """The course's Autolab name: "Linear Adam"."""
    return problem.name


GRADER = grading.Grader(title="HW1 bonus", package="autograder.hw1_bonus_autograder",
                        problems=BONUS_PROBLEMS, depends_on=BONUS_DEPENDS_ON, practice=None,
                        key=key, footer=FOOTER,
                        fixtures=Path(__file__).resolve().parent / "fixtures",
                        requires=hw1.GRADER)


def grade(problems=None, timeout=None, stream=None, capture=True, root=ROOT, practice=None):
    """Grade and print the report to ``stream``; return a grading.Run."""
    return grading.grade(GRADER, problems, timeout, stream, capture, root, practice)


def run(problems=None, timeout=None, stream=None, capture=True, root=ROOT):
    """Grade and report; return {"Linear Adam": score, ...} in problem order."""
    return grading.run(GRADER, problems, timeout, stream, capture, root)


def main(argv=None):
    return grading.main(GRADER, argv, "Score the HW1 bonus: Adam, Dropout, BatchNorm "
                                      "(./grade.sh 1b).")


if __name__ == "__main__":
    sys.exit(main())
