"""hw1/mnist.py and the MNIST autograder script (handout Problem 3)."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hw1.mnist as mnist_module
from hw1.mnist import mnist, train, validate
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.module import Module
from mytorch.optim.adam import Adam
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

ROOT = Path(__file__).resolve().parents[1]
GRADER_PATH = ROOT / "autograder" / "hw1_autograder" / "test_mnist.py"


def _load_grader():
    spec = importlib.util.spec_from_file_location("mnist_grader", GRADER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grader = _load_grader()


@pytest.fixture(scope="module")
def shipped():
    return grader.load_data()


def test_shipped_data_loads_scaled_to_unit_interval(shipped):
    train_x, train_y, val_x, val_y = shipped
    assert train_x.shape == (4000, 784) and val_x.shape == (1000, 784)
    assert 0.0 == train_x.min() and train_x.max() == 1.0
    assert set(np.unique(train_y)) == set(range(10))


def test_three_epochs_on_shipped_digits_reach_90_percent(shipped):
    accuracies = mnist(*shipped)
    assert len(accuracies) >= 10, "the curve needs at least 10 points"
    assert all(0.0 <= a <= 1.0 for a in accuracies)
    assert accuracies[0] < 0.5, "the first point is the untrained model"
    assert accuracies[-1] >= 0.90
    assert accuracies[-1] - accuracies[0] > 0.5, "the plot must rise visibly"


def test_same_seed_gives_identical_accuracies_and_another_seed_differs(shipped):
    first = mnist(*shipped, num_epochs=1, seed=3)
    again = mnist(*shipped, num_epochs=1, seed=3)
    other = mnist(*shipped, num_epochs=1, seed=4)
    assert first == again
    assert first != other


class _Spy(Module):
    """A Linear(784, 10) that records, per call, the input's flags and the mode."""

    def __init__(self):
        super().__init__()
        self.linear = Linear(784, 10)
        self.calls = []

    def forward(self, x):
        out = self.linear(x)
        self.calls.append((x.requires_grad, self.is_train, out.requires_grad))
        return out


def test_train_uses_train_mode_and_validate_uses_eval_mode_without_graph(shipped):
    train_x, train_y, val_x, val_y = shipped
    model = _Spy()
    optimizer = SGD(model.parameters(), lr=0.1)
    accuracies = train(model, optimizer, CrossEntropyLoss(), train_x[:400], train_y[:400],
                       val_x[:200], val_y[:200], num_epochs=1)
    training = [c for c in model.calls if c[1]]
    evaluation = [c for c in model.calls if not c[1]]
    assert len(training) == 4                                   # 400 samples / batch 100
    assert len(evaluation) == 2 * len(accuracies)               # 200 val samples / batch 100
    assert not any(input_grad for input_grad, _, _ in model.calls), "inputs never require grad"
    assert all(out_grad for _, _, out_grad in training)
    assert not any(out_grad for _, _, out_grad in evaluation), "validate() builds no graph"


def test_validate_counts_correct_predictions_over_the_whole_set():
    model = Linear(784, 10)
    model.weight.data[...] = 0.0
    model.bias.data[...] = np.arange(10.0)                      # always predicts class 9
    val_y = np.array([9] * 130 + [1] * 120)                    # 250: a partial last batch
    assert validate(model, np.zeros((250, 784)), val_y) == 130 / 250


@pytest.mark.parametrize("change, error, words", [
    (lambda d: {**d, "train_x": d["train_x"][:, :783]}, ValueError, "(N, 784)"),
    (lambda d: {**d, "train_y": d["train_y"][:-1]}, ValueError, "train_y"),
    (lambda d: {**d, "val_y": d["val_y"].astype(float)}, TypeError, "integer labels"),
    (lambda d: {**d, "val_y": d["val_y"] + 10}, ValueError, "labels 0-9"),
    (lambda d: {**d, "train_x": np.full((200, 784), "x")}, TypeError, "numeric"),
    (lambda d: {**d, "val_x": np.full((20, 784), np.nan)}, ValueError, "NaN"),
])
def test_mnist_rejects_malformed_arrays_with_a_clear_error(change, error, words):
    rng = np.random.default_rng(0)
    good = {"train_x": rng.random((200, 784)), "train_y": rng.integers(0, 10, 200),
            "val_x": rng.random((20, 784)), "val_y": rng.integers(0, 10, 20)}
    bad = change(good)
    with pytest.raises(error, match=re.escape(words)):
        mnist(bad["train_x"], bad["train_y"], bad["val_x"], bad["val_y"], num_epochs=1)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # the overflow is the point
def test_a_diverging_loss_stops_training_naming_epoch_and_batch(shipped, monkeypatch):
    monkeypatch.setattr(mnist_module, "LEARNING_RATE", 1e200)
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch \d+"):
        mnist(*shipped, num_epochs=1)


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.unlink(), "is missing"),
    (lambda p: p.write_bytes(b"not a numpy file"), "not a readable .npy"),
    (lambda p: np.save(p, np.zeros((5, 28, 28), np.uint8)), "not the handout's format"),
])
def test_grader_names_the_bad_data_file_and_the_command_that_makes_it(tmp_path, damage, words):
    for name in grader.SPLITS:
        (tmp_path / name).write_bytes((ROOT / "data" / name).read_bytes())
    damage(tmp_path / "val_data.npy")
    with pytest.raises(grader.DataError) as info:
        grader.load_data(str(tmp_path))
    message = str(info.value)
    assert "val_data.npy" in message and words in message
    assert "python3 data/prepare.py" in message


def test_grader_writes_a_png_plot(tmp_path):
    path = grader.plot_accuracies([0.1, 0.5, 0.8, 0.9], str(tmp_path / "plot.png"))
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grade_m_trains_prints_progress_and_saves_the_plot():
    plot = ROOT / "hw1" / "validation_accuracy.png"
    result = subprocess.run(["bash", str(ROOT / "grade.sh"), "m"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "MPLBACKEND": ""})
    assert result.returncode == 0, result.stderr
    assert "epoch 3" in result.stdout and "samples/s" in result.stdout
    final = float(result.stdout.split("Final validation accuracy:")[1].split()[0])
    assert final >= 0.90
    assert plot.exists() and plot.read_bytes()[:4] == b"\x89PNG"


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")   # Debian's dataset-fashion-mnist


@pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist is not installed "
                           "(.ci/run installs it)")
def test_full_size_fashion_mnist_converts_and_trains(tmp_path):
    prepare = subprocess.run([sys.executable, str(ROOT / "data" / "prepare.py"),
                              "--idx", str(FASHION_DIR), "--out", str(tmp_path)],
                             capture_output=True, text=True, timeout=300)
    assert prepare.returncode == 0, prepare.stderr
    train_x, train_y, val_x, val_y = grader.load_data(str(tmp_path))
    assert train_x.shape == (55000, 784) and val_x.shape == (5000, 784)
    accuracies = mnist(train_x, train_y, val_x, val_y)
    assert len(accuracies) == 3 * 6 + 1           # every 100 of 550 batches, plus the end
    assert accuracies[-1] >= 0.80                # Fashion-MNIST is harder than digits


# --------------------------------------------------------------------------- #
# Bonus options: Adam and Dropout (mnist() keeps the handout's signature)
# --------------------------------------------------------------------------- #
@pytest.fixture
def build(monkeypatch, shipped):
    """build(**options) -> the model and optimizer mnist() makes (training itself skipped)."""
    made = {}

    def record_instead_of_training(model, optimizer, *args, **kwargs):
        made.update(model=model, optimizer=optimizer)
        return [0.0]

    monkeypatch.setattr(mnist_module, "train", record_instead_of_training)

    def build_with(**options):
        mnist(*shipped, **options)
        return made["model"], made["optimizer"]
    return build_with


def layer_types(model):
    return [type(layer).__name__ for layer in model]


def test_default_is_the_handouts_model_and_sgd(build):
    model, optimizer = build()
    assert layer_types(model) == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert type(optimizer) is SGD and (optimizer.lr, optimizer.momentum) == (0.1, 0.9)
    model, _ = build(dropout=0.0)
    assert layer_types(model) == ["Linear", "BatchNorm1d", "ReLU", "Linear"]


def test_optimizer_adam_trains_the_same_model_with_adam_at_lr_0_001(build):
    model, optimizer = build(optimizer="adam")
    assert layer_types(model) == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    assert type(optimizer) is Adam and optimizer.lr == 0.001
    assert [id(p) for p in optimizer.params] == [id(p) for p in model.parameters()]


def test_lr_replaces_either_optimizers_learning_rate(build):
    assert build(optimizer="adam", lr=0.01)[1].lr == 0.01
    _, sgd = build(lr=0.05)
    assert type(sgd) is SGD and (sgd.lr, sgd.momentum) == (0.05, 0.9)


def test_dropout_goes_after_the_relu(build):
    model, optimizer = build(dropout=0.2, optimizer="adam")
    assert layer_types(model) == ["Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    assert model[3].p == 0.2 and type(optimizer) is Adam


@pytest.mark.parametrize("options, error, words", [
    ({"optimizer": "rmsprop"}, ValueError, "'rmsprop'"),
    ({"optimizer": "Adam"}, ValueError, "optimizer must be 'sgd' or 'adam'"),
    ({"dropout": 1.5}, ValueError, "p must be a probability in [0, 1], got 1.5"),
    ({"optimizer": "adam", "lr": -1.0}, ValueError, "lr must be >= 0"),
])
def test_bad_bonus_options_are_errors_naming_them(build, options, error, words):
    with pytest.raises(error, match=re.escape(words)):
        build(**options)


def test_adam_with_dropout_learns_and_a_seed_reproduces_it_masks_included(shipped):
    first = mnist(*shipped, num_epochs=1, seed=5, optimizer="adam", dropout=0.2)
    again = mnist(*shipped, num_epochs=1, seed=5, optimizer="adam", dropout=0.2)
    without_dropout = mnist(*shipped, num_epochs=1, seed=5, optimizer="adam")
    assert first == again
    assert first != without_dropout
    assert first[-1] - first[0] > 0.3, "one epoch of Adam must visibly learn"


def test_grader_options_reject_bad_values():
    for argv in (["--dropout", "1.5"], ["--dropout", "x"], ["--lr", "0"], ["--lr", "-0.1"],
                 ["--optimizer", "rmsprop"]):
        with pytest.raises(SystemExit) as info:
            grader.parse_args(argv)
        assert info.value.code == 2


@pytest.mark.parametrize("argv, name, label", [
    (["--optimizer", "adam"], "validation_accuracy_adam.png", "Adam lr 0.001"),
    (["--dropout", "0.2"], "validation_accuracy_dropout0.2.png",
     "SGD lr 0.1, momentum 0.9, Dropout 0.2"),
    (["--optimizer", "adam", "--dropout", "0.2"], "validation_accuracy_adam_dropout0.2.png",
     "Adam lr 0.001, Dropout 0.2"),
    (["--dropout", "0.2", "--lr", "0.01", "--optimizer", "adam"],
     "validation_accuracy_adam_lr0.01_dropout0.2.png", "Adam lr 0.01, Dropout 0.2"),
    (["--lr", "0.05"], "validation_accuracy_sgd_lr0.05.png", "SGD lr 0.05, momentum 0.9"),
])
def test_grader_names_each_option_runs_plot_and_legend(argv, name, label):
    options = grader.bonus_options(grader.parse_args(argv))
    assert os.path.basename(grader.comparison_path(options)) == name
    assert grader.describe(options, mnist_module) == label
    assert grader.describe({}, mnist_module) == "SGD lr 0.1, momentum 0.9"


def test_grader_without_options_or_with_default_values_is_the_default_run():
    assert grader.bonus_options(grader.parse_args([])) == {}
    assert grader.bonus_options(grader.parse_args(["--optimizer", "sgd", "--dropout", "0"])) == {}


@pytest.fixture
def short_runs(monkeypatch, tmp_path):
    """Make main() train 1 epoch, record mnist()'s options, and plot into tmp_path."""
    calls = []
    real_mnist = mnist_module.mnist

    def one_epoch(*data, **options):
        calls.append({k: v for k, v in options.items() if k != "log"})
        return real_mnist(*data, num_epochs=1, **options)

    handed_in = str(tmp_path / "validation_accuracy.png")
    real_plot = grader.plot_accuracies

    def plot_into_tmp(accuracies, path=None, **kwargs):
        return real_plot(accuracies, handed_in, **kwargs)

    monkeypatch.setattr(mnist_module, "mnist", one_epoch)
    monkeypatch.setattr(grader, "PLOT_PATH", handed_in)
    monkeypatch.setattr(grader, "plot_accuracies", plot_into_tmp)
    return calls


def test_an_option_run_plots_beside_the_default_and_leaves_the_handed_in_plot(
        short_runs, tmp_path, capsys):
    assert grader.main(["--optimizer", "adam", "--dropout", "0.2"]) == 0
    assert short_runs == [{"optimizer": "adam", "dropout": 0.2}, {}]    # then the default
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "validation_accuracy_adam_dropout0.2.png"]
    assert (tmp_path / "validation_accuracy_adam_dropout0.2.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert "Final validation accuracy:" in out and "Default run:" in out
    assert "Adam lr 0.001, Dropout 0.2" in out


def test_a_run_without_options_writes_only_the_handed_in_plot(short_runs, tmp_path):
    assert grader.main([]) == 0
    assert short_runs == [{}]
    assert [p.name for p in tmp_path.iterdir()] == ["validation_accuracy.png"]


def test_grade_m_with_options_keeps_the_handed_in_plot_byte_for_byte(tmp_path):
    plot = ROOT / "hw1" / "validation_accuracy.png"
    comparison = ROOT / "hw1" / "validation_accuracy_adam_dropout0.2.png"
    before = plot.read_bytes() if plot.exists() else None
    result = subprocess.run(["bash", str(ROOT / "grade.sh"), "m", "--optimizer", "adam",
                             "--dropout", "0.2"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "MPLBACKEND": ""})
    assert result.returncode == 0, result.stderr
    assert (plot.read_bytes() if plot.exists() else None) == before
    assert comparison.read_bytes()[:4] == b"\x89PNG"
    final = float(result.stdout.split("Final validation accuracy:")[1].split()[0])
    default = float(result.stdout.split("Default run:")[1].split()[0])
    assert final > 0.8 and default >= 0.90


def test_an_option_run_with_a_handout_signature_mnist_names_the_missing_argument(
        short_runs, monkeypatch, tmp_path, capsys):
    def handout_mnist(train_x, train_y, val_x, val_y):
        raise AssertionError("must not be called")

    monkeypatch.setattr(mnist_module, "mnist", handout_mnist)
    assert grader.main(["--dropout", "0.3"]) == 2
    assert "takes no dropout argument" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
