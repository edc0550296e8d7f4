#!/bin/sh
# Pack a homework's Autolab submission (handout section 0.3.4) into handin.tar at the
# project root:
#
#   ./create_tarball.sh        homework 1: mytorch/**/*.py, hw1/*.py, hw1/validation_accuracy.png
#   ./create_tarball.sh 2      homework 2: mytorch/**/*.py, hw2/*.py
#   ./create_tarball.sh 3      homework 3: mytorch/**/*.py, hw3/*.py
#
# What a homework packs is its specs' `handin` (autograder/*/spec.py); this script asks
# Python (autograder/specs.py) for the list, packs exactly those files, names anything
# else it found in the folders they come from (editor backups, notes, other plots) as
# left out, and warns about a missing file the spec notes (HW1's plot: run ./grade.sh m).
#
# The archive is written under a temporary name and replaces handin.tar only once tar has
# finished and the archive lists exactly the files packed: a failure midway (a full disk)
# leaves the previous handin.tar as it was.  Runs with $PYTHON if set, else python3.
# Plain POSIX sh: `sh create_tarball.sh` works too, from any folder.
# Windows line endings make every line end in \r, which sh reads as part of the command:
# this line still runs then (the \r lands in the comment at its end) and says what to do.
if grep -q "$(printf '\r')" "$0" 2>/dev/null; then printf '%s\n' "create_tarball.sh: this file has Windows line endings (CR LF); convert it with: dos2unix create_tarball.sh" >&2; exit 2; fi #
set -eu
cd "$(dirname "$0")"

HW="${1:-1}"
PY="${PYTHON:-python3}"
OUT=handin.tar
TMP=".$OUT.$$.tmp"
WANTED=".$OUT.$$.wanted"
LISTED=".$OUT.$$.listed"
trap 'rm -f "$TMP" "$WANTED" "$LISTED"' EXIT
trap 'exit 1' HUP INT TERM

# The files to pack, sorted so the archive does not depend on the file system's order.
if ! "$PY" -m autograder.specs handin "$HW" packed > "$LISTED"; then
    echo "create_tarball.sh: could not list homework $HW's files; $OUT was not changed" >&2
    exit 1
fi
LC_ALL=C sort "$LISTED" > "$WANTED"

set --
while IFS= read -r name; do
    set -- "$@" "$name"                 # one argument per file, spaces and all
done < "$WANTED"
if [ "$#" -eq 0 ]; then
    echo "create_tarball.sh: homework $HW has no files to pack here: nothing to pack" >&2
    exit 1
fi

if ! tar -chf "$TMP" "$@"; then     # -h: a symlinked file or folder is packed as its content
    echo "create_tarball.sh: tar failed; $OUT was not changed" >&2
    exit 1
fi
if ! tar -tf "$TMP" > "$LISTED" || ! cmp -s "$WANTED" "$LISTED"; then
    echo "create_tarball.sh: the new archive does not list the files packed (is the disk" \
         "full?); $OUT was not changed" >&2
    exit 1
fi
mv -f "$TMP" "$OUT"

echo "Packed $OUT (homework $HW):"
sed 's/^/  /' "$LISTED"

# Name what was left out, so nothing a student meant to hand in is lost without a word.
"$PY" -m autograder.specs handin "$HW" left-out > "$LISTED"
if [ -s "$LISTED" ]; then
    echo "Left out (not part of homework $HW's submission):"
    sed 's/^/  /' "$LISTED"
fi
"$PY" -m autograder.specs handin "$HW" warnings > "$LISTED"
while IFS= read -r warning; do
    echo "create_tarball.sh: warning: $warning" >&2
done < "$LISTED"
