"""MNIST autograder (Problem 3): train hw1/mnist.py on data/ and plot validation accuracy.

    ./grade.sh m                     (or: python3 autograder/hw1_autograder/test_mnist.py)
    ./grade.sh m --graph PATH        draw the MLP's graph for one batch to PATH (.png/.svg)
    ./grade.sh m --optimizer adam --dropout 0.2 [--lr LR]     the bonus options

Loads the handout's four .npy files, scales pixels to [0, 1], runs
``mnist()``, prints progress and the accuracies, and saves the plot to
hw1/validation_accuracy.png (a file, no display needed): validation accuracy
against epochs, each point at the fraction of training done when it was
measured, titled with the final accuracy.  Problem 3 is graded by hand from
that plot.

Training runs in a child process with a time limit ($AUTOGRADER_TIMEOUT or
--timeout, else 10 minutes, enough for the full-size data set), so code that
hangs or ends the process is reported, not waited for.  Exit status: 0 when the
plot is saved; 2 when a data file is missing or damaged, or an option is bad;
1 when mnist() fails, runs out of time or returns something other than its
accuracies, or matplotlib is missing.

Bonus: ``--optimizer adam --dropout 0.2 [--lr LR]`` trains with those options
and, with the same seed, the default model; it saves both curves to a plot of
their own (hw1/validation_accuracy_adam_dropout0.2.png) and leaves
hw1/validation_accuracy.png, the plot handed in, alone.
"""
import argparse
import contextlib
import inspect
import math
import numbers
import os
import shutil
import sys
import tempfile
import time
import traceback

if __name__ == "__main__":
    # The handout's products are small (100 x 784 @ 784 x 20): BLAS threads only fight
    # over the cores (on a 2-core machine they made training ~30x slower and its speed
    # erratic).  Set before NumPy loads its BLAS; a value the user set wins.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from autograder import grading, isolation  # noqa: E402  (needs ROOT on sys.path)

TIMEOUT_ENV = grading.TIMEOUT_ENV
DEFAULT_TIMEOUT = 600.0          # seconds: a full-size (55,000-image) run takes well under a minute
DATA_DIR = os.path.join(ROOT, "data")
PLOT_PATH = os.path.join(ROOT, "hw1", "validation_accuracy.png")
PREPARE_COMMAND = "python3 data/prepare.py"
SPLITS = {                                   # file -> (ndim, dtype kinds accepted)
    "train_data.npy": (2, "uif"), "train_labels.npy": (1, "iu"),
    "val_data.npy": (2, "uif"), "val_labels.npy": (1, "iu"),
}


LEARNED = 0.5       # chance is 0.1 and the handout's network reaches about 0.9
NOT_LEARNED = (
    "MNIST autograder: the network did not learn: the final validation accuracy is {:.2f} "
    "(chance is 0.10; the handout's network reaches about 0.90). A plot like this earns "
    "nothing for Problem 3. The usual causes: optimizer.zero_grad() missing in the batch loop "
    "(gradients pile up), the model left in eval mode (or train mode during validation), the "
    "data shuffled without its labels, loss.backward() or optimizer.step() not called, or a "
    "learning rate far from the handout's 0.1.")
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


def draw_accuracies(axes, accuracies, epochs=None, label=None):
    """Draw the curve on matplotlib ``axes``: x in epochs when ``epochs`` (one per
    accuracy) is known, else in validation rounds; y in [0, 1] or in percent."""
    percent = max(accuracies) > 1
    if epochs is None:
        axes.plot(range(1, len(accuracies) + 1), accuracies, marker="o", label=label)
        axes.set_xlabel("Validation round")
    else:
        axes.plot(epochs, accuracies, marker="o", label=label)
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
    parser.add_argument("--graph", type=_picture_path, metavar="PATH",
                        help="only draw the MLP's graph on one batch to PATH (.png or .svg)")
    parser.add_argument("--timeout", metavar="SECONDS",
                        help="time limit for training (default: ${} or {:g}; 0: none)"
                        .format(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    return parser.parse_args(argv)


def _picture_path(text):
    """--graph's PATH, relative to the folder ./grade.sh was run from; an error naming the
    problem for a folder, a missing parent folder or another extension."""
    path = os.path.join(os.environ.get("MYTORCH_CALLER_DIR") or os.getcwd(),
                        os.path.expanduser(text))
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError("{!r} is a folder: give a file name ending in .png or "
                                         ".svg, such as {}".format(
                                             text, os.path.join(text, "mlp_graph.png")))
    if os.path.splitext(text)[1].lower() not in (".png", ".svg"):
        raise argparse.ArgumentTypeError("PATH must end in .png or .svg, got {!r}".format(text))
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError("the folder {!r} does not exist: create it first, or "
                                         "choose another PATH".format(os.path.dirname(text)))
    return os.path.abspath(path)


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
    """Save several (label, accuracies, epochs or None) curves, with a legend, as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6, 4))
    for label, accuracies, epochs in curves:
        draw_accuracies(axes, accuracies, epochs, label=label)
    axes.set_title("MNIST validation accuracy, same seed")
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


def _run_mnist(module, arrays, options):
    """Call the student's mnist() with the handout's four arguments, the bonus ``options``,
    and ``log=print`` when it takes a ``log`` argument (as hw1/mnist.py does)."""
    try:
        takes_log = "log" in inspect.signature(module.mnist).parameters
    except (TypeError, ValueError):
        takes_log = False
    return module.mnist(*arrays, log=print, **options) if takes_log \
        else module.mnist(*arrays, **options)


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


def train_runs(report, runs):
    """Child process: load data/, import hw1/mnist.py, and run mnist() once per options
    dict in ``runs``; report each run's accuracies (or why there are none)."""
    sys.path.insert(0, ROOT)
    try:
        arrays = load_data()
    except DataError as error:
        report({"event": "data-error", "message": str(error)})
        return
    scratch = tempfile.mkdtemp(prefix="mytorch-mnist-")
    os.chdir(scratch)                 # what the code does with relative paths stays there
    try:
        import hw1.mnist as student
        _train(report, runs, arrays, student)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _train(report, runs, arrays, student):
    report({"event": "schedule", "train": len(arrays[0]), "epochs": _epochs_of(student),
            "batch_size": getattr(student, "BATCH_SIZE", BATCH_SIZE),
            "labels": [describe(options, student) for options in runs]})
    for options in runs:
        missing = _missing_arguments(student.mnist, options)
        if missing:
            report({"event": "usage-error", "message": (
                "mnist() in hw1/mnist.py takes no {} argument; the bonus options need "
                "mnist(train_x, train_y, val_x, val_y, ..., optimizer=\"sgd\", dropout=0.0, "
                "lr=None)".format(", ".join(missing)))})
            return
        if options:
            print(describe(options, student) + ":")
        elif len(runs) > 1:
            print("The default model ({}), same seed, for comparison...".format(
                describe({}, student)))
        else:
            print("Training on {} samples, validating on {}".format(len(arrays[0]),
                                                                    len(arrays[2])))
        started = time.perf_counter()
        np.random.seed(0)                # every run starts from the same seed, whatever
        built = []                       # mnist() does: the comparison can say so
        try:
            with _watching_what_is_built(built):
                result = _run_mnist(student, arrays, options)
            accuracies = check_accuracies(result)
        except ResultError as error:
            report({"event": "error", "lines": [str(error)]})
            return
        except NotImplementedError as error:
            report({"event": "error", "lines": ["hw1/mnist.py: mnist() is not implemented yet "
                                                "({})".format(error)]})
            return
        except Exception:
            report({"event": "error", "lines": ["mnist() raised an exception:"]
                    + traceback.format_exc().rstrip().splitlines()[-12:]})
            return
        report({"event": "run", "accuracies": accuracies,
                "seconds": time.perf_counter() - started, "trained": _trained(built)})


@contextlib.contextmanager
def _watching_what_is_built(built):
    """Record the optimizers and Dropout layers that mnist() builds (the library's classes
    and their subclasses), so the report says what was trained, not what was asked for."""
    from mytorch.optim.optimizer import Optimizer
    try:
        from mytorch.nn.dropout import Dropout
    except ImportError:
        Dropout = None
    patched = [cls for cls in (Optimizer, Dropout) if cls is not None]
    originals = {cls: cls.__init__ for cls in patched}

    def recording(original):
        def __init__(self, *args, **kwargs):
            built.append(self)
            original(self, *args, **kwargs)
        return __init__
    for cls in patched:
        cls.__init__ = recording(originals[cls])
    try:
        yield built
    finally:
        for cls in patched:
            cls.__init__ = originals[cls]


def _trained(built):
    """What was built, as {"optimizers": [[name, lr, momentum]], "dropout": [p, ...]}."""
    optimizers, dropout = [], []
    for thing in built:
        if hasattr(thing, "step"):
            lr, momentum = getattr(thing, "lr", None), getattr(thing, "momentum", None)
            optimizers.append([type(thing).__name__,
                               lr if isinstance(lr, numbers.Real) else None,
                               momentum if isinstance(momentum, numbers.Real) else None])
        elif isinstance(getattr(thing, "p", None), numbers.Real):
            dropout.append(float(thing.p))
    return {"optimizers": optimizers, "dropout": dropout}


def trained_label(trained):
    """A legend label for what was really trained: "Adam lr 0.001, Dropout 0.2"."""
    if not trained["optimizers"]:
        label = "an optimizer the grader does not know"
    else:
        name, lr, momentum = trained["optimizers"][-1]
        label = name + ("" if lr is None else " lr {:g}".format(lr))
        label += ", momentum {:g}".format(momentum) if momentum else ""
    kept = [p for p in trained["dropout"] if p]
    return label + (", Dropout {}".format(", ".join("{:g}".format(p) for p in kept))
                    if kept else "")


def options_unused(options, trained):
    """The requested options that the run shows no sign of, as words ([] if all were used)."""
    names = [entry[0].lower() for entry in trained["optimizers"]]
    unused = []
    if options.get("optimizer") == "adam" and "adam" not in names:
        unused.append("--optimizer adam (it built {})".format(
            ", ".join(entry[0] for entry in trained["optimizers"])
            or "no optimizer of the library"))
    if options.get("dropout") and options["dropout"] not in trained["dropout"]:
        unused.append("--dropout {:g} (it built {})".format(options["dropout"], ", ".join(
            "Dropout({:g})".format(p) for p in trained["dropout"]) or "no Dropout"))
    if "lr" in options and not any(entry[1] == options["lr"] for entry in trained["optimizers"]):
        unused.append("--lr {:g}".format(options["lr"]))
    return unused


def resolve_timeout(value=None):
    """--timeout if given, else $AUTOGRADER_TIMEOUT, else 10 minutes (0: no limit)."""
    return grading.resolve_timeout(value, DEFAULT_TIMEOUT)


def main(argv=None):
    args = parse_args(argv)
    if args.graph is not None:
        return draw_graph(args.graph)
    try:
        timeout = resolve_timeout(args.timeout)
    except ValueError as error:
        print("MNIST autograder: {}".format(error), file=sys.stderr)
        return 2
    options = bonus_options(args)
    runs = [options, {}] if options else [{}]
    outcome = isolation.run(train_runs, (runs,), timeout=timeout, capture=False)
    schedule, results = {}, []
    for record in outcome.records:
        event = record.get("event")
        if event == "schedule":
            schedule = record
        elif event == "run":
            results.append(record)
        elif event in ("data-error", "usage-error"):
            print("MNIST autograder: " + record["message"], file=sys.stderr)
            return 2
        elif event == "error":
            print("MNIST autograder: " + "\n".join(record["lines"]), file=sys.stderr)
            return 1
        elif event == "timeout":
            print("MNIST autograder: mnist() did not finish within {:g} s (set {} or --timeout "
                  "to allow more); it was running:\n{}".format(
                      record["seconds"], TIMEOUT_ENV, "\n".join(
                          "  " + line for line in record["where"])), file=sys.stderr)
            return 1
    if len(results) != len(runs):
        print("MNIST autograder: training did not finish: {}".format(
            outcome.ending or "no accuracies came back"), file=sys.stderr)
        return 1
    accuracies, seconds = results[0]["accuracies"], results[0]["seconds"]
    if options:
        return report_comparison(schedule, results, options)
    print("Validation accuracies:", ", ".join("{:.4f}".format(a) for a in accuracies))
    print("Final validation accuracy: {:.4f}   ({:.1f} s)".format(accuracies[-1], seconds))
    epochs = _epochs(schedule, accuracies)
    try:
        path = plot_accuracies(accuracies, epochs=epochs)
    except ImportError as error:
        print("MNIST autograder: {} ({}); then run ./grade.sh m again"
              .format(MATPLOTLIB_MISSING, error), file=sys.stderr)
        return 1
    print("Saved the plot to", os.path.relpath(path, ROOT))
    final = accuracies[-1] / (100.0 if max(accuracies) > 1.5 else 1.0)   # % or a fraction
    if final < LEARNED:
        print(NOT_LEARNED.format(final), file=sys.stderr)
        return 1
    print("Problem 3 is graded by hand from this plot; ./create_tarball.sh packs it.")
    return 0


def _epochs(schedule, accuracies):
    """Each accuracy's epoch, or None (with a note) when no validation schedule fits."""
    epochs = validation_epochs(len(accuracies), schedule["train"], schedule["epochs"],
                               schedule["batch_size"])
    if epochs is None:
        print("Note: {} accuracies fit no schedule of {} epochs validated at evenly spaced "
              "batches; the plot shows them by validation round".format(len(accuracies),
                                                                          schedule["epochs"]))
    return epochs


def report_comparison(schedule, results, options):
    """The bonus runs: print both final accuracies and plot both curves, by epoch."""
    (asked, _), (run, default) = schedule["labels"], results
    label, default_label = trained_label(run["trained"]), trained_label(default["trained"])
    unused = options_unused(options, run["trained"])
    print("Final validation accuracy: {:.4f}   ({}, {:.1f} s)"
          .format(run["accuracies"][-1], label, run["seconds"]))
    print("Default run:               {:.4f}   ({})".format(default["accuracies"][-1],
                                                          default_label))
    curves = [(default_label + " (default)", default["accuracies"]), (label, run["accuracies"])]
    try:
        path = plot_comparison([(name, values, _epochs(schedule, values))
                                for name, values in curves], comparison_path(options))
    except ImportError as error:
        print("MNIST autograder: {} ({})".format(MATPLOTLIB_MISSING, error), file=sys.stderr)
        return 1
    print("Saved the comparison plot to", os.path.relpath(path, ROOT))
    print("The plot handed in, {}, comes from ./grade.sh m without options; this run left it "
          "alone.".format(os.path.relpath(PLOT_PATH, ROOT)))
    if unused:
        print("MNIST autograder: the options were not used: you asked for {}, but mnist() "
              "trained {} ({}); the plot is labelled with what was trained. Pass the options "
              "on from mnist() to the model and the optimizer.".format(
                  asked, label, "; ".join(unused)), file=sys.stderr)
        return 1
    return 0


def draw_graph(path):
    """``--graph PATH``: the handout's MLP, from your classes, on one batch; its graph to PATH."""
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
        viz.draw(loss, path, params=model)
    except ImportError as error:                  # matplotlib missing
        print("MNIST autograder: " + str(error), file=sys.stderr)
        return 2
    except OSError as error:                      # not writable, disk full, ...
        print("MNIST autograder: could not write {}: {}".format(path, error.strerror or error),
              file=sys.stderr)
        return 2
    try:
        shown = os.path.relpath(path, os.environ.get("MYTORCH_CALLER_DIR") or os.getcwd())
    except ValueError:                            # another drive (Windows)
        shown = path
    print("Saved the graph of Linear(784, 20) -> BatchNorm1d(20) -> ReLU() -> Linear(20, 10) "
          "-> CrossEntropyLoss on one batch of 100 digits to", shown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
