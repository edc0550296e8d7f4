"""hw3/mnist_gru.py: the GRU digit classifier, its training, evaluation and script.

The model is checked against the GRU equations in NumPy (tests/hw3_reference.py)
and, with PyTorch installed, against nn.GRU + nn.Linear + cross_entropy (float64);
the full recipe must reach the issue's 0.92 on the shipped validation digits.
"""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import hw3_reference as ref
from hw3_reference import GRU_PARAMETERS, oracle
from mytorch import Tensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "hw3", "mnist_gru.py")
FIGURE_SCRIPT = os.path.join(ROOT, "docs", "packed_sequence_figure.py")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mnist_gru = _load("mnist_gru", SCRIPT)


@pytest.fixture(scope="module")
def data():
    return mnist_gru.load_data()


def _model(rng, hidden_size=5):
    np.random.seed(int(rng.integers(1000)))
    return mnist_gru.GRUClassifier(hidden_size)


# --------------------------------------------------------------------------- #
# The model (NumPy)
# --------------------------------------------------------------------------- #
def test_the_gru_starts_from_pytorchs_default_uniform_initialisation():
    np.random.seed(0)
    model = mnist_gru.GRUClassifier()
    unit, bound = model.gru.unit, 1 / 8.0                 # 1 / sqrt(64)
    values = np.concatenate([getattr(unit, name).data.ravel() for name in GRU_PARAMETERS])
    assert np.all(np.abs(values) <= bound)
    assert values.std() == pytest.approx(bound / np.sqrt(3), rel=0.05)   # uniform, not N(0, 1)
    assert np.any(unit.bias_hn.data != 0)
    assert model.classifier.weight.shape == (10, 64)


def test_the_model_reads_each_digit_row_by_row_and_classifies_its_last_state(rng, data):
    model = _model(rng)
    images = data[0][:6]
    logits = model(images)
    params = ref.parameters_of(model.gru.unit, GRU_PARAMETERS)
    for image, row in zip(images, logits.data):
        h = np.zeros((1, 5))
        for pixels in image.reshape(28, 28):
            h = ref.gru_cell(params, pixels[None, :], h)
        expected = h[0] @ model.classifier.weight.data.T + model.classifier.bias.data
        np.testing.assert_allclose(row, expected, rtol=1e-11, atol=1e-13)


def test_a_training_step_changes_every_parameter(rng, data):
    model = _model(rng)
    optimizer = mnist_gru.Adam(model.parameters(), lr=0.01)
    before = [p.data.copy() for p in model.parameters()]
    loss = mnist_gru.CrossEntropyLoss()(model(data[0][:10]), Tensor(data[1][:10]))
    loss.backward()
    optimizer.step()
    assert len(before) == 14
    for old, param in zip(before, model.parameters()):
        assert not np.array_equal(old, param.data)


def test_evaluate_is_the_fraction_labelled_right_and_leaves_training_mode():
    class Fixed(mnist_gru.Module):
        def forward(self, images):
            return Tensor(np.eye(10)[np.asarray(images)[:, 0].astype(int)])
    model = Fixed()
    x = np.zeros((4, 784))
    x[:, 0] = [3, 1, 4, 1]
    assert mnist_gru.evaluate(model, x, np.array([3, 1, 5, 9]), batch_size=3) == 0.5
    assert model.is_train


def test_a_short_run_returns_one_accuracy_per_validation_and_is_reproducible(data):
    train_x, train_y, val_x, val_y = (array[:300] for array in data)
    first = mnist_gru.mnist_gru(train_x, train_y, val_x[:100], val_y[:100], num_epochs=2)
    second = mnist_gru.mnist_gru(train_x, train_y, val_x[:100], val_y[:100], num_epochs=2)
    assert first == second and len(first) == 6        # 3 batches an epoch: after each
    lines = []
    model, history = mnist_gru.train_gru(train_x, train_y, val_x[:100], val_y[:100],
                                         num_epochs=2, log=lines.append)
    assert [epoch for epoch, _ in history] == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    assert len(lines) == 6 and lines[-1].startswith("epoch 2  batch   3/3")
    assert mnist_gru.evaluate(model, val_x[:100], val_y[:100]) == history[-1][1] == first[-1]


@pytest.mark.parametrize("change, words", [
    (lambda d: (d[0][:, :783],) + d[1:], r"train_x must have shape \(N, 784\)"),
    (lambda d: (d[0], d[1][:-1]) + d[2:], "train_y must hold"),
    (lambda d: d[:3] + (d[3] + 10,), "labels 0-9"),
    (lambda d: (d[0][:50], d[1][:50]) + d[2:], "at least 100 training digits"),
])
def test_bad_data_gets_a_clear_error(data, change, words):
    with pytest.raises(ValueError, match=words):
        mnist_gru.mnist_gru(*change(tuple(data)), num_epochs=1)


def test_the_module_imports_without_matplotlib():
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import importlib.util as u\n"
            "s = u.spec_from_file_location('m', {!r}); m = u.module_from_spec(s)\n"
            "s.loader.exec_module(m); print(m.HIDDEN_SIZE)".format(SCRIPT))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "64"


def test_the_hw1_mlps_validation_points_fall_where_it_validated():
    # 4,000 digits: 40 batches an epoch, validated at batches 0, 10, 20, 30, then at the end.
    points = mnist_gru.mlp_epochs(13, 4000)
    assert points[:5] == [1 / 40, 11 / 40, 21 / 40, 31 / 40, 1 + 1 / 40]
    assert points[-1] == 3.0
    assert mnist_gru.mlp_epochs(12, 4000) is None


# --------------------------------------------------------------------------- #
# The full recipe and the script
# --------------------------------------------------------------------------- #
def test_the_recipe_reaches_092_on_the_shipped_validation_digits(data):
    """The issue's target, with the default seed (about 7 s on one core)."""
    accuracies = mnist_gru.mnist_gru(*data)
    assert len(accuracies) == 32                       # 4 an epoch for 8 epochs
    assert accuracies[-1] >= 0.92
    assert accuracies[0] < 0.6                         # it learned: it did not start there


def test_the_script_prints_progress_and_saves_both_curves(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib "
                        "(pip install -r requirements.txt)")
    path = tmp_path / "gru.png"
    result = subprocess.run([sys.executable, SCRIPT, "--epochs", "1", "--plot", str(path)],
                            capture_output=True, text=True, timeout=300, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "epoch 1  batch  40/40" in result.stdout
    assert "Final validation accuracy" in result.stdout
    assert "HW1 MLP final validation accuracy" in result.stdout
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_script_scores_unseen_digits_and_reports_a_missing_folder(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib "
                        "(pip install -r requirements.txt)")
    data_dir = os.path.join(ROOT, "data")       # stands in for data/unseen: same layout
    command = [sys.executable, SCRIPT, "--epochs", "1", "--no-mlp", "--plot",
               str(tmp_path / "gru.png")]
    result = subprocess.run(command + ["--unseen", data_dir], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Accuracy on the 5,000 unseen digits in {}: 0.".format(data_dir) in result.stdout
    assert "HW1 MLP" not in result.stdout
    missing = subprocess.run(command + ["--unseen", str(tmp_path / "nowhere")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert "nowhere" in missing.stderr and "--npm" in missing.stderr


# --------------------------------------------------------------------------- #
# The same model in PyTorch (float64)
# --------------------------------------------------------------------------- #
def test_a_training_loss_and_its_gradients_match_torch(rng, data):
    torch = oracle()
    model = _model(rng, hidden_size=6)
    gru = ref.load_torch_module(torch.nn.GRU(28, 6), ref.torch_gru_weights(model.gru.unit),
                                suffix="_l0")
    linear = torch.nn.Linear(6, 10)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(model.classifier.weight.data))
        linear.bias.copy_(torch.tensor(model.classifier.bias.data))
    images, labels = data[0][:12], data[1][:12]
    loss = mnist_gru.CrossEntropyLoss()(model(images), Tensor(labels))
    rows = torch.tensor(images.reshape(12, 28, 28)).transpose(0, 1)      # (time, batch, 28)
    _, h_n = gru(rows)
    tloss = torch.nn.functional.cross_entropy(linear(h_n[0]), torch.tensor(labels))
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    loss.backward()
    tloss.backward()
    grads = ref.torch_gradients_by_gate(*(getattr(gru, name + "_l0").grad.numpy() for name in
                                          ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
    for name in GRU_PARAMETERS:
        np.testing.assert_allclose(getattr(model.gru.unit, name).grad.data, grads[name],
                                   rtol=1e-9, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(model.classifier.weight.grad.data, linear.weight.grad.numpy(),
                               rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- #
# The problem sheet's figure (docs/packed_sequence_figure.py)
# --------------------------------------------------------------------------- #
def test_the_figure_shows_the_layout_of_packing_by_hand(tmp_path):
    figure = _load("packed_sequence_figure", FIGURE_SCRIPT)
    sorted_indices, batch_sizes, rows = figure.layout((3, 5, 1, 3))
    arrays = [np.array([[100 * i + t] for t in range(n)]) for i, n in enumerate((3, 5, 1, 3))]
    data, expected_sorted, expected_sizes = ref.pack_by_hand(arrays)
    assert rows == [(int(v) // 100, int(v) % 100) for v in data[:, 0]]
    assert sorted_indices.tolist() == expected_sorted.tolist() == [1, 0, 3, 2]
    assert batch_sizes.tolist() == expected_sizes.tolist() == [4, 3, 3, 1, 1]
    pytest.importorskip("matplotlib", reason="drawing needs matplotlib "
                        "(pip install -r requirements.txt)")
    path = figure.draw(str(tmp_path / "packed.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


# --------------------------------------------------------------------------- #
# What the course's code expects of the library: star imports
# --------------------------------------------------------------------------- #
STAR_IMPORTS = {
    "mytorch.nn.rnn": {"RNNUnit", "TimeIterator", "RNN"},
    "mytorch.nn.gru": {"GRUUnit", "GRU"},
    "mytorch.nn.util": {"PackedSequence", "pack_sequence", "unpack_sequence"},
}


@pytest.mark.parametrize("module, expected", STAR_IMPORTS.items())
def test_star_imports_bring_only_the_homeworks_names(module, expected):
    namespace = {}
    exec("from {} import *".format(module), namespace)
    assert set(namespace) - {"__builtins__"} == expected


def test_course_style_star_imports_keep_the_recurrent_layers():
    # Course code imports the layers, then star-imports functional.
    from mytorch.nn.gru import GRU, GRUUnit
    from mytorch.nn.rnn import RNN, RNNUnit, TimeIterator
    namespace = {}
    exec("from mytorch.nn.rnn import RNNUnit, RNN, TimeIterator\nfrom mytorch.nn.gru import *\n"
         "from mytorch.nn.util import *\nfrom mytorch.nn.functional import *", namespace)
    for name, cls in (("RNNUnit", RNNUnit), ("RNN", RNN), ("TimeIterator", TimeIterator),
                      ("GRUUnit", GRUUnit), ("GRU", GRU)):
        assert namespace[name] is cls
    assert {"Slice", "Cat", "pack_sequence"} <= set(namespace)
