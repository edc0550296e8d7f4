"""HW1 bonus autograder (./grade.sh 1b): Adam, Dropout and BatchNorm inside bigger models."""
