#!/usr/bin/env bash
# Pack the Autolab submission (handout section 0.3.4): handin.tar at the project root with
# mytorch/ and hw1/ (the MNIST plot hw1/validation_accuracy.png included when present),
# without __pycache__/, *.pyc, data files or the autograder.  Lists what it packed; warns
# on stderr when the plot is missing (Problem 3 is graded from it: run ./grade.sh m).
# Plain POSIX sh, so `sh create_tarball.sh` works too.
set -eu
cd "$(dirname "$0")"

OUT=handin.tar
PLOT=hw1/validation_accuracy.png

if [ ! -d mytorch ]; then
    echo "create_tarball.sh: no mytorch/ next to this script" >&2
    exit 1
fi
DIRS=mytorch
if [ -d hw1 ]; then
    DIRS="mytorch hw1"
else
    echo "create_tarball.sh: warning: no hw1/ directory; packing mytorch/ only" >&2
fi

rm -f "$OUT"
# shellcheck disable=SC2086  # DIRS is two fixed words
tar -cf "$OUT" \
    --exclude='__pycache__' --exclude='*.pyc' --exclude='*.pyo' \
    --exclude='.ipynb_checkpoints' --exclude='.DS_Store' \
    --exclude='data' --exclude='*.npy' --exclude='*.npz' --exclude='*.gz' \
    --exclude='autograder' \
    $DIRS

echo "Packed $OUT:"
tar -tf "$OUT" | sed 's/^/  /'
if [ ! -f "$PLOT" ]; then
    hint=""
    if [ -f validation_accuracy.png ]; then
        hint=" (found ./validation_accuracy.png: move it to hw1/)"
    fi
    echo "create_tarball.sh: warning: $PLOT is missing, so Problem 3 (MNIST) cannot be" \
         "graded; run ./grade.sh m to make it, then pack again$hint" >&2
fi
