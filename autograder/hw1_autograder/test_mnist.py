"""MNIST autograder (Problem 3): train hw1/mnist.py on data/ and plot validation accuracy.

    ./grade.sh m        (or: python3 autograder/hw1_autograder/test_mnist.py)
    ./grade.sh m --graph PATH   draw the MLP's graph for one batch to PATH (.png/.svg), no training

Loads the handout's four .npy files, scales pixels to [0, 1], runs
``mnist()``, prints progress and the accuracies, and saves the plot to
hw1/validation_accuracy.png (a file, no display needed): validation accuracy
against epochs, each point at the fraction of training done when it was
measured, titled with the final accuracy.  Problem 3 is graded by hand from
that plot; this script exits non-zero if anything fails (2: a data file is
missing or damaged; 1: mnist() returned something else than its accuracies,
or matplotlib is missing).
"""
import inspect
import math
import numbers
import os
import sys
import time

if __name__ == "__main__":
    # The handout's products are small (100 x 784 @ 784 x 20): BLAS threads only fight
    # over the cores (on a 2-core machine they made training ~30x slower and its speed
    # erratic).  Set before NumPy loads its BLAS; a value the user set wins.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA_DIR = os.path.join(ROOT, "data")
PLOT_PATH = os.path.join(ROOT, "hw1", "validation_accuracy.png")
PREPARE_COMMAND = "python3 data/prepare.py"
SPLITS = {                                   # file -> (ndim, dtype kinds accepted)
    "train_data.npy": (2, "uif"), "train_labels.npy": (1, "iu"),
    "val_data.npy": (2, "uif"), "val_labels.npy": (1, "iu"),
}


MATPLOTLIB_MISSING = "the plot needs matplotlib: pip install -r requirements.txt"
BATCH_SIZE, VALIDATE_EVERY, NUM_EPOCHS = 100, 100, 3      # the handout's (section 3.2)


class DataError(Exception):
    """A data file is missing or unreadable; the message names it and the fix."""


class ResultError(Exception):
    """mnist() returned something other than its validation accuracies."""


def _unreadable(path, error):
    """Why np.load refused ``path``, without NumPy's advice to allow pickles: a data
    file is never unpickled (that would run whatever code it holds)."""
    text = str(error)
    if "pickle" not in text.lower():
        return text
    with open(path, "rb") as f:
        header = f.read(6)
    if header != b"\x93NUMPY":
        return "it does not start with the .npy header"
    return "it holds Python objects, not an array of numbers"


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
                            .format(path, _unreadable(path, error), PREPARE_COMMAND)) from None
        if array.ndim != ndim or array.dtype.kind not in kinds \
                or (ndim == 2 and array.shape[1] != 784):
            raise DataError("{} has shape {} and dtype {}, not the handout's format: run `{}`"
                            .format(path, array.shape, array.dtype, PREPARE_COMMAND))
        if len(array) == 0:
            raise DataError("{} holds no samples (shape {}): run `{}` to make it again"
                            .format(path, array.shape, PREPARE_COMMAND))
        arrays[name] = array
    for split in ("train", "val"):
        data, labels = arrays[split + "_data.npy"], arrays[split + "_labels.npy"]
        if len(data) != len(labels):
            raise DataError("{} holds {} images but {} holds {} labels: run `{}` to make them "
                            "again".format(os.path.join(data_dir, split + "_data.npy"), len(data),
                                           os.path.join(data_dir, split + "_labels.npy"),
                                           len(labels), PREPARE_COMMAND))
    train_x, val_x = arrays["train_data.npy"], arrays["val_data.npy"]
    scale = 255.0 if max(train_x.max(), val_x.max()) > 1 else 1.0
    return (train_x / scale, arrays["train_labels.npy"],
            val_x / scale, arrays["val_labels.npy"])


def check_accuracies(result):
    """The accuracies mnist() returned, as a list of floats, or ResultError saying what
    the grader expected.  Fractions in [0, 1] or percentages in [0, 100] both plot."""
    expected = ("the grader expects the list of validation accuracies, one number per "
                "validation (e.g. [0.11, 0.62, ..., 0.91])")
    if result is None:
        raise ResultError("hw1/mnist.py: mnist() returned None; {}: do train() and mnist() "
                          "both end with `return val_accuracies`?".format(expected))
    if isinstance(result, (str, bytes, dict)) or not hasattr(result, "__iter__"):
        raise ResultError("hw1/mnist.py: mnist() returned a {} ({!r:.60}); {}"
                          .format(type(result).__name__, result, expected))
    values = list(result)
    if not values:
        raise ResultError("hw1/mnist.py: mnist() returned an empty list; {}: train() should "
                          "validate every 100 batches and append each accuracy"
                          .format(expected))
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value) or not 0 <= value <= 100:
            raise ResultError("hw1/mnist.py: mnist() returned {} values, and value {} is {!r:.60} "
                              "(a {}); {}".format(len(values), index, value,
                                                  type(value).__name__, expected))
    return [float(v) for v in values]


def validation_epochs(count, num_train, num_epochs=NUM_EPOCHS, batch_size=BATCH_SIZE):
    """The epoch (a fraction of training) at which each of ``count`` validations ran.

    The handout validates after batches 0, 100, 200, ... of every epoch
    (hw1/mnist.py validates more often when an epoch has fewer than 400
    batches, at evenly spaced batches, and once more after the last batch):
    the first schedule of that kind with ``count`` points wins.  A point
    measured after batch i of epoch e sits at e + (i + 1) / batches.
    None when no such schedule gives ``count`` points.
    """
    batches = num_train // batch_size
    if batches < 1 or num_epochs < 1:
        return None
    for final in (0, 1):                         # a last validation after training, or not
        per_epoch, rest = divmod(count - final, num_epochs)
        if rest or per_epoch < 1:
            continue
        every = VALIDATE_EVERY
        if -(-batches // every) != per_epoch:
            every = -(-batches // per_epoch)
        if -(-batches // every) != per_epoch:
            continue
        return ([epoch + (i * every + 1) / batches
                 for epoch in range(num_epochs) for i in range(per_epoch)]
                + [float(num_epochs)] * final)
    return None


def draw_accuracies(axes, accuracies, epochs=None):
    """Draw the curve on matplotlib ``axes``: x in epochs when ``epochs`` (one per
    accuracy) is known, else in validation rounds; y in [0, 1] or in percent."""
    percent = max(accuracies) > 1
    if epochs is None:
        axes.plot(range(1, len(accuracies) + 1), accuracies, marker="o")
        axes.set_xlabel("Validation round")
    else:
        axes.plot(epochs, accuracies, marker="o")
        axes.set_xlabel("Epoch")
        axes.set_xticks(range(math.ceil(max(epochs)) + 1))
    axes.set_ylabel("Validation accuracy" + (" (%)" if percent else ""))
    axes.set_ylim(0, 100 if percent else 1)
    axes.set_title("MNIST validation accuracy (final: {})".format(
        "{:.2f}%".format(accuracies[-1]) if percent else "{:.4f}".format(accuracies[-1])))
    axes.grid(alpha=0.3)


def plot_accuracies(accuracies, path=PLOT_PATH, epochs=None):
    """Save the validation-accuracy curve as a PNG (matplotlib's file-only backend).
    ImportError when matplotlib is not installed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    draw_accuracies(axes, accuracies, epochs)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _run_mnist(module, arrays):
    """Call the student's mnist() with the handout's four arguments (and ``log=print``
    when it takes a ``log`` argument, as hw1/mnist.py does)."""
    try:
        takes_log = "log" in inspect.signature(module.mnist).parameters
    except (TypeError, ValueError):
        takes_log = False
    return module.mnist(*arrays, log=print) if takes_log else module.mnist(*arrays)


def _epochs_of(module):
    """How many epochs the student's code trains: NUM_EPOCHS, or train()'s default."""
    epochs = getattr(module, "NUM_EPOCHS", None)
    if isinstance(epochs, int) and epochs > 0:
        return epochs
    try:
        default = inspect.signature(module.train).parameters["num_epochs"].default
    except (AttributeError, KeyError, TypeError, ValueError):
        return NUM_EPOCHS
    return default if isinstance(default, int) and default > 0 else NUM_EPOCHS


def main():
    sys.path.insert(0, ROOT)
    import hw1.mnist as student
    try:
        arrays = load_data()
    except DataError as error:
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 2
    print("Training on {} samples, validating on {}".format(len(arrays[0]), len(arrays[2])))
    started = time.perf_counter()
    result = _run_mnist(student, arrays)
    seconds = time.perf_counter() - started
    try:
        accuracies = check_accuracies(result)
    except ResultError as error:
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 1
    print("Validation accuracies:", ", ".join("{:.4f}".format(a) for a in accuracies))
    print("Final validation accuracy: {:.4f}   ({:.1f} s)".format(accuracies[-1], seconds))
    num_epochs = _epochs_of(student)
    epochs = validation_epochs(len(accuracies), len(arrays[0]), num_epochs,
                               getattr(student, "BATCH_SIZE", BATCH_SIZE))
    if epochs is None:
        print("Note: {} accuracies fit no schedule of {} epochs validated at evenly spaced "
              "batches; the plot shows them by validation round".format(len(accuracies),
                                                                          num_epochs))
    try:
        path = plot_accuracies(accuracies, epochs=epochs)
    except ImportError as error:
        print("MNIST autograder: {} ({}); then run ./grade.sh m again"
              .format(MATPLOTLIB_MISSING, error), file=sys.stderr)
        return 1
    print("Saved the plot to", os.path.relpath(path, ROOT))
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
