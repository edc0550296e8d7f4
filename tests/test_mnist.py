"""hw1/mnist.py and the MNIST autograder script (handout Problem 3)."""
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ElementTree
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

ROOT = Path(__file__).resolve().parents[1]
GRADER_PATH = ROOT / "autograder" / "hw1_autograder" / "test_mnist.py"


def _load_grader():
    spec = importlib.util.spec_from_file_location("mnist_grader", GRADER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


grader = _load_grader()


def _needs_matplotlib():
    """Skip (like the torch tests) when matplotlib, which only draws the plot, is missing."""
    return pytest.importorskip("matplotlib", reason=grader.MATPLOTLIB_MISSING)


def _project(tmp_path, n_train=1000, n_val=200, mnist_source=None):
    """A copy of what ./grade.sh m needs, with the first n_train / n_val shipped digits
    (small, so a run takes a second) and, if given, another hw1/mnist.py."""
    project = tmp_path / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.png")
    for folder in ("autograder", "mytorch", "hw1"):
        shutil.copytree(str(ROOT / folder), str(project / folder), ignore=ignore)
    shutil.copy(str(ROOT / "grade.sh"), str(project / "grade.sh"))
    (project / "data").mkdir()
    for split, count in (("train", n_train), ("val", n_val)):
        for kind in ("data", "labels"):
            name = "{}_{}.npy".format(split, kind)
            np.save(str(project / "data" / name), np.load(str(ROOT / "data" / name))[:count])
    if mnist_source is not None:
        (project / "hw1" / "mnist.py").write_text(mnist_source)
    return project


def _grade_m(project, *args, **environment):
    """Run ``./grade.sh m [args]`` of ``project`` with this Python (plus ``environment``)."""
    return subprocess.run(["bash", str(project / "grade.sh"), "m"] + list(args), cwd=str(project),
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHON=sys.executable, MPLBACKEND="",
                                   **environment))


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


def test_mnist_with_an_empty_validation_set_says_so_instead_of_dividing_by_zero(shipped):
    train_x, train_y, val_x, val_y = shipped
    with pytest.raises(ValueError, match="mnist: the validation set is empty"):
        mnist(train_x[:200], train_y[:200], val_x[:0], val_y[:0], num_epochs=1)
    with pytest.raises(ValueError, match="the validation set is empty"):
        validate(Linear(784, 10), val_x[:0], val_y[:0])


def test_progress_lines_report_training_speed_without_validation_time(shipped, monkeypatch):
    # A fake clock: each reading advances 1 ms, and each validation takes 100 s.  Counting
    # validation time would report about 1 sample/s; a 100-sample step is ~1 ms: 100,000.
    clock = {"now": 0.0}

    def perf_counter():
        clock["now"] += 0.001
        return clock["now"]

    def slow_validate(model, val_x, val_y):
        clock["now"] += 100.0
        return validate(model, val_x, val_y)

    monkeypatch.setattr(mnist_module, "time", types.SimpleNamespace(perf_counter=perf_counter))
    monkeypatch.setattr(mnist_module, "validate", slow_validate)
    lines = []
    mnist(*(a[:400] for a in shipped), num_epochs=1, log=lines.append)
    speeds = [float(re.search(r"training ([\d,]+) samples/s", line).group(1).replace(",", ""))
              for line in lines if "samples/s" in line]
    assert len(speeds) == 4                               # every batch of 4 is validated
    assert all(speed == pytest.approx(100_000, rel=0.5) for speed in speeds), speeds


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # the overflow is the point
def test_a_diverging_loss_stops_training_naming_epoch_and_batch(shipped, monkeypatch):
    monkeypatch.setattr(mnist_module, "LEARNING_RATE", 1e200)
    with pytest.raises(FloatingPointError, match=r"epoch 1, batch \d+"):
        mnist(*shipped, num_epochs=1)


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.unlink(), "is missing"),
    (lambda p: p.write_bytes(b"not a numpy file"),
     "not a readable .npy file (it does not start with the .npy header)"),
    (lambda p: np.save(p, np.array([{"pixels": 1}], dtype=object), allow_pickle=True),
     "not a readable .npy file (it holds Python objects, not an array of numbers)"),
    (lambda p: p.write_bytes(p.read_bytes()[:5000]), "not a readable .npy file"),
    (lambda p: np.save(p, np.zeros((5, 28, 28), np.uint8)), "not the handout's format"),
    (lambda p: np.save(p, np.zeros((0, 784), np.uint8)), "holds no samples (shape (0, 784))"),
    (lambda p: np.save(p, np.zeros((999, 784), np.uint8)),
     "holds 999 images but "),
])
def test_grader_names_the_bad_data_file_and_the_command_that_makes_it(tmp_path, damage, words):
    data = tmp_path / "data"
    data.mkdir()
    for name in grader.SPLITS:
        (data / name).write_bytes((ROOT / "data" / name).read_bytes())
    damage(data / "val_data.npy")
    with pytest.raises(grader.DataError) as info:
        grader.load_data(str(data))
    message = str(info.value)
    assert str(data / "val_data.npy") in message and words in message
    assert "python3 data/prepare.py" in message
    assert "pickle" not in message.lower(), "never suggest unpickling a data file"


def test_grade_m_with_an_empty_validation_file_names_it_and_exits_2(tmp_path):
    project = _project(tmp_path, n_val=0)
    result = _grade_m(project)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "MNIST autograder: {} holds no samples (shape (0, 784)): run `python3 data/prepare.py` "
        "to make it again".format(project / "data" / "val_data.npy"))


def test_grade_m_says_what_it_expected_when_mnist_returns_none(tmp_path):
    # The handout's starter ends with `val_accuracies = None; return val_accuracies`.
    project = _project(tmp_path, mnist_source=(
        "def mnist(train_x, train_y, val_x, val_y):\n"
        "    val_accuracies = None\n"
        "    return val_accuracies\n"))
    result = _grade_m(project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "mnist() returned None" in result.stderr
    assert "the grader expects the list of validation accuracies" in result.stderr
    assert "return val_accuracies" in result.stderr


def test_grade_m_fails_a_network_that_never_learns_and_says_why(tmp_path):
    _needs_matplotlib()
    source = (ROOT / "hw1" / "mnist.py").read_text()
    assert source.count("optimizer.zero_grad()") == 1
    project = _project(tmp_path, n_train=4000, n_val=1000, mnist_source=source.replace(
        "optimizer.zero_grad()", "pass  # optimizer.zero_grad() forgotten"))
    result = _grade_m(project)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the network did not learn" in result.stderr
    assert "earns nothing" in result.stderr and "zero_grad()" in result.stderr
    assert "Problem 3 is graded by hand from this plot" not in result.stdout


def test_an_option_run_whose_mnist_ignores_the_options_says_what_was_trained(tmp_path):
    _needs_matplotlib()
    source = (ROOT / "hw1" / "mnist.py").read_text()
    anchor = "    np.random.seed(seed)"
    assert source.count(anchor) == 1
    project = _project(tmp_path, mnist_source=source.replace(
        anchor, '    optimizer, dropout, lr = "sgd", 0.0, None   # the options ignored\n' + anchor))
    result = _grade_m(project, "--optimizer", "adam", "--dropout", "0.2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the options were not used" in result.stderr
    assert "--optimizer adam (it built SGD)" in result.stderr
    assert "--dropout 0.2 (it built no Dropout)" in result.stderr
    first = result.stdout.split("Final validation accuracy:")[1].splitlines()[0]
    assert "SGD lr 0.1" in first and "Adam" not in first      # labelled by what was trained


@pytest.mark.parametrize("returned, words", [
    (None, "returned None"),
    ([], "returned an empty list"),
    (0.9, "returned a float (0.9)"),
    ("0.9", "returned a str ('0.9')"),
    ([0.1, "0.5"], "value 1 is '0.5' (a str)"),
    ([0.1, float("nan")], "value 1 is nan"),
    ([0.1, True], "value 1 is True (a bool)"),
    ([10.0, 150.0], "value 1 is 150.0"),
    ([0.1, -0.5], "value 1 is -0.5"),
])
def test_grader_rejects_what_is_not_a_list_of_accuracies(returned, words):
    with pytest.raises(grader.ResultError) as info:
        grader.check_accuracies(returned)
    assert words in str(info.value)
    assert "the grader expects the list of validation accuracies" in str(info.value)


def test_grader_accepts_fractions_percentages_and_arrays():
    assert grader.check_accuracies([0.1, 0.9]) == [0.1, 0.9]
    assert grader.check_accuracies((12, 91.5)) == [12.0, 91.5]
    assert grader.check_accuracies(np.array([0.25, 0.5])) == [0.25, 0.5]


@pytest.mark.parametrize("count, num_train, epochs, expected", [
    # The handout's schedule on the full set: 550 batches, batches 0, 100, ..., 500.
    (18, 55000, 3, [e + (i + 1) / 550 for e in range(3) for i in (0, 100, 200, 300, 400, 500)]),
    # hw1/mnist.py on the full set: the same, then once more after the last batch.
    (19, 55000, 3, [e + (i + 1) / 550 for e in range(3) for i in (0, 100, 200, 300, 400, 500)]
     + [3.0]),
    # hw1/mnist.py on the shipped 4,000 digits: 40 batches, every 10th, then the end.
    (13, 4000, 3, [0.025, 0.275, 0.525, 0.775, 1.025, 1.275, 1.525, 1.775,
                   2.025, 2.275, 2.525, 2.775, 3.0]),
    # The handout's schedule on the shipped digits: batch 0 of each epoch.
    (3, 4000, 3, [0.025, 1.025, 2.025]),
    (5, 4000, 2, [0.025, 0.525, 1.025, 1.525, 2.0]),
])
def test_validation_points_sit_at_their_fractional_epoch(count, num_train, epochs, expected):
    got = grader.validation_epochs(count, num_train, epochs)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("count, num_train, epochs", [(8, 4000, 3), (200, 4000, 3), (3, 50, 3)])
def test_validation_points_are_unknown_when_no_schedule_fits(count, num_train, epochs):
    assert grader.validation_epochs(count, num_train, epochs) is None


def test_the_plot_has_a_title_with_the_final_accuracy_labelled_axes_and_epochs_on_x():
    _needs_matplotlib()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots()
    try:
        epochs = [0.025, 0.525, 1.025, 1.525, 2.0]
        grader.draw_accuracies(axes, [0.1, 0.6, 0.8, 0.85, 0.9071], epochs)
        assert axes.get_title() == "MNIST validation accuracy (final: 0.9071)"
        assert axes.get_xlabel() == "Epoch" and axes.get_ylabel() == "Validation accuracy"
        assert list(axes.lines[0].get_xdata()) == epochs
        assert axes.get_ylim() == (0, 1)
        axes.clear()
        grader.draw_accuracies(axes, [10.0, 60.0, 90.5])              # percentages, no epochs
        assert axes.get_title() == "MNIST validation accuracy (final: 90.50%)"
        assert axes.get_xlabel() == "Validation round"
        assert axes.get_ylabel() == "Validation accuracy (%)" and axes.get_ylim() == (0, 100)
    finally:
        plt.close(figure)


def test_grader_writes_a_png_plot(tmp_path):
    _needs_matplotlib()
    path = grader.plot_accuracies([0.1, 0.5, 0.8, 0.9], str(tmp_path / "plot.png"),
                                  epochs=[0.5, 1.0, 1.5, 2.0])
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grade_m_trains_prints_progress_and_saves_the_plot(tmp_path):
    _needs_matplotlib()
    project = _project(tmp_path, n_train=4000, n_val=1000)       # the shipped set
    result = _grade_m(project)
    assert result.returncode == 0, result.stderr
    assert "epoch 3" in result.stdout and "training" in result.stdout \
        and "samples/s" in result.stdout
    final = float(result.stdout.split("Final validation accuracy:")[1].split()[0])
    assert final >= 0.90
    plot = project / "hw1" / "validation_accuracy.png"
    assert plot.exists() and plot.read_bytes()[:4] == b"\x89PNG"


def test_grade_m_runs_a_handout_signature_mnist_that_takes_no_log(tmp_path):
    _needs_matplotlib()
    # The handout's mnist(train_x, train_y, val_x, val_y): no log argument to pass.
    project = _project(tmp_path, mnist_source=(
        "def mnist(train_x, train_y, val_x, val_y):\n"
        "    print('student mnist ran on', len(train_x), 'samples')\n"
        "    return [0.2, 0.7, 0.9]\n"))
    result = _grade_m(project)
    assert result.returncode == 0, result.stderr
    assert "student mnist ran on 1000 samples" in result.stdout
    assert "Final validation accuracy: 0.9000" in result.stdout
    assert (project / "hw1" / "validation_accuracy.png").exists()


def test_grade_m_without_matplotlib_prints_the_accuracies_then_says_how_to_get_the_plot(
        tmp_path):
    project = _project(tmp_path)
    fake = tmp_path / "no_matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'matplotlib'\")\n")
    result = _grade_m(project, PYTHONPATH=str(fake.parent))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Validation accuracies: " in result.stdout
    assert "Final validation accuracy: " in result.stdout
    assert "the plot needs matplotlib: pip install -r requirements.txt" in result.stderr
    assert not (project / "hw1" / "validation_accuracy.png").exists()


def run_grade_m(*args):
    return subprocess.run(["bash", str(ROOT / "grade.sh"), "m"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHON": sys.executable})


def test_grade_m_graph_draws_the_mlp_on_one_batch_without_training(tmp_path):
    pytest.importorskip("matplotlib", reason="the picture needs matplotlib; grading does not")
    plot = ROOT / "hw1" / "validation_accuracy.png"
    plot_before = plot.stat().st_mtime_ns if plot.exists() else None
    picture = tmp_path / "mlp.svg"
    result = run_grade_m("--graph", str(picture))
    assert result.returncode == 0, result.stderr
    assert "Saved the graph" in result.stdout and "epoch" not in result.stdout
    assert (plot.stat().st_mtime_ns if plot.exists() else None) == plot_before, "no training"
    text = " ".join(ElementTree.parse(str(picture)).getroot().itertext())
    for label in ("CrossEntropy", "BatchNorm", "ReLU", "Linear", "(100, 20)", "(100, 10)",
                  "layers[0].weight", "(20, 784)", "layers[1].gamma", "layers[3].bias"):
        assert label in text
    assert "grad norm" not in text, "no backward either"


@pytest.mark.parametrize("args", [["--graph"], ["--graph", "mlp.pdf"], ["--graph", "a.png", "b"]])
def test_grade_m_graph_explains_its_usage(args):
    result = run_grade_m(*args)
    assert result.returncode == 2
    assert "usage: ./grade.sh m" in result.stderr and "[--graph PATH]" in result.stderr
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_grade_m_graph_writes_where_it_was_asked_from_any_folder(tmp_path):
    pytest.importorskip("matplotlib", reason="the picture needs matplotlib; grading does not")
    result = subprocess.run(["bash", str(ROOT / "grade.sh"), "m", "--graph", "g.png"],
                            cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert not (ROOT / "g.png").exists()


@pytest.mark.parametrize("target, words", [
    (".", "is a folder: give a file name ending in .png or .svg"),
    ("no/such/folder/g.png", "the folder 'no/such/folder' does not exist"),
])
def test_grade_m_graph_refuses_a_folder_or_a_missing_one_clearly(tmp_path, target, words):
    result = subprocess.run(["bash", str(ROOT / "grade.sh"), "m", "--graph", target],
                            cwd=str(tmp_path), capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 2 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["abc", "-1", "inf"])
def test_grade_m_timeout_names_the_option_it_came_from(value):
    result = run_grade_m("--timeout", value)
    assert result.returncode == 2
    assert "--timeout {!r} is not a number of seconds".format(value) in result.stderr
    assert "AUTOGRADER_TIMEOUT" not in result.stderr


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")   # Debian's dataset-fashion-mnist


@pytest.mark.skipif(not (FASHION_DIR / "train-images-idx3-ubyte.gz").exists(),
                    reason="Debian package dataset-fashion-mnist is not installed "
                           "(see README.md, Test)")
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
    """Make main() train 1 epoch, record mnist()'s options, and plot into tmp_path.

    main() trains in a child process, so the calls are recorded in a file; the
    fixture returns a function that reads them."""
    log = tmp_path.parent / (tmp_path.name + "-calls.jsonl")
    real_mnist = mnist_module.mnist

    def one_epoch(*data, **options):
        with open(str(log), "a") as calls:
            calls.write(json.dumps({k: v for k, v in options.items() if k != "log"}) + "\n")
        return real_mnist(*data, num_epochs=1, **options)

    handed_in = str(tmp_path / "validation_accuracy.png")
    real_plot = grader.plot_accuracies

    def plot_into_tmp(accuracies, path=None, **kwargs):
        return real_plot(accuracies, handed_in, **kwargs)

    monkeypatch.setattr(mnist_module, "mnist", one_epoch)
    monkeypatch.setattr(grader, "PLOT_PATH", handed_in)
    monkeypatch.setattr(grader, "plot_accuracies", plot_into_tmp)
    return lambda: [json.loads(line) for line in log.read_text().splitlines()] \
        if log.exists() else []


def test_an_option_run_plots_beside_the_default_and_leaves_the_handed_in_plot(
        short_runs, tmp_path, capsys):
    assert grader.main(["--optimizer", "adam", "--dropout", "0.2"]) == 0
    assert short_runs() == [{"optimizer": "adam", "dropout": 0.2}, {}]    # then the default
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "validation_accuracy_adam_dropout0.2.png"]
    assert (tmp_path / "validation_accuracy_adam_dropout0.2.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert "Final validation accuracy:" in out and "Default run:" in out
    assert "Adam lr 0.001, Dropout 0.2" in out


def test_a_run_without_options_writes_only_the_handed_in_plot(short_runs, tmp_path):
    assert grader.main([]) == 0
    assert short_runs() == [{}]
    assert [p.name for p in tmp_path.iterdir()] == ["validation_accuracy.png"]


def test_grade_m_with_options_keeps_the_handed_in_plot_byte_for_byte(tmp_path):
    _needs_matplotlib()
    project = _project(tmp_path, n_train=4000, n_val=1000)
    plot = project / "hw1" / "validation_accuracy.png"
    plot.write_bytes(b"the plot handed in")
    result = _grade_m(project, "--optimizer", "adam", "--dropout", "0.2")
    assert result.returncode == 0, result.stderr
    assert plot.read_bytes() == b"the plot handed in"
    comparison = project / "hw1" / "validation_accuracy_adam_dropout0.2.png"
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


def test_grade_m_stops_a_hanging_mnist_at_the_time_limit(tmp_path):
    project = _project(tmp_path, mnist_source=(
        "import time\n"
        "def mnist(train_x, train_y, val_x, val_y):\n"
        "    while True:\n"
        "        try:\n"
        "            time.sleep(10)\n"
        "        except BaseException:\n"
        "            pass\n"))
    result = _grade_m(project, AUTOGRADER_TIMEOUT="1")
    assert result.returncode == 1
    assert "mnist() did not finish within 1 s" in result.stderr
    assert "time.sleep(10)" in result.stderr                      # where it was running
    assert not (project / "hw1" / "validation_accuracy.png").exists()


def test_grade_m_reports_an_mnist_that_ends_the_process(tmp_path):
    project = _project(tmp_path, mnist_source=(
        "import os\n"
        "def mnist(train_x, train_y, val_x, val_y):\n"
        "    os._exit(0)\n"))
    result = _grade_m(project)
    assert result.returncode == 1
    assert "training did not finish" in result.stderr and "exit status 0" in result.stderr


def test_grade_m_shows_the_traceback_of_an_mnist_that_raises(tmp_path):
    project = _project(tmp_path, mnist_source=(
        "def mnist(train_x, train_y, val_x, val_y):\n"
        "    return helper()\n"
        "def helper():\n"
        "    raise KeyError('labels')\n"))
    result = _grade_m(project)
    assert result.returncode == 1
    assert "mnist() raised an exception" in result.stderr
    assert "KeyError: 'labels'" in result.stderr and "in helper" in result.stderr


def test_the_grade_m_time_limit_defaults_to_ten_minutes(monkeypatch):
    monkeypatch.delenv(grader.TIMEOUT_ENV, raising=False)
    assert grader.resolve_timeout() == 600
    monkeypatch.setenv(grader.TIMEOUT_ENV, "30")
    assert grader.resolve_timeout() == 30
    assert grader.resolve_timeout("5") == 5
    monkeypatch.setenv(grader.TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match=grader.TIMEOUT_ENV):
        grader.resolve_timeout()
