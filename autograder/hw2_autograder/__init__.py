"""HW2P1 autograder (./grade.sh 2): test_conv1d.py (1.1.1, 1.1.2), test_flatten.py (1.2),
test_scanning.py (2.1, 2.2) and test_cnn.py (3).  conv_checks.py holds the convolution
checks the bonus shares; grader_layers.py the grader's own convolution, pooling, Flatten
and output size, so that 2.1, 2.2 and 3 run no 1.x code."""
