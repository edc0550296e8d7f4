#!/bin/sh
# The local autograders (handout section 0.3):
#
#   ./grade.sh 1      HW1 Part 1, Problems 1.1-2.6 (./grade.sh 1 2.4: one problem;
#                     ./grade.sh 1 practice: the practice checks alone)
#   ./grade.sh 1b     the HW1 bonus (Adam, Dropout, BatchNorm)
#   ./grade.sh m      Problem 3 (MNIST): train hw1/mnist.py and plot it
#   ./grade.sh --help every command, from the homework specs (autograder/*/spec.py)
#
# The commands are the specs': this script only finds Python and asks autograder/cli.py.
# Runs with $PYTHON if set, else python3 (an active venv's python3).  The exit status is
# the grader's: non-zero when a problem fails.  Plain POSIX sh: `sh grade.sh 1` works too.
set -u
cd "$(dirname "$0")" || exit 2
exec "${PYTHON:-python3}" -m autograder.cli "$@"
