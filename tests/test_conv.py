"""HW2: the convolution and pooling Functions (nn/functional.py) and layers (nn/conv.py).

Expected values come from two independent references: loops written from the
definitions below (NumPy only, one output element at a time) and PyTorch
float64 (skipped without torch).  Gradients are also checked by central finite
differences (mytorch.gradcheck).
"""
import itertools

import numpy as np
import pytest

import mytorch.nn.functional as F
from mytorch import Tensor, gradcheck
from mytorch.autograd_engine import ContextManager
from mytorch.nn.activations import ReLU
from mytorch.nn.conv import AvgPool2d, Conv1d, Conv2d, Flatten, MaxPool2d
from mytorch.nn.sequential import Sequential

try:
    import torch
except ImportError:          # the loop references still run; the torch twins skip
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the optional oracle) is not "
                                 "installed: pip install -r requirements-oracle.txt")
RTOL, ATOL = 1e-10, 1e-10


# --------------------------------------------------------------------------- #
# References written from the definitions, one element at a time
# --------------------------------------------------------------------------- #
def conv_loops(x, w, b, s):
    """out[n, o, *p] = b[o] + sum over c, *k of w[o, c, *k] * x[n, c, *(p * s + k)]."""
    k = w.shape[-1]
    out_sizes = [(n - k) // s + 1 for n in x.shape[2:]]
    out = np.zeros((x.shape[0], w.shape[0], *out_sizes))
    for n, o in itertools.product(range(x.shape[0]), range(w.shape[0])):
        for p in itertools.product(*[range(m) for m in out_sizes]):
            window = x[(n, slice(None)) + tuple(slice(q * s, q * s + k) for q in p)]
            out[(n, o) + p] = b[o] + np.sum(window * w[o])
    return out


def conv_grads_loops(x, w, s, g):
    """(dx, dw, db) of sum(g * conv(x, w, b, s)), accumulated window by window."""
    k = w.shape[-1]
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for n, o in itertools.product(range(x.shape[0]), range(w.shape[0])):
        for p in itertools.product(*[range(m) for m in g.shape[2:]]):
            where = (n, slice(None)) + tuple(slice(q * s, q * s + k) for q in p)
            dx[where] += g[(n, o) + p] * w[o]
            dw[o] += g[(n, o) + p] * x[where]
    return dx, dw, g.sum(axis=tuple([0] + list(range(2, g.ndim))))


def pool_loops(x, k, s, kind, g):
    """(out, dx) of max or average pooling, window by window; a max's gradient goes to
    the first maximum in row-major order."""
    oh, ow = (x.shape[2] - k) // s + 1, (x.shape[3] - k) // s + 1
    out, dx = np.zeros(x.shape[:2] + (oh, ow)), np.zeros(x.shape)
    for n, c, i, j in itertools.product(*[range(m) for m in out.shape]):
        window = x[n, c, i * s:i * s + k, j * s:j * s + k]
        if kind == "max":
            out[n, c, i, j] = window.max()
            a, b = divmod(int(np.argmax(window)), k)          # first maximum, row-major
            dx[n, c, i * s + a, j * s + b] += g[n, c, i, j]
        else:
            out[n, c, i, j] = window.mean()
            dx[n, c, i * s:i * s + k, j * s:j * s + k] += g[n, c, i, j] / (k * k)
    return out, dx


def run_function(op, x, *args, g=None, rng=None):
    """Forward and backward of ``op`` (the handout's way: a hand-made ctx); the
    gradients for the tensors among (x, *args) as arrays."""
    ctx = ContextManager()
    inputs = [Tensor(x)] + [Tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    out = op.forward(ctx, *inputs)
    if g is None:
        g = rng.standard_normal(out.shape)
    grads = op.backward(ctx, Tensor(g))
    assert len(grads) == len(inputs), "{}.backward must return one gradient per argument".format(
        op.__name__)
    return out.data, g, [None if gr is None else gr.data for gr in grads]


def random_conv(rng, dims, batch, c_in, c_out, size, k, s):
    size = size if isinstance(size, tuple) else (size,) * dims
    return (rng.standard_normal((batch, c_in) + size),
            rng.standard_normal((c_out, c_in) + (k,) * dims), rng.standard_normal(c_out), s)


# Configurations as the course draws them (5-14 channels, kernel 3-6, stride 3-4,
# width 60-79, batch 1-3), and the edge cases: a kernel as wide as the input,
# stride 1, a stride that does not divide, batch 1.
COURSE_1D = [(b, ci, co, w, k, s) for b, ci, co, w, k, s in
             np.random.default_rng(2).integers([1, 5, 5, 60, 3, 3], [4, 15, 15, 80, 7, 5],
                                               size=(6, 6))]
EDGE_1D = [(2, 3, 4, 7, 7, 1), (2, 3, 4, 7, 7, 3), (1, 5, 6, 20, 3, 1), (3, 2, 3, 11, 3, 4),
           (1, 1, 1, 1, 1, 1), (2, 4, 2, 9, 1, 2)]
EDGE_2D = [(2, 3, 4, (7, 9), 3, 1), (1, 2, 3, (6, 6), 6, 1), (2, 2, 3, (11, 8), 3, 4),
           (3, 1, 2, (5, 12), 2, 2), (1, 3, 2, (9, 10), 4, 3)]


# --------------------------------------------------------------------------- #
# get_conv1d_output_size and the windowing helpers
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("width, kernel, stride, expected",
                         [(60, 5, 1, 56), (56, 6, 2, 26), (26, 2, 2, 13), (128, 8, 4, 31),
                          (7, 7, 3, 1), (11, 3, 4, 3), (79, 6, 4, 19)])
def test_get_conv1d_output_size(width, kernel, stride, expected):
    size = F.get_conv1d_output_size(width, kernel, stride)
    assert size == expected and type(size) is int


def test_im2col_is_a_read_only_view_of_the_windows(rng):
    x = rng.standard_normal((2, 3, 9, 8))
    cols = F.im2col(x, 3, 2)
    assert cols.shape == (2, 3, 4, 3, 3, 3)
    assert np.shares_memory(cols, x) and not cols.flags.writeable
    for i, j, a, b in itertools.product(range(4), range(3), range(3), range(3)):
        assert np.array_equal(cols[:, :, i, j, a, b], x[:, :, 2 * i + a, 2 * j + b])


def test_im2col_of_a_non_contiguous_input(rng):
    x = rng.standard_normal((10, 3, 2)).transpose(1, 2, 0)          # (3, 2, 10), strided
    assert np.array_equal(F.im2col(x, 4, 3)[1, 0, 2], x[1, 0, 6:10])


def test_col2im_is_the_adjoint_of_im2col(rng):
    # <im2col(x), c> = <x, col2im(c)> for every x and c: the definition of the adjoint.
    for shape, k, s in [((2, 3, 11), 3, 4), ((2, 2, 9, 7), 3, 2), ((1, 1, 5, 5), 2, 1)]:
        x = rng.standard_normal(shape)
        c = rng.standard_normal(F.im2col(x, k, s).shape)
        assert np.isclose(np.sum(F.im2col(x, k, s) * c), np.sum(x * F.col2im(c, shape, s)))


# --------------------------------------------------------------------------- #
# Conv1d and Conv2d Functions against the loop references (NumPy only)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("config", COURSE_1D + EDGE_1D, ids=str)
def test_conv1d_function_matches_loops(config, rng):
    batch, c_in, c_out, width, k, s = (int(v) for v in config)
    x, w, b, s = random_conv(rng, 1, batch, c_in, c_out, width, k, s)
    out, g, (dx, dw, db, ds) = run_function(F.Conv1d, x, w, b, s, rng=rng)
    np.testing.assert_allclose(out, conv_loops(x, w, b, s), rtol=RTOL, atol=ATOL)
    for got, expected in zip((dx, dw, db), conv_grads_loops(x, w, s, g)):
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert ds is None


@pytest.mark.parametrize("config", EDGE_2D, ids=str)
def test_conv2d_function_matches_loops(config, rng):
    x, w, b, s = random_conv(rng, 2, *config)
    out, g, (dx, dw, db, ds) = run_function(F.Conv2d, x, w, b, s, rng=rng)
    np.testing.assert_allclose(out, conv_loops(x, w, b, s), rtol=RTOL, atol=ATOL)
    for got, expected in zip((dx, dw, db), conv_grads_loops(x, w, s, g)):
        np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL)
    assert ds is None


def test_conv_backward_works_from_the_ctx_its_first_statements_fill(rng):
    # The grader (and practice mode) call backward on a ctx holding only what forward
    # saves first: x, weight, bias, the stride and the input's shape.
    for op, dims in ((F.Conv1d, 1), (F.Conv2d, 2)):
        x, w, b, s = random_conv(rng, dims, 2, 3, 4, 9, 3, 2)
        ctx = ContextManager()
        ctx.save_for_backward(Tensor(x), Tensor(w), Tensor(b))
        ctx.stride, ctx.input_shape = s, x.shape
        g = rng.standard_normal((2, 4) + (4,) * dims)
        dx, dw, db, ds = op.backward(ctx, Tensor(g))
        for got, expected in zip((dx, dw, db), conv_grads_loops(x, w, s, g)):
            np.testing.assert_allclose(got.data, expected, rtol=RTOL, atol=ATOL)


def test_stride_matters_in_backward(rng):
    # A backward that ignores the stride agrees with the loops only at stride 1.
    x, w, b, _ = random_conv(rng, 1, 2, 3, 2, 13, 3, 1)
    _, g, (dx, dw, _, _) = run_function(F.Conv1d, x, w, b, 3, rng=rng)
    expected_dx, expected_dw, _ = conv_grads_loops(x, w, 3, g)
    np.testing.assert_allclose(dx, expected_dx, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dw, expected_dw, rtol=RTOL, atol=ATOL)
    assert np.all(dx[:, :, 12] == 0)          # (13 - 3) // 3 + 1 = 4 windows end at 11


def test_conv_is_cross_correlation_not_convolution():
    x = Tensor(np.array([[[1.0, 2.0, 3.0]]]))
    w = Tensor(np.array([[[1.0, 0.0, 0.0]]]))
    assert F.Conv1d.apply(x, w, Tensor(np.zeros(1)), 1).data.tolist() == [[[1.0]]]


def test_conv_gradients_by_finite_differences(rng):
    for op, dims, size in ((F.Conv1d, 1, 10), (F.Conv2d, 2, (6, 7))):
        x, w, b, s = random_conv(rng, dims, 2, 2, 3, size, 3, 2)
        leaves = [Tensor(a, requires_grad=True) for a in (x, w, b)]
        assert gradcheck(lambda *t: op.apply(*t, s), leaves)


# --------------------------------------------------------------------------- #
# Pooling Functions against the loop references (NumPy only)
# --------------------------------------------------------------------------- #
POOLS = [((2, 3, 8, 8), 2, 2), ((1, 2, 7, 9), 3, 2), ((2, 1, 9, 6), 2, 3), ((3, 2, 5, 5), 5, 1),
         ((1, 1, 6, 11), 3, 1)]


@pytest.mark.parametrize("kind, op", [("max", F.MaxPool2d), ("avg", F.AvgPool2d)])
@pytest.mark.parametrize("shape, k, s", POOLS, ids=str)
def test_pool_function_matches_loops(kind, op, shape, k, s, rng):
    x = rng.standard_normal(shape)
    out, g, (dx, dk, ds) = run_function(op, x, k, s, rng=rng)
    expected_out, expected_dx = pool_loops(x, k, s, kind, g)
    np.testing.assert_allclose(out, expected_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, expected_dx, rtol=RTOL, atol=ATOL)
    assert dk is None and ds is None


def test_maxpool_sends_a_tie_to_the_first_maximum_in_row_major_order(rng):
    # After a ReLU whole windows are 0; each window's gradient goes to one element only.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2, 3] = x[0, 0, 3, 2] = 5.0                   # a tie inside the last window
    out, g, (dx, _, _) = run_function(F.MaxPool2d, x, 2, 2, g=np.array([[[[1., 2.], [3., 4.]]]]))
    assert out.tolist() == [[[[0.0, 0.0], [0.0, 5.0]]]]
    expected = np.zeros((4, 4))
    expected[0, 0], expected[0, 2], expected[2, 0], expected[2, 3] = 1, 2, 3, 4
    assert dx[0, 0].tolist() == expected.tolist()


def test_overlapping_max_windows_add_up():
    x = np.array([[[[0., 0., 0.], [0., 9., 0.], [0., 0., 0.]]]])
    _, _, (dx, _, _) = run_function(F.MaxPool2d, x, 2, 1, g=np.ones((1, 1, 2, 2)))
    assert dx[0, 0].tolist() == [[0, 0, 0], [0, 4, 0], [0, 0, 0]]


def test_pool_gradients_by_finite_differences(rng):
    x = Tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True)   # distinct values
    assert gradcheck(lambda t: F.MaxPool2d.apply(t, 3, 2), x)
    assert gradcheck(lambda t: F.AvgPool2d.apply(t, 3, 2), x)


# --------------------------------------------------------------------------- #
# Against PyTorch (float64), through the layers and the engine
# --------------------------------------------------------------------------- #
def torch_conv_stack(x, layers, seed):
    """The same stack in torch; returns (out, input leaf, [(weight, bias) leaves])."""
    xt = torch.tensor(x, requires_grad=True)
    h, params = xt, []
    for layer in layers:
        w = torch.tensor(layer.weight.data, requires_grad=True)
        b = torch.tensor(layer.bias.data, requires_grad=True)
        conv = torch.nn.functional.conv1d if layer.weight.ndim == 3 else torch.nn.functional.conv2d
        h = torch.relu(conv(h, w, b, stride=layer.stride))
        params.append((w, b))
    return h, xt, params


@needs_torch
@pytest.mark.parametrize("seed", range(6))
def test_stacked_conv1d_layers_match_torch(seed):
    # 1 to 3 stacked Conv1d + ReLU, drawn as the course draws them.
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 4))
    channels = [int(c) for c in rng.integers(5, 15, count + 1)]
    width, batch = int(rng.integers(60, 80)), int(rng.integers(1, 4))
    layers = [Conv1d(channels[i], channels[i + 1], int(rng.integers(3, 7)), int(rng.integers(3, 5)))
              if i == 0 else Conv1d(channels[i], channels[i + 1], int(rng.integers(1, 3)), 1)
              for i in range(count)]
    for layer in layers:
        layer.bias.data = rng.standard_normal(layer.bias.shape)
    model = Sequential(*[m for layer in layers for m in (layer, ReLU())])
    x = rng.standard_normal((batch, channels[0], width))
    xm = Tensor(x.copy(), requires_grad=True)
    out = model(xm)
    expected, xt, params = torch_conv_stack(x, layers, seed)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    for layer, (w, b) in zip(layers, params):
        np.testing.assert_allclose(layer.weight.grad.data, w.grad.numpy(), rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(layer.bias.grad.data, b.grad.numpy(), rtol=RTOL, atol=ATOL)


@needs_torch
@pytest.mark.parametrize("config", EDGE_1D, ids=str)
def test_conv1d_edge_cases_match_torch(config, rng):
    batch, c_in, c_out, width, k, s = config
    layer = Conv1d(c_in, c_out, k, s)
    layer.bias.data = rng.standard_normal(c_out)
    x = rng.standard_normal((batch, c_in, width))
    xm = Tensor(x.copy(), requires_grad=True)
    out = layer(xm)
    expected, xt, [(w, b)] = torch_conv_stack(x, [layer], 0)
    out = F.ReLU.apply(out)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    out.backward()
    expected.backward(torch.ones_like(expected))
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.weight.grad.data, w.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.bias.grad.data, b.grad.numpy(), rtol=RTOL, atol=ATOL)


@needs_torch
@pytest.mark.parametrize("config", EDGE_2D, ids=str)
def test_conv2d_matches_torch(config, rng):
    batch, c_in, c_out, size, k, s = config
    layer = Conv2d(c_in, c_out, k, s)
    layer.bias.data = rng.standard_normal(c_out)
    x = rng.standard_normal((batch, c_in) + size)
    xm = Tensor(x.copy(), requires_grad=True)
    out = F.ReLU.apply(layer(xm))
    expected, xt, [(w, b)] = torch_conv_stack(x, [layer], 0)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.weight.grad.data, w.grad.numpy(), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(layer.bias.grad.data, b.grad.numpy(), rtol=RTOL, atol=ATOL)


@needs_torch
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape, k, s", POOLS + [((2, 3, 8, 8), 2, None)], ids=str)
def test_pooling_matches_torch(kind, shape, k, s, rng):
    x = rng.standard_normal(shape)
    x[0, 0] = np.maximum(x[0, 0], 0)              # ties at 0, as after a ReLU
    layer = (MaxPool2d if kind == "max" else AvgPool2d)(k, s)
    xm, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    out = layer(xm)
    pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    expected = pool(xt, k, s)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    np.testing.assert_allclose(xm.grad.data, xt.grad.numpy(), rtol=RTOL, atol=ATOL)


@needs_torch
def test_maxpool_ties_match_torch():
    x = np.zeros((1, 2, 6, 6))
    x[0, 1, ::2, 1::2] = 1.0                      # every window of channel 1 has 3 ties
    xm, xt = Tensor(x.copy(), requires_grad=True), torch.tensor(x, requires_grad=True)
    MaxPool2d(3, 1)(xm).backward()
    torch.nn.functional.max_pool2d(xt, 3, 1).sum().backward()
    assert xm.grad.data.tolist() == xt.grad.numpy().tolist()


# --------------------------------------------------------------------------- #
# Inputs stay unchanged
# --------------------------------------------------------------------------- #
def test_no_op_modifies_its_inputs(rng):
    x1, w1, b1, _ = random_conv(rng, 1, 2, 3, 4, 12, 3, 2)
    x2, w2, b2, _ = random_conv(rng, 2, 2, 3, 4, 9, 3, 2)
    cases = [(F.Conv1d, (x1, w1, b1), (2,)), (F.Conv2d, (x2, w2, b2), (2,)),
             (F.MaxPool2d, (x2,), (2, 1)), (F.AvgPool2d, (x2,), (3, 2))]
    for op, arrays, rest in cases:
        copies = [a.copy() for a in arrays]
        ctx = ContextManager()
        out = op.forward(ctx, *[Tensor(a) for a in arrays], *rest)
        g = rng.standard_normal(out.shape)
        g_copy = g.copy()
        op.backward(ctx, Tensor(g))
        for a, copy in zip(arrays, copies):
            assert np.array_equal(a, copy), "{} modified an input".format(op.__name__)
        assert np.array_equal(g, g_copy), "{}.backward modified grad_output".format(op.__name__)


def test_outputs_do_not_share_memory_with_inputs(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    out = MaxPool2d(1)(Tensor(x))                 # 1 x 1 windows: the values of x
    assert np.array_equal(out.data, x) and not np.shares_memory(out.data, x)


# --------------------------------------------------------------------------- #
# The layers
# --------------------------------------------------------------------------- #
def test_conv1d_layer_attributes_and_course_initialisation():
    np.random.seed(0)
    layer = Conv1d(24, 56, 5, 2)
    assert (layer.in_channel, layer.out_channel, layer.kernel_size, layer.stride) == (24, 56, 5, 2)
    assert layer.weight.shape == (56, 24, 5) and layer.bias.shape == (56,)
    assert np.all(layer.bias.data == 0)
    assert abs(layer.weight.data.mean()) < 0.1 and abs(layer.weight.data.std() - 1) < 0.05
    assert layer.parameters() == [layer.weight, layer.bias]
    assert all(p.is_parameter and p.is_leaf and p.requires_grad for p in layer.parameters())
    assert Conv1d(3, 4, 2).stride == 1


def test_conv1d_layer_draws_its_weight_from_np_random_normal():
    # The course's given code: the same seed gives np.random.normal(0, 1, shape).
    np.random.seed(5)
    layer = Conv1d(3, 4, 2)
    np.random.seed(5)
    assert np.array_equal(layer.weight.data, np.random.normal(0, 1, (4, 3, 2)))


def test_conv2d_layer_attributes():
    layer = Conv2d(1, 8, 5)
    assert layer.weight.shape == (8, 1, 5, 5) and layer.bias.shape == (8,)
    assert (layer.in_channel, layer.out_channel, layer.kernel_size, layer.stride) == (1, 8, 5, 1)
    assert np.all(layer.bias.data == 0)


def test_conv_layers_call_their_function(monkeypatch):
    calls = []
    for name, layer, x in (("Conv1d", Conv1d(2, 3, 2, 2), (1, 2, 6)),
                           ("Conv2d", Conv2d(2, 3, 2), (1, 2, 4, 5))):
        original = getattr(F, name).apply
        monkeypatch.setattr(getattr(F, name), "apply",
                            lambda *args, original=original: calls.append(args) or original(*args))
        layer(Tensor.zeros(*x))
        assert calls[-1][1:] == (layer.weight, layer.bias, layer.stride)


def test_pool_layers_default_the_stride_to_the_kernel_size():
    assert MaxPool2d(2).stride == 2 and AvgPool2d(3).stride == 3
    assert MaxPool2d(3, 1).stride == 1
    assert MaxPool2d(2)(Tensor.zeros(1, 1, 5, 7)).shape == (1, 1, 2, 3)


@pytest.mark.parametrize("shape", [(2, 4, 31), (3, 2, 5, 7), (2, 6)])
def test_flatten_is_c_order_and_backward_restores_the_shape(shape, rng):
    x = rng.standard_normal(shape)
    xm = Tensor(x.copy(), requires_grad=True)
    out = Flatten()(xm)
    assert out.shape == (shape[0], int(np.prod(shape[1:])))
    for n in range(shape[0]):                 # row n is sample n, last axis fastest
        assert out.data[n].tolist() == [x[(n,) + idx] for idx in np.ndindex(*shape[1:])]
    g = rng.standard_normal(out.shape)
    out.backward(g)
    assert xm.grad.shape == shape
    assert np.array_equal(xm.grad.data, g.reshape(shape))


def test_backward_on_a_non_scalar_output_seeds_ones(rng):
    x = rng.standard_normal((2, 3, 10))
    layer = Conv1d(3, 2, 3, 2)
    a = Tensor(x.copy(), requires_grad=True)
    layer(a).backward()
    implicit_x, implicit_w = a.grad.data, layer.weight.grad.data
    layer.weight.grad = None
    b = Tensor(x.copy(), requires_grad=True)
    out = layer(b)
    out.backward(np.ones(out.shape))
    assert np.array_equal(implicit_x, b.grad.data)
    assert np.array_equal(implicit_w, layer.weight.grad.data)
    expected_dx, expected_dw, _ = conv_grads_loops(x, layer.weight.data, 2, np.ones(out.shape))
    np.testing.assert_allclose(implicit_x, expected_dx, rtol=RTOL, atol=ATOL)


def test_sgd_with_the_default_lr_updates_conv_layers(rng):
    from mytorch.optim.sgd import SGD
    model = Sequential(Conv1d(2, 3, 2), ReLU(), Flatten())
    optimizer = SGD(model.parameters())
    before = [p.data.copy() for p in model.parameters()]
    model(Tensor(rng.standard_normal((2, 2, 5)))).sum().backward()
    optimizer.step()
    for p, old in zip(model.parameters(), before):
        np.testing.assert_allclose(p.data, old - 0.001 * p.grad.data, rtol=1e-14)


# --------------------------------------------------------------------------- #
# Bad input: clear errors naming the layer and the shapes
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("layer, shape, words", [
    (Conv1d(3, 4, 2), (2, 10), ["Conv1d(3, 4", "(N, 3, W)", "(2, 10)"]),
    (Conv1d(3, 4, 2), (2, 5, 10), ["Conv1d(3, 4", "3 input channels, got 5", "(2, 5, 10)"]),
    (Conv1d(3, 4, 6), (2, 3, 5), ["Conv1d", "kernel (6) is larger", "(2, 3, 5)"]),
    (Conv2d(3, 4, 2), (2, 3, 10), ["Conv2d(3, 4", "(N, 3, H, W)", "(2, 3, 10)"]),
    (Conv2d(3, 4, 2), (2, 4, 5, 5), ["Conv2d(3, 4", "3 input channels, got 4"]),
    (Conv2d(3, 4, 5), (1, 3, 4, 9), ["Conv2d", "kernel (5x5) is larger", "(1, 3, 4, 9)"]),
    (MaxPool2d(2), (2, 3, 10), ["MaxPool2d(kernel_size=2", "(N, C, H, W)", "(2, 3, 10)"]),
    (AvgPool2d(4), (1, 1, 3, 8), ["AvgPool2d", "kernel (4x4) is larger", "(1, 1, 3, 8)"]),
    (Flatten(), (5,), ["Flatten", "(5,)"]),
])
def test_bad_input_names_the_layer_and_the_shapes(layer, shape, words):
    with pytest.raises(ValueError) as error:
        layer(Tensor.zeros(*shape))
    for word in words:
        assert word in str(error.value), str(error.value)


@pytest.mark.parametrize("make, words", [
    (lambda: Conv1d(3, 4, 2, 0), ["Conv1d", "stride", "0"]),
    (lambda: Conv1d(3, 4, 2.5), ["Conv1d", "kernel_size", "2.5"]),
    (lambda: Conv1d(0, 4, 2), ["Conv1d", "in_channel"]),
    (lambda: Conv2d(3, "4", 2), ["Conv2d", "out_channel", "'4'"]),
    (lambda: MaxPool2d(2, 0), ["MaxPool2d", "stride", "0"]),
    (lambda: AvgPool2d(0), ["AvgPool2d", "kernel_size"]),
])
def test_bad_arguments_name_the_layer(make, words):
    with pytest.raises(ValueError) as error:
        make()
    for word in words:
        assert word in str(error.value), str(error.value)


def test_functions_check_their_arguments_too():
    x, b = Tensor.zeros(1, 3, 8), Tensor.zeros(4)
    with pytest.raises(ValueError, match=r"Conv1d: stride must be a positive integer, got 0"):
        F.Conv1d.apply(x, Tensor.zeros(4, 3, 2), b, 0)
    with pytest.raises(ValueError, match=r"Conv1d: the input \(1, 3, 8\) has 3 channels, but the "
                                         r"weight \(4, 2, 2\) expects 2"):
        F.Conv1d.apply(x, Tensor.zeros(4, 2, 2), b, 1)
    with pytest.raises(ValueError, match=r"Conv1d: expected a bias of shape \(4,\)"):
        F.Conv1d.apply(x, Tensor.zeros(4, 3, 2), Tensor.zeros(3), 1)
    with pytest.raises(ValueError, match=r"MaxPool2d: stride must be a positive integer"):
        F.MaxPool2d.apply(Tensor.zeros(1, 1, 4, 4), 2, 0)
    with pytest.raises(TypeError,
                       match=r"Conv1d\(3, 4, kernel_size=2, stride=1\) expects a Tensor"):
        Conv1d(3, 4, 2)(np.zeros((1, 3, 8)))


def test_maxpool_lets_nan_through(rng):
    x = rng.standard_normal((1, 1, 4, 4))
    x[0, 0, 1, 0] = np.nan
    out, _, (dx, _, _) = run_function(F.MaxPool2d, x, 2, 2, g=np.ones((1, 1, 2, 2)))
    assert np.isnan(out[0, 0, 0, 0]) and not np.isnan(out[0, 0, 1:, :]).any()
    assert dx[0, 0, 1, 0] == 1 and dx[0, 0, :2, :2].sum() == 1
