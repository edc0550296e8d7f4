"""hw2/mnist_cnn.py: the bonus CNN on MNIST (short runs on subsets of the shipped digits)."""
import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mytorch import Tensor, gradcheck
from mytorch.nn.activations import ReLU
from mytorch.nn.conv import Conv2d, Flatten, MaxPool2d
from mytorch.nn.linear import Linear

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "hw2" / "mnist_cnn.py"
spec = importlib.util.spec_from_file_location("hw2_mnist_cnn", SCRIPT)
mnist_cnn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mnist_cnn)


@pytest.fixture(scope="module")
def digits():
    """The first 1,000 shipped training digits and 200 validation digits, in [0, 1]."""
    x = np.load(str(ROOT / "data" / "train_data.npy"))[:1000] / 255.0
    y = np.load(str(ROOT / "data" / "train_labels.npy"))[:1000]
    vx = np.load(str(ROOT / "data" / "val_data.npy"))[:200] / 255.0
    vy = np.load(str(ROOT / "data" / "val_labels.npy"))[:200]
    return x, y, vx, vy


def test_the_network_and_its_initialisation():
    np.random.seed(0)
    model = mnist_cnn.build_cnn()
    assert [type(layer) for layer in model.layers] == [Conv2d, ReLU, MaxPool2d, Conv2d, ReLU,
                                                       MaxPool2d, Flatten, Linear]
    conv1, conv2, linear = model.layers[0], model.layers[3], model.layers[7]
    assert (conv1.in_channel, conv1.out_channel, conv1.kernel_size) == (1, 8, 5)
    assert (conv2.in_channel, conv2.out_channel, conv2.kernel_size) == (8, 16, 5)
    assert (linear.in_features, linear.out_features) == (256, 10)
    assert (model.layers[2].kernel_size, model.layers[2].stride) == (2, 2)
    # PyTorch's default: uniform in +-1/sqrt(fan_in), for weights and biases alike.
    for layer, fan_in in ((conv1, 25), (conv2, 200), (linear, 256)):
        bound = 1 / math.sqrt(fan_in)
        for p in (layer.weight, layer.bias):
            assert np.abs(p.data).max() <= bound
        assert np.abs(layer.weight.data).max() > 0.9 * bound     # not N(0, 1), not zeros
        assert np.abs(layer.bias.data).max() > 0
    assert model(Tensor(np.zeros((2, 1, 28, 28)))).shape == (2, 10)


def test_a_short_run_learns_and_is_reproducible(digits):
    first = mnist_cnn.mnist_cnn(*digits, num_epochs=2, seed=3)
    # 10 batches an epoch: validations after batches 0, 2, 4, 6 and 8 of each, then the end.
    assert len(first) == 11
    assert all(isinstance(a, float) and 0 <= a <= 1 for a in first)
    assert first[0] < 0.35 and first[-1] > 0.5, first         # chance is 0.1
    assert mnist_cnn.mnist_cnn(*digits, num_epochs=2, seed=3) == first


def test_the_schedule_of_validations():
    assert mnist_cnn.validation_epochs(11, 10, 2)[:3] == [0.1, 0.3, 0.5]
    assert mnist_cnn.validation_epochs(11, 10, 2)[-1] == 2.0
    assert mnist_cnn.validation_epochs(21, 40, 5)[4] == 41 / 40


def test_first_layer_gradient_by_finite_differences(digits):
    np.random.seed(1)
    model = mnist_cnn.build_cnn()
    x = Tensor(digits[0][:2].reshape(2, 1, 28, 28))
    conv = model.layers[0]
    assert gradcheck(lambda w: _with_weight(model, conv, w, x), conv.weight)


def _with_weight(model, conv, weight, x):
    original = conv.weight
    conv.weight = weight
    try:
        return model(x)
    finally:
        conv.weight = original


def test_three_steps_match_pytorch(digits):
    torch = pytest.importorskip("torch", reason="PyTorch (the optional oracle) is not installed")
    np.random.seed(2)
    model = mnist_cnn.build_cnn()
    nn = torch.nn
    reference = nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5),
                              nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 10)).double()
    mine = [p for p in model.parameters()]
    theirs = list(reference.parameters())
    with torch.no_grad():
        for p, q in zip(mine, theirs):
            q.copy_(torch.from_numpy(p.data))
    from mytorch.nn.loss import CrossEntropyLoss
    from mytorch.optim.sgd import SGD
    optimizer = SGD(mine, lr=mnist_cnn.LEARNING_RATE, momentum=mnist_cnn.MOMENTUM)
    torch_optimizer = torch.optim.SGD(theirs, lr=mnist_cnn.LEARNING_RATE,
                                      momentum=mnist_cnn.MOMENTUM)
    x, y = mnist_cnn.as_images(digits[0][:300]), digits[1][:300]
    for step in range(3):
        batch = slice(100 * step, 100 * step + 100)
        optimizer.zero_grad()
        loss = CrossEntropyLoss()(model(Tensor(x[batch])), Tensor(y[batch]))
        loss.backward()
        optimizer.step()
        torch_optimizer.zero_grad()
        torch_loss = nn.CrossEntropyLoss()(reference(torch.from_numpy(x[batch])),
                                           torch.from_numpy(y[batch]))
        torch_loss.backward()
        torch_optimizer.step()
        assert abs(loss.item() - torch_loss.item()) < 1e-10
    for p, q in zip(mine, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_importable_without_matplotlib():
    script = ("import sys; sys.modules['matplotlib'] = None; sys.path.insert(0, 'hw2'); "
              "import mnist_cnn; print(mnist_cnn.BATCH_SIZE)")
    result = subprocess.run([sys.executable, "-c", script], cwd=str(ROOT), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "100", result.stderr


def _data_folder(folder, x, y, vx, vy):
    folder.mkdir()
    for name, array in zip(mnist_cnn.DATA_FILES, (x, y, vx, vy)):
        np.save(str(folder / name), array)
    return folder


def test_command_line_prints_accuracies_and_saves_three_figures(tmp_path, digits):
    pytest.importorskip("matplotlib", reason="the figures need matplotlib")
    x, y, vx, vy = digits
    data = _data_folder(tmp_path / "data", (x[:500] * 255).astype(np.uint8), y[:500],
                        (vx * 255).astype(np.uint8), vy)
    unseen = _data_folder(tmp_path / "unseen", (x[500:] * 255).astype(np.uint8), y[500:],
                          (vx[:50] * 255).astype(np.uint8), vy[:50])
    figures = tmp_path / "figures"
    figures.mkdir()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--epochs", "1", "--seed", "1", "--data", str(data),
         "--unseen", str(unseen), "--figures", str(figures)],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "epoch 1  batch   0/5" in out and "CNN: final validation accuracy" in out
    assert "accuracy on the 550 unseen digits" in out
    assert "HW1 MLP, same data, epochs and seed" in out
    for name in mnist_cnn.FIGURES.values():
        assert (figures / name).stat().st_size > 10000, name


def test_command_line_names_a_missing_folder(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path / "nothing")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "train_data.npy is missing" in result.stderr
