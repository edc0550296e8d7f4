"""Problem 3: train the handout's MLP on MNIST and return its validation accuracies.

    model:      Linear(784, 20) -> BatchNorm1d(20) -> ReLU() -> Linear(20, 10)
    criterion:  CrossEntropyLoss
    optimizer:  SGD(lr=0.1, momentum=0.9)  (BatchNorm makes this large step stable;
                on the 4,000 shipped digits it reaches ~90% in 3 epochs)

Run it through the MNIST autograder, which loads data/ and draws the plot:

    ./grade.sh m

The bonus options train the same MLP with Adam and/or Dropout after the ReLU
(``./grade.sh m --optimizer adam --dropout 0.2``, or ``mnist(..., optimizer="adam",
dropout=0.2)``); the defaults are the handout's model and optimizer.
"""
import math
import time

import numpy as np

from mytorch.autograd_engine import no_grad
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.dropout import Dropout
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.adam import Adam
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

BATCH_SIZE = 100
NUM_EPOCHS = 3
VALIDATE_EVERY = 100          # batches, as in the handout
LEARNING_RATE = 0.1
MOMENTUM = 0.9
ADAM_LEARNING_RATE = 0.001     # the bonus: optimizer="adam"
SEED = 0                       # see the README: the final accuracy varies ~0.89-0.91 by seed


def mnist(train_x, train_y, val_x, val_y, num_epochs=NUM_EPOCHS, seed=SEED, log=None,
          optimizer="sgd", dropout=0.0, lr=None):
    """Build the MLP, criterion and optimizer, train, and return the validation accuracies.

    train_x (N, 784) and val_x (M, 784): pixels, float (the autograder scales them
    to [0, 1]); train_y (N,) and val_y (M,): integer labels 0-9.  ``log``, if
    given, is called with one line of progress at a time (e.g. ``log=print``):
    the loss, the validation accuracy, and the training speed (validation excluded).
    The same ``seed`` gives the same accuracies.

    Bonus: ``optimizer="adam"`` trains with Adam instead of SGD, ``dropout=p``
    adds Dropout(p) after the ReLU, and ``lr`` replaces the optimizer's learning
    rate (LEARNING_RATE for SGD, ADAM_LEARNING_RATE for Adam).
    """
    train_x, train_y = _check_split("train", train_x, train_y)
    val_x, val_y = _check_split("val", val_x, val_y)
    if optimizer not in ("sgd", "adam"):
        raise ValueError("mnist: optimizer must be 'sgd' or 'adam', got {!r}".format(optimizer))
    np.random.seed(seed)        # Linear's initial weights, the shuffling and dropout masks
    layers = [Linear(784, 20), BatchNorm1d(20), ReLU()]
    if dropout:                 # none at p = 0: the handout's model, drawing no masks
        layers.append(Dropout(dropout))
    model = Sequential(*layers, Linear(20, 10))
    criterion = CrossEntropyLoss()
    if optimizer == "adam":
        optimizer = Adam(model.parameters(), lr=ADAM_LEARNING_RATE if lr is None else lr)
    else:
        optimizer = SGD(model.parameters(), lr=LEARNING_RATE if lr is None else lr,
                        momentum=MOMENTUM)
    return train(model, optimizer, criterion, train_x, train_y, val_x, val_y,
                 num_epochs=num_epochs, log=log)


def train(model, optimizer, criterion, train_x, train_y, val_x, val_y,
          num_epochs=NUM_EPOCHS, log=None):
    """Shuffle every epoch, take steps on batches of BATCH_SIZE, and validate as we go.

    Validation runs every VALIDATE_EVERY batches (from batch 0 of each epoch);
    on a training set too small for that to happen 4 times an epoch, it runs
    4 times an epoch instead, so the curve always has points to show.  Unless
    the last batch was just validated, the trained model is validated once more
    at the end, so the last accuracy is the final model's.
    A final incomplete batch is dropped (BatchNorm needs equal-sized batches).
    """
    batches_per_epoch = len(train_x) // BATCH_SIZE
    if batches_per_epoch == 0:
        raise ValueError("mnist: need at least {} training samples for one batch, got {}"
                         .format(BATCH_SIZE, len(train_x)))
    validate_every = min(VALIDATE_EVERY, max(1, batches_per_epoch // 4))
    val_accuracies = []
    seen, training_seconds = 0, 0.0       # for the progress lines: training speed only
    for epoch in range(num_epochs):
        order = np.random.permutation(len(train_x))
        for i in range(batches_per_epoch):
            started = time.perf_counter()
            batch = order[i * BATCH_SIZE:(i + 1) * BATCH_SIZE]
            model.train()
            optimizer.zero_grad()
            out = model(Tensor(train_x[batch]))
            loss = criterion(out, Tensor(train_y[batch]))
            if not math.isfinite(loss.item()):
                raise FloatingPointError(
                    "mnist: the loss became {} at epoch {}, batch {}: lower the learning "
                    "rate or check the inputs' scale".format(loss.item(), epoch + 1, i))
            loss.backward()
            optimizer.step()
            training_seconds += time.perf_counter() - started
            seen += len(batch)
            if i % validate_every == 0:
                accuracy = validate(model, val_x, val_y)
                val_accuracies.append(accuracy)
                if log is not None:
                    log("epoch {}  batch {:4d}/{}  loss {:.4f}  val accuracy {:.4f}  "
                        "training {:,.0f} samples/s".format(
                            epoch + 1, i, batches_per_epoch, loss.item(), accuracy,
                            seen / max(training_seconds, 1e-9)))
    if (batches_per_epoch - 1) % validate_every:
        val_accuracies.append(validate(model, val_x, val_y))      # the trained model, too
        if log is not None:
            log("end of training  val accuracy {:.4f}".format(val_accuracies[-1]))
    return val_accuracies


def validate(model, val_x, val_y):
    """Accuracy over the whole validation set, in eval mode and without building a graph."""
    if len(val_x) == 0:
        raise ValueError("mnist: the validation set is empty: accuracy is the fraction of "
                         "validation samples classified right, so it needs at least one")
    model.eval()
    correct = 0
    with no_grad():
        for start in range(0, len(val_x), BATCH_SIZE):
            out = model(Tensor(val_x[start:start + BATCH_SIZE]))
            correct += int(np.sum(np.argmax(out.data, axis=1) == val_y[start:start + BATCH_SIZE]))
    return correct / len(val_x)


def _check_split(name, x, y):
    """x as float64 (N, 784) and y as int64 (N,) labels 0-9, or a ValueError/TypeError saying why not."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2 or x.shape[1] != 784:
        raise ValueError("mnist: {}_x must have shape (N, 784), got {}".format(name, x.shape))
    if x.dtype.kind not in "biuf":
        raise TypeError("mnist: {}_x must be numeric, got dtype {}".format(name, x.dtype))
    if y.shape != (len(x),):
        raise ValueError("mnist: {}_y must have shape ({},) to match {}_x, got {}"
                         .format(name, len(x), name, y.shape))
    if y.dtype.kind not in "iu":
        raise TypeError("mnist: {}_y must hold integer labels, got dtype {}".format(name, y.dtype))
    if y.size and (y.min() < 0 or y.max() > 9):
        raise ValueError("mnist: {}_y must hold labels 0-9, got values from {} to {}"
                         .format(name, y.min(), y.max()))
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError("mnist: {}_x contains NaN or infinite values".format(name))
    return x, y.astype(np.int64)
