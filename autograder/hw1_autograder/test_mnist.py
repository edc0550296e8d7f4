"""MNIST autograder (Problem 3): train hw1/mnist.py on data/ and plot validation accuracy.

    ./grade.sh m        (or: python3 autograder/hw1_autograder/test_mnist.py)

Loads the handout's four .npy files, scales pixels to [0, 1], runs
``mnist()``, prints progress and the accuracies, and saves the plot to
hw1/validation_accuracy.png (a file, no display needed).  Problem 3 is graded
by hand from that plot; this script exits non-zero if anything fails.

Bonus: ``./grade.sh m --optimizer adam --dropout 0.2 [--lr LR]`` trains with
those options and, with the same seed, the default model; it saves both curves
to their own plot (hw1/validation_accuracy_adam_dropout0.2.png) and leaves
hw1/validation_accuracy.png, the plot handed in, alone.
"""
import argparse
import inspect
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


def parse_args(argv=None):
    """The command line of ``./grade.sh m``."""
    parser = argparse.ArgumentParser(
        prog="./grade.sh m", description="Train hw1/mnist.py on data/ and plot its validation "
        "accuracy (Problem 3). The bonus options train with Adam and/or Dropout and plot that "
        "run beside the default one, in a plot of their own.")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                        help="optimizer (default: sgd, the handout's)")
    parser.add_argument("--lr", type=_positive_float, metavar="LR",
                        help="learning rate (default: mnist.py's, 0.1 for SGD, 0.001 for Adam)")
    parser.add_argument("--dropout", type=_probability, default=0.0, metavar="P",
                        help="add Dropout(P) after the ReLU (default: none)")
    return parser.parse_args(argv)


def _positive_float(text):
    return _number(text, lambda value: value > 0, "a positive number")


def _probability(text):
    return _number(text, lambda value: 0 <= value <= 1, "a probability in [0, 1]")


def _number(text, is_valid, what):
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not is_valid(value):
        raise argparse.ArgumentTypeError("must be {}, got {!r}".format(what, text))
    return value


def bonus_options(args):
    """The keyword arguments for ``mnist()`` that differ from its defaults ({} for none)."""
    options = {}
    if args.optimizer != "sgd" or args.lr is not None:
        options["optimizer"] = args.optimizer
    if args.lr is not None:
        options["lr"] = args.lr
    if args.dropout:
        options["dropout"] = args.dropout
    return options


def describe(options, mnist_module):
    """A legend label such as 'Adam lr 0.001, Dropout 0.2' (mnist.py's default lr filled in)."""
    optimizer = options.get("optimizer", "sgd")
    lr = options.get("lr", getattr(mnist_module, "ADAM_LEARNING_RATE" if optimizer == "adam"
                                   else "LEARNING_RATE", None))
    label = "Adam" if optimizer == "adam" else "SGD"
    if lr is not None:
        label += " lr {:g}".format(lr)
    if optimizer == "sgd" and hasattr(mnist_module, "MOMENTUM"):
        label += ", momentum {:g}".format(mnist_module.MOMENTUM)
    if options.get("dropout"):
        label += ", Dropout {:g}".format(options["dropout"])
    return label


def comparison_path(options):
    """hw1/validation_accuracy_<options>.png, e.g. ..._adam_dropout0.2.png."""
    parts = [options["optimizer"]] if "optimizer" in options else []
    parts += ["{}{:g}".format(key, options[key]) for key in ("lr", "dropout") if key in options]
    return os.path.join(os.path.dirname(PLOT_PATH),
                        "validation_accuracy_{}.png".format("_".join(parts)))


def plot_comparison(curves, path):
    """Save several labelled validation-accuracy curves, with a legend, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    for label, accuracies in curves:
        axes.plot(range(1, len(accuracies) + 1), accuracies, marker="o", label=label)
    axes.set_xlabel("Validation point (in training order)")
    axes.set_title("MNIST validation accuracy, same seed")
    axes.set_ylabel("Validation accuracy")
    axes.set_ylim(0, 1)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def _missing_arguments(function, options):
    """The names in ``options`` that ``function`` takes no argument for (a student's
    mnist() may keep the handout's signature)."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return []
    return [name for name in options if name not in {p.name for p in parameters}]


def compare_with_default(data, options):
    """Train with the bonus ``options`` and with the defaults (same seed); plot both."""
    import hw1.mnist as mnist_module
    missing = _missing_arguments(mnist_module.mnist, options)
    if missing:
        print("MNIST autograder: mnist() in hw1/mnist.py takes no {} argument; the bonus "
              "options need mnist(train_x, train_y, val_x, val_y, ..., optimizer=\"sgd\", "
              "dropout=0.0, lr=None)".format(", ".join(missing)), file=sys.stderr)
        return 2
    label, default_label = describe(options, mnist_module), describe({}, mnist_module)
    print(label + ":")
    started = time.perf_counter()
    accuracies = mnist_module.mnist(*data, log=print, **options)
    seconds = time.perf_counter() - started
    print("The default model ({}), same seed, for comparison...".format(default_label))
    default = mnist_module.mnist(*data)
    print("Final validation accuracy: {:.4f}   ({}, {:.1f} s)"
          .format(accuracies[-1], label, seconds))
    print("Default run:               {:.4f}   ({})".format(default[-1], default_label))
    path = plot_comparison([(default_label + " (default)", default), (label, accuracies)],
                           comparison_path(options))
    print("Saved the comparison plot to", os.path.relpath(path, ROOT))
    print("The plot handed in, {}, comes from ./grade.sh m without options; this run left it "
          "alone.".format(os.path.relpath(PLOT_PATH, ROOT)))
    return 0


def main(argv=None):
    args = parse_args(argv)
    sys.path.insert(0, ROOT)
    from hw1.mnist import mnist
    try:
        train_x, train_y, val_x, val_y = load_data()
    except DataError as error:
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 2
    print("Training on {} samples, validating on {}".format(len(train_x), len(val_x)))
    options = bonus_options(args)
    if options:
        return compare_with_default((train_x, train_y, val_x, val_y), options)
    started = time.perf_counter()
    accuracies = mnist(train_x, train_y, val_x, val_y, log=print)
    print("Validation accuracies:", ", ".join("{:.4f}".format(a) for a in accuracies))
    print("Final validation accuracy: {:.4f}   ({:.1f} s)"
          .format(accuracies[-1], time.perf_counter() - started))
    print("Saved the plot to", os.path.relpath(plot_accuracies(accuracies), ROOT))
    print("Problem 3 is graded by hand from this plot; ./create_tarball.sh packs it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
