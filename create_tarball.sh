#!/bin/sh
# Pack the Autolab submission (handout section 0.3.4) into handin.tar at the project root:
# the handout's files, i.e. mytorch/**/*.py, hw1/*.py and the MNIST plot
# hw1/validation_accuracy.png.  Anything else in mytorch/ or hw1/ (editor backups and swap
# files, notes, other plots) is left out and named; Python's __pycache__/ is left out quietly.
# Warns on stderr when the plot is missing (Problem 3 is graded from it: run ./grade.sh m).
#
# The archive is written under a temporary name and replaces handin.tar only once tar has
# finished and the archive lists exactly the files packed: a failure midway (a full disk)
# leaves the previous handin.tar as it was.  Plain POSIX sh: `sh create_tarball.sh` works
# too, from any folder.
set -eu
cd "$(dirname "$0")"

OUT=handin.tar
PLOT=hw1/validation_accuracy.png
TMP=".$OUT.$$.tmp"
WANTED=".$OUT.$$.wanted"
LISTED=".$OUT.$$.listed"
trap 'rm -f "$TMP" "$WANTED" "$LISTED"' EXIT
trap 'exit 1' HUP INT TERM

if [ ! -d mytorch ]; then
    echo "create_tarball.sh: no mytorch/ next to this script" >&2
    exit 1
fi
if [ ! -d hw1 ]; then
    echo "create_tarball.sh: warning: no hw1/ directory; packing mytorch/ only" >&2
fi

# The handout's files, sorted so the archive does not depend on the file system's order.
# Hidden files and folders (.ipynb_checkpoints/, .functional.py.swp) are never among them.
{
    find mytorch \( -name '.*' -o -name __pycache__ \) -prune -o -type f -name '*.py' -print
    for name in hw1/*.py "$PLOT"; do
        if [ -f "$name" ]; then
            printf '%s\n' "$name"
        fi
    done
} | LC_ALL=C sort > "$WANTED"

set --
while IFS= read -r name; do
    set -- "$@" "$name"                 # one argument per file, spaces and all
done < "$WANTED"
if [ "$#" -eq 0 ]; then
    echo "create_tarball.sh: no .py files in mytorch/: nothing to pack" >&2
    exit 1
fi

if ! tar -cf "$TMP" "$@"; then
    echo "create_tarball.sh: tar failed; $OUT was not changed" >&2
    exit 1
fi
if ! tar -tf "$TMP" > "$LISTED" || ! cmp -s "$WANTED" "$LISTED"; then
    echo "create_tarball.sh: the new archive does not list the files packed (is the disk" \
         "full?); $OUT was not changed" >&2
    exit 1
fi
mv -f "$TMP" "$OUT"

echo "Packed $OUT:"
sed 's/^/  /' "$LISTED"

# Name what was left out, so nothing a student meant to hand in is lost without a word.
find mytorch hw1 -name __pycache__ -prune -o ! -type d ! -name '*.pyc' -print 2>/dev/null \
    | LC_ALL=C sort | LC_ALL=C comm -23 - "$WANTED" > "$LISTED"
if [ -s "$LISTED" ]; then
    echo "Left out (not part of the handout's submission):"
    sed 's/^/  /' "$LISTED"
fi

if [ ! -f "$PLOT" ]; then
    hint=""
    if [ -f validation_accuracy.png ]; then
        hint=" (found ./validation_accuracy.png: move it to hw1/)"
    fi
    echo "create_tarball.sh: warning: $PLOT is missing, so Problem 3 (MNIST) cannot be" \
         "graded; run ./grade.sh m to make it, then pack again$hint" >&2
fi
