#!/bin/sh
# The local autograders (handout section 0.3):
#
#   ./grade.sh 1      HW1 Part 1, Problems 1.1-2.6 (./grade.sh 1 2.4: one problem;
#                     ./grade.sh 1 practice: the practice checks alone)
#   ./grade.sh 1b     the HW1 bonus (Adam, Dropout, BatchNorm)
#   ./grade.sh m      Problem 3 (MNIST): train hw1/mnist.py and plot it
#   ./grade.sh 3      HW3 Part 1 (./grade.sh 3 1.4: one part's questions)
#   ./grade.sh --help every command, from the homework specs (autograder/*/spec.py)
#
# The commands are the specs': this script only finds Python and asks autograder/cli.py.
# Runs with $PYTHON if set, else python3 (an active venv's python3).  The exit status is
# the grader's: non-zero when a problem fails.  Plain POSIX sh: `sh grade.sh 1` works too.
# Windows line endings make every line end in \r, which sh reads as part of the command:
# this line still runs then (the \r lands in the comment at its end) and says what to do.
if grep -q "$(printf '\r')" "$0" 2>/dev/null; then printf '%s\n' "grade.sh: this file has Windows line endings (CR LF); convert it with: dos2unix grade.sh" >&2; exit 2; fi #
set -u
# Paths you give (./grade.sh m --graph g.png) are read from the folder you ran this in.
MYTORCH_CALLER_DIR="$PWD"
export MYTORCH_CALLER_DIR
cd "$(dirname "$0")" || exit 2
exec "${PYTHON:-python3}" -m autograder.cli "$@"
