#!/usr/bin/env bash
# Local autograder of HW1 Part 1 (handout section 0.3).
#
#   ./grade.sh 1      Problems 1.1-2.6: autograder/hw1_autograder/runner.py
#                     (extra arguments go to the runner: ./grade.sh 1 2.4 --timeout 10)
#   ./grade.sh 1b     the HW1 bonus (Adam, Dropout, BatchNorm; also: ./grade.sh b):
#                     autograder/hw1_bonus_autograder/runner.py
#   ./grade.sh m      Problem 3 (MNIST): autograder/hw1_autograder/test_mnist.py
#                     (./grade.sh m --graph PATH: draw the MLP's graph to PATH instead;
#                     --optimizer adam --dropout P: the bonus options)
#
# Runs with $PYTHON if set, else python3 (an active venv's python3).  The exit
# status is the grader's: non-zero when a problem fails.  Plain POSIX sh, so
# `sh grade.sh 1` works too.
set -u
cd "$(dirname "$0")" || exit 2
PY="${PYTHON:-python3}"

usage() {
    cat <<'USAGE'
usage: ./grade.sh 1 [PROBLEM ...] [--timeout SECONDS]   grade Problems 1.1-2.6 (100 points)
       ./grade.sh 1b [TEST ...] [--timeout SECONDS]     grade the HW1 bonus (25 points)
       ./grade.sh m                                     train MNIST and plot it (Problem 3)
       ./grade.sh m --optimizer adam --dropout P        the bonus options, plotted beside
                                                        the default run
       ./grade.sh m --graph PATH                        draw the MLP's graph for one batch
                                                        to PATH (.png or .svg), no training
USAGE
}

case "${1:-}" in
    1)
        shift
        exec "$PY" autograder/hw1_autograder/runner.py "$@"
        ;;
    1b|b)
        shift
        exec "$PY" autograder/hw1_bonus_autograder/runner.py "$@"
        ;;
    m)
        shift
        if [ ! -f autograder/hw1_autograder/test_mnist.py ]; then
            echo "grade.sh: autograder/hw1_autograder/test_mnist.py is missing" >&2
            exit 2
        fi
        exec "$PY" autograder/hw1_autograder/test_mnist.py "$@"
        ;;
    -h|--help)
        usage
        exit 0
        ;;
    "")
        usage >&2
        exit 2
        ;;
    *)
        echo "grade.sh: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
esac
