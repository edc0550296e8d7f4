"""HW3P1 autograder (./grade.sh 3): the RNN unit, slicing, cat, unsqueeze, packed sequences,
the time iterator, the GRU unit and the GRU."""
