"""The local autograder (./grade.sh 1); helpers.py is shared by its test modules."""
