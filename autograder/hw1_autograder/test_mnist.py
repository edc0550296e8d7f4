"""MNIST autograder (Problem 3): train hw1/mnist.py on data/ and plot validation accuracy.

    ./grade.sh m        (or: python3 autograder/hw1_autograder/test_mnist.py)
    ./grade.sh m --graph PATH   draw the MLP's graph for one batch to PATH (.png/.svg), no training

Loads the handout's four .npy files, scales pixels to [0, 1], runs
``mnist()``, prints progress and the accuracies, and saves the plot to
hw1/validation_accuracy.png (a file, no display needed).  Problem 3 is graded
by hand from that plot; this script exits non-zero if anything fails.
"""
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.path.join(ROOT, "data")
PLOT_PATH = os.path.join(ROOT, "hw1", "validation_accuracy.png")
PREPARE_COMMAND = "python3 data/prepare.py"
SPLITS = {                                   # file -> (ndim, dtype kinds accepted)
    "train_data.npy": (2, "uif"), "train_labels.npy": (1, "iu"),
    "val_data.npy": (2, "uif"), "val_labels.npy": (1, "iu"),
}


class DataError(Exception):
    """A data file is missing or unreadable; the message names it and the fix."""


def load_data(data_dir=DATA_DIR):
    """The four arrays (train_x, train_y, val_x, val_y), pixels scaled to [0, 1]."""
    arrays = {}
    for name, (ndim, kinds) in SPLITS.items():
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            raise DataError("{} is missing: run `{}` to make it".format(path, PREPARE_COMMAND))
        try:
            array = np.load(path, allow_pickle=False)
        except Exception as error:        # truncated, not .npy, pickled objects, ...
            raise DataError("{} is not a readable .npy file ({}): run `{}` to make it again"
                            .format(path, error, PREPARE_COMMAND)) from None
        if array.ndim != ndim or array.dtype.kind not in kinds \
                or (ndim == 2 and array.shape[1] != 784):
            raise DataError("{} has shape {} and dtype {}, not the handout's format: run `{}`"
                            .format(path, array.shape, array.dtype, PREPARE_COMMAND))
        arrays[name] = array
    train_x, val_x = arrays["train_data.npy"], arrays["val_data.npy"]
    scale = 255.0 if max(train_x.max(), val_x.max()) > 1 else 1.0
    return (train_x / scale, arrays["train_labels.npy"],
            val_x / scale, arrays["val_labels.npy"])


def plot_accuracies(accuracies, path=PLOT_PATH):
    """Save the validation-accuracy curve as a PNG (matplotlib's file-only backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(range(1, len(accuracies) + 1), accuracies, marker="o")
    axes.set_ylabel("Validation accuracy")
    axes.set_ylim(0, 1)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main():
    sys.path.insert(0, ROOT)
    from hw1.mnist import mnist
    try:
        train_x, train_y, val_x, val_y = load_data()
    except DataError as error:
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 2
    print("Training on {} samples, validating on {}".format(len(train_x), len(val_x)))
    started = time.perf_counter()
    accuracies = mnist(train_x, train_y, val_x, val_y, log=print)
    print("Validation accuracies:", ", ".join("{:.4f}".format(a) for a in accuracies))
    print("Final validation accuracy: {:.4f}   ({:.1f} s)"
          .format(accuracies[-1], time.perf_counter() - started))
    print("Saved the plot to", os.path.relpath(plot_accuracies(accuracies), ROOT))
    print("Problem 3 is graded by hand from this plot; ./create_tarball.sh packs it.")
    return 0


def draw_graph(args):
    """``--graph PATH``: the handout's MLP, from your classes, on one batch; its graph to PATH."""
    if len(args) != 2 or args[0] != "--graph" or \
            os.path.splitext(args[1])[1].lower() not in (".png", ".svg"):
        print("usage: ./grade.sh m --graph PATH   (PATH ends in .png or .svg)", file=sys.stderr)
        return 2
    sys.path.insert(0, ROOT)
    from mytorch import viz
    from mytorch.nn.activations import ReLU
    from mytorch.nn.batchnorm import BatchNorm1d
    from mytorch.nn.linear import Linear
    from mytorch.nn.loss import CrossEntropyLoss
    from mytorch.nn.sequential import Sequential
    from mytorch.tensor import Tensor
    try:
        train_x, train_y, _, _ = load_data()
    except DataError as error:
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 2
    np.random.seed(0)
    model = Sequential(Linear(784, 20), BatchNorm1d(20), ReLU(), Linear(20, 10))
    loss = CrossEntropyLoss()(model(Tensor(train_x[:100])), Tensor(train_y[:100]))
    try:
        viz.draw(loss, args[1], params=model)
    except ImportError as error:                  # matplotlib missing
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 2
    print("Saved the graph of Linear(784, 20) -> BatchNorm1d(20) -> ReLU() -> Linear(20, 10) "
          "-> CrossEntropyLoss on one batch of 100 digits to", args[1])
    return 0


if __name__ == "__main__":
    if "--graph" in sys.argv[1:]:
        sys.exit(draw_graph(sys.argv[1:]))
    sys.exit(main())
