"""The cases behind ./grade.sh 2b's expected values (autograder/make_fixtures.py runs them).

conv2d.npz: F.Conv2d on single configurations (``<case>.x``, ``weight``, ``bias``,
``stride``, the output ``y``, an upstream gradient ``g``, ``grad.x``, ``grad.weight``,
``grad.bias``): random ones (1-5 input channels, 1-6 output channels, kernel 2-4,
stride 1-3, H and W drawn apart from 6-13, batch 1-3) and edge cases (a kernel as
tall or as wide as the input, a stride that does not divide, a stride wider than the
kernel, a kernel of 1, batch 1).

pooling.npz: F.MaxPool2d and F.AvgPool2d the same way (``x``, ``kernel``, ``stride``,
``y``, ``g``, ``grad.x``), on inputs full of ties: after a ReLU (windows of zeros) and
small integers, where only the first maximum in row-major order gets the gradient.

cnn.npz: Conv2d, ReLU, MaxPool2d, Conv2d, ReLU, AvgPool2d, Flatten, Linear trained for 3
SGD steps with momentum 0.9 and cross-entropy (make_fixtures.model_case).
"""
import numpy as np
import torch.nn.functional as TF

from autograder.make_fixtures import Recorder, as_torch, model_case


def conv2d_case(store, case, rng, c_in, c_out, kernel, stride, height, width, batch):
    rec = Recorder(store, case)
    bound = 1.0 / np.sqrt(c_in * kernel * kernel)
    x_np = rng.normal(size=(batch, c_in, height, width))
    w_np = rng.uniform(-bound, bound, (c_out, c_in, kernel, kernel))
    b_np = rng.uniform(-bound, bound, c_out)
    x, w, b = as_torch(x_np, True), as_torch(w_np, True), as_torch(b_np, True)
    y = TF.conv2d(x, w, b, stride=stride)
    g_np = rng.normal(size=tuple(y.shape))
    y.backward(as_torch(g_np))
    for name, value in (("x", x_np), ("weight", w_np), ("bias", b_np), ("stride", stride),
                        ("y", y), ("g", g_np), ("grad.x", x.grad), ("grad.weight", w.grad),
                        ("grad.bias", b.grad)):
        rec[name] = value


# (name, in_channel, out_channel, kernel, stride, height, width, batch)
CONV_EDGES = [
    ("kernel_as_tall_as_the_input", 2, 3, 4, 1, 4, 9, 2),
    ("kernel_as_wide_as_the_input", 3, 2, 3, 2, 10, 3, 2),
    ("stride_that_does_not_divide", 2, 4, 3, 2, 10, 8, 2),
    ("stride_wider_than_the_kernel", 3, 3, 2, 3, 11, 9, 2),
    ("kernel_of_1", 4, 2, 1, 2, 7, 6, 2),
    ("batch_of_1", 3, 5, 3, 1, 8, 11, 1),
]


def conv2d_cases(store):
    rng = np.random.default_rng(251)
    names = []
    for index in range(5):
        kernel = int(rng.integers(2, 5))
        configuration = (int(rng.integers(1, 6)), int(rng.integers(1, 7)), kernel,
                         int(rng.integers(1, 4)), int(rng.integers(max(6, kernel), 14)),
                         int(rng.integers(max(6, kernel), 14)), int(rng.integers(1, 4)))
        names.append("random{}".format(index))
        conv2d_case(store, names[-1], rng, *configuration)
    for name, *configuration in CONV_EDGES:
        conv2d_case(store, name, rng, *configuration)
        names.append(name)
    Recorder(store, "index")["names"] = np.array(names)


def ties(rng, shape, kind):
    """Input data with many ties: after a ReLU (zeros) or small integers."""
    if kind == "relu":
        return np.maximum(rng.normal(size=shape), 0.0)
    if kind == "integers":
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    return rng.normal(size=shape)


# (name, data, channels, kernel, stride, height, width, batch)
POOL_CASES = [
    ("plain", "normal", 3, 2, 2, 8, 6, 2),
    ("overlapping_windows", "normal", 2, 3, 1, 7, 9, 2),
    ("after_a_relu", "relu", 3, 2, 2, 10, 8, 3),
    ("integers_overlapping", "integers", 2, 3, 2, 9, 7, 2),
    ("stride_that_does_not_divide", "relu", 2, 3, 3, 11, 10, 2),
    ("stride_wider_than_the_kernel", "integers", 2, 2, 3, 9, 8, 1),
    ("kernel_as_tall_as_the_input", "integers", 3, 4, 2, 4, 9, 2),
    ("batch_of_1", "relu", 4, 2, 1, 6, 5, 1),
]


def pooling_cases(store):
    rng = np.random.default_rng(252)
    for kind, function in (("max", TF.max_pool2d), ("avg", TF.avg_pool2d)):
        for name, data, channels, kernel, stride, height, width, batch in POOL_CASES:
            rec = Recorder(store, "{}_{}".format(kind, name))
            x_np = ties(rng, (batch, channels, height, width), data)
            x = as_torch(x_np, True)
            y = function(x, kernel, stride)
            g_np = rng.normal(size=tuple(y.shape))
            y.backward(as_torch(g_np))
            for key, value in (("x", x_np), ("kernel", kernel), ("stride", stride), ("y", y),
                               ("g", g_np), ("grad.x", x.grad)):
                rec[key] = value
    Recorder(store, "index")["names"] = np.array([case[0] for case in POOL_CASES])


CNN_LAYERS = [("conv2d", 2, 4, 3, 1), ("relu",), ("maxpool2d", 2, 2), ("conv2d", 4, 6, 2, 1),
              ("relu",), ("avgpool2d", 2, 2), ("flatten",), ("linear", 24, 5)]


def cnn_cases(store):
    """Input (2, 15, 13): 13 x 11 after the first convolution, 6 x 5 after max pooling,
    5 x 4 after the second convolution, 2 x 2 after average pooling: 6 * 2 * 2 = 24."""
    model_case(store, "cnn", 260, CNN_LAYERS, ["train"] * 3, [3, 2, 4], loss="xe",
               optimizer="sgd", lr=0.1, momentum=0.9, input_shape=(2, 15, 13))


FILES = {"conv2d.npz": [conv2d_cases], "pooling.npz": [pooling_cases], "cnn.npz": [cnn_cases]}
