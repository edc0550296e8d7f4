"""HW2P1's homework: the scanning MLPs (hw2/mlp_scan.py), the CNN (hw2/hw2.py), and
what the course's code expects of the library (star imports, backward's seed, SGD).

The scanning CNNs are compared with the MLP they emulate, written here in NumPy:
the MLP is applied to each 8-step window of the input, read time step by time step.
"""
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mytorch import Tensor
from mytorch.nn.activations import ReLU, Sigmoid, Tanh
from mytorch.nn.conv import Conv1d, Flatten, MaxPool2d
from mytorch.nn.linear import Linear
from mytorch.nn.module import Module
from mytorch.nn.sequential import Sequential
from mytorch.optim.sgd import SGD

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    """Import hw2/NAME.py by path (hw2/ has no __init__.py; course code puts it on sys.path)."""
    spec = importlib.util.spec_from_file_location("hw2_" + name, ROOT / "hw2" / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mlp_scan = _load("mlp_scan")
hw2 = _load("hw2")


# --------------------------------------------------------------------------- #
# The MLP the scanning CNNs emulate, in NumPy
# --------------------------------------------------------------------------- #
def scanning_mlp(x, w1, w2, w3):
    """(N, 124): the MLP on every window of 8 time steps, moving by 4, each window read
    time-major (input t * 24 + c); the 31 x 4 outputs arranged (N, 4, 31), flattened."""
    relu = lambda a: np.maximum(a, 0)                         # noqa: E731
    outputs = []
    for start in range(0, x.shape[2] - 8 + 1, 4):
        window = x[:, :, start:start + 8].transpose(0, 2, 1).reshape(len(x), 192)
        outputs.append(relu(relu(window @ w1.T) @ w2.T) @ w3.T)   # (N, 4)
    return np.stack(outputs, axis=2).reshape(len(x), -1)


def distributed_weights(rng):
    """Full MLP weights with shared blocks (the same values in every copy) and NaN
    elsewhere, and the same weights with zeros for the NaN (for the NumPy MLP)."""
    block1, block2, w3 = rng.standard_normal((2, 48)), rng.standard_normal((8, 4)), \
        rng.standard_normal((4, 16))
    w1, w2 = np.full((8, 192), np.nan), np.full((16, 8), np.nan)
    for j in range(4):
        w1[2 * j:2 * j + 2, 48 * j:48 * j + 48] = block1
    for j in range(2):
        w2[8 * j:8 * j + 8, 4 * j:4 * j + 4] = block2
    return (w1, w2, w3), tuple(np.nan_to_num(w) for w in (w1, w2, w3))


@pytest.fixture
def x(rng):
    return rng.standard_normal((3, 24, 128))


# --------------------------------------------------------------------------- #
# 2.1 CNN_SimpleScanningMLP
# --------------------------------------------------------------------------- #
def test_simple_scanning_cnn_layers():
    cnn = mlp_scan.CNN_SimpleScanningMLP()
    assert isinstance(cnn.layers, Sequential)
    convs = [layer for layer in cnn.layers.layers if isinstance(layer, Conv1d)]
    assert [(c.in_channel, c.out_channel, c.kernel_size, c.stride) for c in convs] == \
        [(24, 8, 8, 4), (8, 16, 1, 1), (16, 4, 1, 1)]
    assert [type(layer) for layer in cnn.layers.layers] == \
        [Conv1d, ReLU, Conv1d, ReLU, Conv1d, Flatten]


def test_simple_scanning_cnn_equals_the_mlp(rng, x):
    w1, w2, w3 = rng.standard_normal((8, 192)), rng.standard_normal((16, 8)), \
        rng.standard_normal((4, 16))
    cnn = mlp_scan.CNN_SimpleScanningMLP()
    cnn.init_weights((w1, w2, w3))
    out = cnn(Tensor(x))
    assert out.shape == (3, 124)
    np.testing.assert_allclose(out.data, scanning_mlp(x, w1, w2, w3), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cnn.forward(Tensor(x)).data, out.data, rtol=0, atol=0)


def test_simple_scanning_accepts_transposed_views_and_integers(rng, x):
    stored = [rng.integers(-3, 4, (192, 8)), rng.integers(-3, 4, (8, 16)),
              rng.integers(-3, 4, (16, 4))]
    weights = tuple(w.T for w in stored)                   # (8, 192) ... as non-contiguous views
    assert not weights[0].flags.c_contiguous and weights[0].dtype.kind == "i"
    cnn = mlp_scan.CNN_SimpleScanningMLP()
    cnn.init_weights(weights)
    for conv in (cnn.conv1, cnn.conv2, cnn.conv3):
        assert conv.weight.data.dtype == np.float64
    expected = scanning_mlp(x, *[w.astype(float) for w in weights])
    np.testing.assert_allclose(cnn(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


def test_init_weights_keeps_leaf_parameters_zero_biases_and_adds_no_graph(rng):
    for cls in (mlp_scan.CNN_SimpleScanningMLP, mlp_scan.CNN_DistributedScanningMLP):
        cnn = cls()
        before = cnn.parameters()
        weights = distributed_weights(rng)[0] if cls is mlp_scan.CNN_DistributedScanningMLP \
            else (rng.standard_normal((8, 192)), rng.standard_normal((16, 8)),
                  rng.standard_normal((4, 16)))
        cnn.init_weights(weights)
        assert cnn.parameters() == before and len(before) == 6
        for p in before:
            assert p.is_parameter and p.is_leaf and p.requires_grad and p.grad_fn is None
        for conv in (cnn.conv1, cnn.conv2, cnn.conv3):
            assert np.all(conv.bias.data == 0)
        # Gradients reach the weights through the CNN.
        cnn(Tensor(rng.standard_normal((1, 24, 128)))).sum().backward()
        assert all(p.grad is not None for p in before)


def test_init_weights_rejects_wrong_shapes():
    cnn = mlp_scan.CNN_SimpleScanningMLP()
    with pytest.raises(ValueError, match=r"w1 must have shape \(8, 192\).*got \(192, 8\)"):
        cnn.init_weights((np.zeros((192, 8)), np.zeros((16, 8)), np.zeros((4, 16))))


# --------------------------------------------------------------------------- #
# 2.2 CNN_DistributedScanningMLP
# --------------------------------------------------------------------------- #
def test_distributed_scanning_cnn_layers():
    cnn = mlp_scan.CNN_DistributedScanningMLP()
    assert isinstance(cnn.layers, Sequential)
    convs = [layer for layer in cnn.layers.layers if isinstance(layer, Conv1d)]
    assert [(c.in_channel, c.out_channel, c.kernel_size, c.stride) for c in convs] == \
        [(24, 2, 2, 2), (2, 8, 2, 2), (8, 4, 2, 1)]
    assert [type(layer) for layer in cnn.layers.layers] == \
        [Conv1d, ReLU, Conv1d, ReLU, Conv1d, Flatten]


def test_distributed_scanning_cnn_equals_the_mlp(rng, x):
    with_nan, with_zeros = distributed_weights(rng)
    cnn = mlp_scan.CNN_DistributedScanningMLP()
    cnn.init_weights(with_nan)
    out = cnn(Tensor(x))
    assert out.shape == (3, 124)
    assert np.all(np.isfinite(out.data))
    np.testing.assert_allclose(out.data, scanning_mlp(x, *with_zeros), rtol=1e-12, atol=1e-12)


def test_distributed_accepts_transposed_integer_weights(rng, x):
    with_nan, with_zeros = distributed_weights(rng)
    # Integer values can hold no NaN: use the zero-filled weights, stored transposed.
    weights = tuple(np.ascontiguousarray(np.round(w * 2).astype(np.int64).T).T for w in with_zeros)
    assert not weights[0].flags.c_contiguous
    cnn = mlp_scan.CNN_DistributedScanningMLP()
    cnn.init_weights(weights)
    assert cnn.conv1.weight.data.dtype == np.float64
    expected = scanning_mlp(x, *[w.astype(float) for w in weights])
    np.testing.assert_allclose(cnn(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


def test_distributed_picks_the_shared_blocks(rng):
    with_nan, _ = distributed_weights(rng)
    cnn = mlp_scan.CNN_DistributedScanningMLP()
    cnn.init_weights(with_nan)
    w1, w2, w3 = with_nan
    # conv1.weight[o, c, t] is w1[o, t * 24 + c] for the first copy (steps 0 and 1).
    for o, c, t in [(0, 0, 0), (1, 23, 1), (0, 5, 1), (1, 7, 0)]:
        assert cnn.conv1.weight.data[o, c, t] == w1[o, t * 24 + c]
    # conv2.weight[o, c, t] is w2[o, t * 2 + c] (layer-1 neuron 2t + c of the first copy).
    for o, c, t in [(0, 0, 0), (7, 1, 1), (3, 1, 0)]:
        assert cnn.conv2.weight.data[o, c, t] == w2[o, t * 2 + c]
    # conv3.weight[o, c, t] is w3[o, t * 8 + c].
    for o, c, t in [(0, 0, 0), (3, 7, 1), (2, 4, 1)]:
        assert cnn.conv3.weight.data[o, c, t] == w3[o, t * 8 + c]


def test_distributed_refuses_a_block_with_nan():
    w1 = np.full((8, 192), np.nan)                 # no shared values anywhere
    with pytest.raises(ValueError, match="NaN"):
        mlp_scan.CNN_DistributedScanningMLP().init_weights((w1, np.ones((16, 8)), np.ones((4, 16))))


# --------------------------------------------------------------------------- #
# 3 CNN and get_final_conv_output_size
# --------------------------------------------------------------------------- #
def test_cnn_layers():
    cnn = hw2.CNN()
    assert isinstance(cnn, Module) and isinstance(cnn.layers, Sequential)
    layers = cnn.layers.layers
    assert [type(layer) for layer in layers] == [Conv1d, Tanh, Conv1d, ReLU, Conv1d, Sigmoid,
                                                 Flatten, Linear]
    assert [(c.in_channel, c.out_channel, c.kernel_size, c.stride) for c in layers[0:6:2]] == \
        [(24, 56, 5, 1), (56, 28, 6, 2), (28, 14, 2, 2)]
    assert (layers[-1].in_features, layers[-1].out_features) == (14 * 13, 10)
    assert len(cnn.parameters()) == 8


def test_cnn_output_shape_and_one_training_step(rng):
    cnn = hw2.CNN()
    x = Tensor(rng.standard_normal((4, 24, 60)))
    out = cnn(x)
    assert out.shape == (4, 10)
    from mytorch.nn.loss import CrossEntropyLoss
    optimizer = SGD(cnn.parameters(), lr=0.01)
    loss = CrossEntropyLoss()(out, Tensor(np.array([0, 1, 2, 3])))
    loss.backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in cnn.parameters())
    optimizer.step()


@pytest.mark.parametrize("layers, width, expected", [
    ("cnn", 60, 13),
    ([Conv1d(24, 56, 5, 1)], 60, 56),
    ([Conv1d(24, 56, 5, 1), Tanh(), Conv1d(56, 28, 6, 2)], 60, 26),
    ([Conv1d(3, 4, 3, 4), ReLU(), Conv1d(4, 5, 3, 3)], 79, 6),       # (79-3)//4+1=20 -> 6
    ([Conv1d(3, 4, 7, 1)], 7, 1),
    ([ReLU(), Sigmoid()], 31, 31),
    ([Conv1d(3, 4, 8, 4), MaxPool2d(2)], 128, 15),
])
def test_get_final_conv_output_size_follows_the_layers(layers, width, expected):
    if layers == "cnn":
        layers = hw2.CNN().layers.layers[:6]
    assert hw2.get_final_conv_output_size(layers, width) == expected


# --------------------------------------------------------------------------- #
# What the course's code expects of the library
# --------------------------------------------------------------------------- #
STAR_IMPORTS = {
    "mytorch.nn.conv": {"Conv1d", "Conv2d", "Flatten", "MaxPool2d", "AvgPool2d"},
    "mytorch.nn.activations": {"ReLU", "Sigmoid", "Tanh"},
    "mytorch.nn.loss": {"CrossEntropyLoss"},
}


@pytest.mark.parametrize("module, expected", STAR_IMPORTS.items())
def test_star_imports_bring_only_the_layers(module, expected):
    namespace = {}
    exec("from {} import *".format(module), namespace)
    names = set(namespace) - {"__builtins__"}
    assert names == expected
    assert all(issubclass(namespace[name], Module) for name in names)


def test_star_import_of_functional_brings_no_stray_or_clashing_names():
    namespace = {}
    exec("from mytorch.nn.functional import *", namespace)
    names = set(namespace) - {"__builtins__"}
    assert "np" not in names and "tensor" not in names and "Function" not in names
    assert {"get_conv1d_output_size", "im2col", "col2im"} <= names
    layer_names = set().union(*STAR_IMPORTS.values())
    assert not names & layer_names, "functional's star import replaces layers: {}".format(
        names & layer_names)


def test_course_style_star_imports_keep_the_layers():
    # The course's test files import in this order, then build Conv1d layers.
    namespace = {}
    exec("from mytorch.nn.conv import *\nfrom mytorch.nn.functional import *\n"
         "from mytorch.nn.activations import *\nfrom mytorch.nn.loss import *", namespace)
    assert namespace["Conv1d"] is Conv1d and namespace["ReLU"] is ReLU
    assert namespace["get_conv1d_output_size"](60, 5, 1) == 56


def test_course_style_imports_of_hw2(tmp_path):
    script = textwrap.dedent("""
        import sys
        sys.path.append("hw2")
        from hw2 import CNN, get_final_conv_output_size
        from mlp_scan import *
        import numpy as np
        from mytorch.tensor import Tensor
        print(CNN()(Tensor(np.zeros((2, 24, 60)))).shape,
              sorted(name for name in dir() if name.startswith("CNN_")))
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=str(ROOT), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == \
        "(2, 10) ['CNN_DistributedScanningMLP', 'CNN_SimpleScanningMLP']"


def test_hw2_has_no_init_py():
    assert (ROOT / "hw2").is_dir() and not (ROOT / "hw2" / "__init__.py").exists()
