"""HW1P1 autograder: runner.py scores test_autograd.py and test_mlp.py (Problems 1.1-2.6);
test_mnist.py trains MNIST (Problem 3)."""
