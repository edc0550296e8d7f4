"""The cases behind ./grade.sh 2's expected values (autograder/make_fixtures.py runs them).

conv1d.npz: F.Conv1d on single configurations (``<case>.x``, ``weight``, ``bias``,
``stride``, the output ``y``, an upstream gradient ``g`` and ``grad.x``, ``grad.weight``,
``grad.bias``), drawn as the course draws them (5-14 channels, kernel 3-6, stride 3-4,
width 60-79, batch 1-3) and edge cases; and stacks of 1 to 3 Conv1d layers drawn the
same way (model cases: make_fixtures.model_case).

scanning.npz: the scanning MLPs' weights and data, made here by a seeded script as the
course ships them: in its files' layout (in, out), so the test passes the transposes
(views); the simple MLP's weights are integers; the distributed MLP's hold the shared
values in every copy of a block and NaN everywhere else.  The expected outputs are
PyTorch's: the MLP applied at each of the 31 scan positions (no convolution involved).

cnn.npz: question 3's CNN trained for 5 SGD steps with cross-entropy.
"""
import numpy as np
import torch

from autograder.make_fixtures import Recorder, as_torch, model_case

# The course's random configurations: channels, kernel, stride, width, batch.
CHANNELS, KERNEL, STRIDE, WIDTH, BATCH = (5, 14), (3, 6), (3, 4), (60, 79), (1, 3)


def draw_configuration(rng):
    """(in_channel, out_channel, kernel, stride, width, batch), drawn as the course does."""
    return (int(rng.integers(CHANNELS[0], CHANNELS[1] + 1)),
            int(rng.integers(CHANNELS[0], CHANNELS[1] + 1)),
            int(rng.integers(KERNEL[0], KERNEL[1] + 1)),
            int(rng.integers(STRIDE[0], STRIDE[1] + 1)),
            int(rng.integers(WIDTH[0], WIDTH[1] + 1)),
            int(rng.integers(BATCH[0], BATCH[1] + 1)))


# Edge cases: (name, in_channel, out_channel, kernel, stride, width, batch)
EDGE_CASES = [
    ("kernel_as_wide_as_the_input", 3, 4, 5, 1, 5, 2),
    ("kernel_as_wide_as_the_input_stride_4", 2, 3, 6, 4, 6, 1),
    ("stride_1", 5, 6, 3, 1, 20, 2),
    ("stride_that_does_not_divide", 4, 3, 4, 3, 17, 2),
    ("stride_wider_than_the_kernel", 3, 5, 2, 3, 11, 3),
    ("kernel_of_width_1", 6, 2, 1, 2, 9, 2),
    ("batch_of_1", 7, 9, 5, 4, 63, 1),
]


def conv1d_case(store, case, rng, c_in, c_out, kernel, stride, width, batch):
    """One F.Conv1d configuration: its inputs, output and gradients from PyTorch."""
    rec = Recorder(store, case)
    bound = 1.0 / np.sqrt(c_in * kernel)
    x_np = rng.normal(size=(batch, c_in, width))
    w_np = rng.uniform(-bound, bound, (c_out, c_in, kernel))
    b_np = rng.uniform(-bound, bound, c_out)
    x, w, b = as_torch(x_np, True), as_torch(w_np, True), as_torch(b_np, True)
    y = torch.nn.functional.conv1d(x, w, b, stride=stride)
    g_np = rng.normal(size=tuple(y.shape))
    y.backward(as_torch(g_np))
    for name, value in (("x", x_np), ("weight", w_np), ("bias", b_np), ("stride", stride),
                        ("y", y), ("g", g_np), ("grad.x", x.grad), ("grad.weight", w.grad),
                        ("grad.bias", b.grad)):
        rec[name] = value


def conv1d_cases(store):
    rng = np.random.default_rng(201)
    names = []
    for index in range(6):
        name = "random{}".format(index)
        conv1d_case(store, name, rng, *draw_configuration(rng))
        names.append(name)
    for name, *configuration in EDGE_CASES:
        conv1d_case(store, name, rng, *configuration)
        names.append(name)
    Recorder(store, "index")["names"] = np.array(names)


def stack_cases(store):
    """Stacks of 1, 2 and 3 Conv1d layers, each layer drawn as the course draws one (the
    first layer's width from 60-79, each later layer reading the one before), forward and
    backward from the probe loss sum(y * R)."""
    rng = np.random.default_rng(202)
    for depth in (1, 2, 3):
        while True:
            spec = []
            c_in, _, _, _, width, batch = draw_configuration(rng)
            channels, size = c_in, width
            for _ in range(depth):
                _, c_out, kernel, stride, _, _ = draw_configuration(rng)
                if size < kernel:
                    break
                spec.append(("conv1d", channels, c_out, kernel, stride))
                channels, size = c_out, (size - kernel) // stride + 1
            if len(spec) == depth:
                break
        model_case(store, "stack{}".format(depth), 210 + depth, spec, ["train"], [batch],
                   input_shape=(c_in, width))


# --------------------------------------------------------------------------- #
# 2.1, 2.2: the scanning MLPs
# --------------------------------------------------------------------------- #
def scanning_mlp(x, w1, w2, w3):
    """(N, 124): the MLP on every 8-step window of x (N, 24, 128), moving by 4, each window
    read time-major (input t * 24 + c); the 31 x 4 outputs as (N, 4, 31), flattened."""
    x, w1, w2, w3 = (as_torch(a) for a in (x, w1, w2, w3))
    outputs = []
    for start in range(0, x.shape[2] - 8 + 1, 4):
        window = x[:, :, start:start + 8].transpose(1, 2).reshape(x.shape[0], 192)
        hidden = torch.relu(torch.relu(window @ w1.T) @ w2.T)
        outputs.append(hidden @ w3.T)                           # (N, 4)
    return torch.stack(outputs, dim=2).reshape(x.shape[0], -1)


def shared_weights(rng):
    """The distributed MLP's full weights: layer 1 is 4 copies of a block of 2 neurons
    reading 2 time steps (48 inputs), layer 2 is 2 copies of a block of 8 neurons reading
    4 first-layer neurons, layer 3 reads all 16; NaN outside the blocks."""
    block1, block2 = rng.normal(size=(2, 48)), rng.normal(size=(8, 4))
    w3 = rng.normal(size=(4, 16))
    w1, w2 = np.full((8, 192), np.nan), np.full((16, 8), np.nan)
    for j in range(4):
        w1[2 * j:2 * j + 2, 48 * j:48 * j + 48] = block1
    for j in range(2):
        w2[8 * j:8 * j + 8, 4 * j:4 * j + 4] = block2
    return w1, w2, w3


def scanning_cases(store):
    rng = np.random.default_rng(220)
    cases = {
        # integers, as the course's weight files may hold them, and stored (in, out)
        "simple_int": [rng.integers(-3, 4, size=shape) for shape in ((8, 192), (16, 8),
                                                                      (4, 16))],
        "simple_float": [rng.normal(size=shape) / np.sqrt(shape[1])
                         for shape in ((8, 192), (16, 8), (4, 16))],
        "distributed": list(shared_weights(rng)),
    }
    for case, weights in cases.items():
        rec = Recorder(store, case)
        x_np = rng.normal(size=(int(rng.integers(1, 4)), 24, 128))
        for number, w in enumerate(weights, 1):
            rec["w{}_file".format(number)] = np.ascontiguousarray(w.T)   # (in, out)
        y = scanning_mlp(x_np, *[np.nan_to_num(w, nan=0.0) for w in weights])
        rec["x"], rec["y"] = x_np, y


# --------------------------------------------------------------------------- #
# 3: the CNN
# --------------------------------------------------------------------------- #
CNN_LAYERS = [("conv1d", 24, 56, 5, 1), ("tanh",), ("conv1d", 56, 28, 6, 2), ("relu",),
              ("conv1d", 28, 14, 2, 2), ("sigmoid",), ("flatten",), ("linear", 14 * 13, 10)]


def cnn_cases(store):
    model_case(store, "cnn", 230, CNN_LAYERS, ["train"] * 5, [2, 1, 3, 2, 3], loss="xe",
               optimizer="sgd", lr=0.1, input_shape=(24, 60))


FILES = {"conv1d.npz": [conv1d_cases, stack_cases], "scanning.npz": [scanning_cases],
         "cnn.npz": [cnn_cases]}
