"""HW2 bonus autograder (./grade.sh 2b): test_conv2d.py (Conv2d), test_pooling.py
(MaxPool2d, AvgPool2d) and test_small_cnn.py (a small CNN trained with momentum)."""
