"""Microseconds per training step of the HW2 CNNs: MyTorch vs NumPy by hand vs PyTorch.

    python bench/cnn_step.py                   # both models, 15 rounds x 10 steps each
    python bench/cnn_step.py --model q3        # only question 3's CNN
    python bench/cnn_step.py --quick           # 3 rounds x 5 steps (a smoke run)

Two models, batch 100, float64, CrossEntropyLoss, SGD with momentum 0.9:

    q3     HW2P1 question 3 (hw2/hw2.py's CNN), input (100, 24, 60), lr 0.01:
           Conv1d(24, 56, 5, 1) -> Tanh -> Conv1d(56, 28, 6, 2) -> ReLU
           -> Conv1d(28, 14, 2, 2) -> Sigmoid -> Flatten -> Linear(182, 10)
    mnist  the HW2 bonus CNN (hw2/mnist_cnn.py), input (100, 1, 28, 28), lr 0.05:
           Conv2d(1, 8, 5) -> ReLU -> MaxPool2d(2) -> Conv2d(8, 16, 5) -> ReLU
           -> MaxPool2d(2) -> Flatten -> Linear(256, 10)

MyTorch runs the homework's own model classes.  The floor is the same kernels MyTorch
uses, written as plain NumPy calls with no Tensors or graph: the as_strided im2col
copied into a (channels x taps, samples x positions) matrix, one matrix product per
convolution and per weight gradient, the tap-by-tap col2im for an input gradient
(skipped for the first layer, as MyTorch skips it), the pooling's loop over the taps,
the activations and the loss in the library's formulas.
PyTorch is eager mode, one thread.  Before timing, the three start from the same
weights and must agree on every loss and parameter for 3 steps (within 1e-10).
Timing is interleaved as in train_step.py: medians over rounds, wall and CPU time.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import importlib.util
import os

import numpy as np

BATCH = 100
MODELS = {
    "q3": {"input": (24, 60), "lr": 0.01,
           "layers": [("conv", 24, 56, 5, 1), ("tanh",), ("conv", 56, 28, 6, 2), ("relu",),
                      ("conv", 28, 14, 2, 2), ("sigmoid",), ("flatten",), ("linear", 182, 10)]},
    "mnist": {"input": (1, 28, 28), "lr": 0.05,
              "layers": [("conv", 1, 8, 5, 1), ("relu",), ("maxpool", 2),
                         ("conv", 8, 16, 5, 1), ("relu",), ("maxpool", 2), ("flatten",),
                         ("linear", 256, 10)]},
}
MOMENTUM = 0.9


def initial_weights(name, seed=0):
    """[(weight, bias)] for each layer with parameters, uniform +-1/sqrt(fan_in)."""
    rng, weights = np.random.default_rng(seed), []
    dims = len(MODELS[name]["input"]) - 1
    for spec in MODELS[name]["layers"]:
        if spec[0] == "conv":
            _, c_in, c_out, k, _ = spec
            shape = (c_out, c_in) + (k,) * dims
        elif spec[0] == "linear":
            shape = (spec[2], spec[1])
        else:
            continue
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        weights.append((rng.uniform(-bound, bound, shape), rng.uniform(-bound, bound, shape[0])))
    return weights


def synthetic_batches(name, count, seed=1):
    rng = np.random.default_rng(seed)
    shape = (BATCH,) + MODELS[name]["input"]
    return [(rng.uniform(0, 1, shape), rng.integers(0, 10, BATCH)) for _ in range(count)]


def _load_hw2(module):
    path = os.path.join(benchlib.REPO, "hw2", module + ".py")
    spec = importlib.util.spec_from_file_location("bench_hw2_" + module, path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


# --------------------------------------------------------------------------- #
# MyTorch: the homework's model classes
# --------------------------------------------------------------------------- #
class MyTorchCNN(benchlib.Impl):
    name = "mytorch"

    def __init__(self, model_name, weights):
        from mytorch import Tensor
        from mytorch.nn.loss import CrossEntropyLoss
        from mytorch.optim.sgd import SGD
        self.Tensor = Tensor
        if model_name == "q3":
            self.model = _load_hw2("hw2").CNN()
        else:
            self.model = _load_hw2("mnist_cnn").build_cnn()
        layers = self.model.layers.layers if model_name == "q3" else self.model.layers
        self.params = [(layer.weight, layer.bias) for layer in layers if hasattr(layer, "weight")]
        _check_layers(model_name, layers)
        for (w, b), (w0, b0) in zip(self.params, weights):
            w.data, b.data = w0.copy(), b0.copy()
        self.criterion = CrossEntropyLoss()
        self.optimizer = SGD(self.model.parameters(), lr=MODELS[model_name]["lr"],
                             momentum=MOMENTUM)

    def batch(self, x, y):
        return self.Tensor(x), self.Tensor(y)

    def loss(self, value):
        return float(value.data)

    def parameters(self):
        return [a.data for pair in self.params for a in pair]


def _check_layers(model_name, layers):
    """The homework's model must be the one the floor and PyTorch compute."""
    kinds = {"Conv1d": "conv", "Conv2d": "conv", "Tanh": "tanh", "ReLU": "relu",
             "Sigmoid": "sigmoid", "MaxPool2d": "maxpool", "Flatten": "flatten",
             "Linear": "linear"}
    found = [kinds.get(type(layer).__name__, type(layer).__name__) for layer in layers]
    expected = [spec[0] for spec in MODELS[model_name]["layers"]]
    if found != expected:
        raise AssertionError("the homework's {} model has layers {}, the benchmark expects {}"
                             .format(model_name, found, expected))


# --------------------------------------------------------------------------- #
# The floor: the same kernels, plain NumPy
# --------------------------------------------------------------------------- #
def windows(x, k, s):
    """The as_strided im2col: (N, C, *spatial) -> read-only view (N, C, *out, *k)."""
    spatial = x.shape[2:]
    out = tuple((n - k) // s + 1 for n in spatial)
    strides = x.strides[:2] + tuple(st * s for st in x.strides[2:]) + x.strides[2:]
    return np.lib.stride_tricks.as_strided(x, x.shape[:2] + out + (k,) * len(spatial), strides,
                                           writeable=False)


def columns(x, k, s):
    """The windows as a matrix (C * K**dims, N * positions), copied positions innermost."""
    dims = x.ndim - 2
    cols = windows(x, k, s).transpose([1] + list(range(2 + dims, 2 + 2 * dims)) + [0]
                                      + list(range(2, 2 + dims)))
    return cols.reshape(int(np.prod(cols.shape[:1 + dims])), -1)


def add_windows(cols, shape, s):
    """col2im: add each window back onto an input of ``shape``, one kernel tap at a time."""
    dims = len(shape) - 2
    out, kernel = cols.shape[2:2 + dims], cols.shape[2 + dims:]
    result = np.zeros(shape)
    for tap in np.ndindex(*kernel):
        where = (slice(None), slice(None)) + tuple(slice(t, t + s * (o - 1) + 1, s)
                                                   for t, o in zip(tap, out))
        result[where] += cols[(Ellipsis,) + tap]
    return result


def max_taps(x, k):
    """Each window's maximum and the tap of its first maximum: loops over the taps."""
    view = windows(x, k, k)
    taps = [view[..., tap // k, tap % k] for tap in range(k * k)]
    best = taps[0].copy()
    for value in taps[1:]:
        np.maximum(best, value, out=best)
    first = np.full(best.shape, k * k - 1, dtype=np.intp)
    for tap in range(k * k - 2, -1, -1):
        first = np.where(taps[tap] == best, tap, first)
    np.isnan(best.sum())                         # MyTorch's NaN check (the same pass)
    return best, first


class NumpyCNN(benchlib.Impl):
    """Forward, closed-form backward and momentum SGD, layer by layer, no autograd."""
    name = "numpy"

    def __init__(self, model_name, weights):
        self.layers = MODELS[model_name]["layers"]
        self.lr = MODELS[model_name]["lr"]
        self.params = [(w.copy(), b.copy()) for w, b in weights]
        self.velocity = [(np.zeros_like(w), np.zeros_like(b)) for w, b in weights]

    def batch(self, x, y):
        return x, y

    def loss(self, value):
        return float(value)

    def parameters(self):
        return [a for pair in self.params for a in pair]

    def step(self, batch):
        x, y = batch
        saved, h, p = [], x, 0
        for spec in self.layers:                                   # forward
            kind = spec[0]
            if kind == "conv":
                w, b = self.params[p]
                p += 1
                dims = h.ndim - 2
                out = w.reshape(w.shape[0], -1) @ columns(h, spec[3], spec[4])
                sizes = windows(h, spec[3], spec[4]).shape[2:2 + dims]
                saved.append(h)
                h = out.reshape((w.shape[0], h.shape[0]) + sizes).swapaxes(0, 1) \
                    + b.reshape((-1,) + (1,) * dims)
            elif kind == "relu":
                saved.append(h > 0)
                h = np.maximum(h, 0.0)
            elif kind == "tanh":
                h = np.tanh(h)
                saved.append(h)
            elif kind == "sigmoid":
                e = np.exp(-np.abs(h))
                h = np.where(h >= 0, 1.0, e) / (1.0 + e)
                saved.append(h)
            elif kind == "maxpool":
                saved.append(h)
                h = max_taps(h, spec[1])[0]
            elif kind == "flatten":
                saved.append(h.shape)
                h = h.reshape(h.shape[0], -1)
            elif kind == "linear":
                w, b = self.params[p]
                p += 1
                saved.append(h)
                h = h @ w.T + b
        n, rows = h.shape[0], np.arange(h.shape[0])                # loss (F.CrossEntropy)
        shifted = h - h.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        loss = (np.log(sums[:, 0]) - shifted[rows, y]).sum() / n
        g = exps / sums
        g[rows, y] -= 1.0
        g *= 1.0 / n
        grads = []
        for index in range(len(self.layers) - 1, -1, -1):          # backward
            spec, kept = self.layers[index], saved[index]
            kind, first = spec[0], index == 0
            if kind == "linear":
                p -= 1
                w = self.params[p][0]
                grads.append((g.T @ kept, g.sum(axis=0)))
                g = g @ w
            elif kind == "flatten":
                g = g.reshape(kept)
            elif kind == "relu":
                g = g * kept
            elif kind in ("tanh",):
                g = g * (1.0 - kept ** 2)
            elif kind == "sigmoid":
                g = g * kept * (1.0 - kept)
            elif kind == "maxpool":
                k = spec[1]
                taps = max_taps(kept, k)[1]
                cols = (np.arange(k * k).reshape(k * k, 1, 1, 1, 1) == taps) * g
                g = add_windows(np.moveaxis(cols.reshape((k, k) + g.shape), (0, 1), (4, 5)),
                                kept.shape, k)
            elif kind == "conv":
                p -= 1
                w = self.params[p][0]
                dims, s = kept.ndim - 2, spec[4]
                g_rows = g.swapaxes(0, 1).reshape(g.shape[1], -1)
                grads.append(((g_rows @ columns(kept, spec[3], s).T).reshape(w.shape),
                              g_rows.sum(axis=1)))
                if not first:
                    window_grads = (w.reshape(w.shape[0], -1).T @ g_rows).reshape(
                        w.shape[1:] + (g.shape[0],) + g.shape[2:])
                    order = [1 + dims, 0] + list(range(2 + dims, 2 + 2 * dims)) \
                        + list(range(1, 1 + dims))
                    g = add_windows(window_grads.transpose(order), kept.shape, s)
        grads.reverse()
        for (w, b), (vw, vb), (gw, gb) in zip(self.params, self.velocity, grads):
            for param, v, grad in ((w, vw, gw), (b, vb, gb)):     # SGD.momentum_step
                v *= MOMENTUM
                v -= self.lr * grad
                param += v
        return loss


# --------------------------------------------------------------------------- #
# PyTorch eager
# --------------------------------------------------------------------------- #
class TorchCNN(benchlib.Impl):
    name = "torch"

    def __init__(self, model_name, weights):
        torch = benchlib.torch
        nn = torch.nn
        dims = len(MODELS[model_name]["input"]) - 1
        conv = nn.Conv1d if dims == 1 else nn.Conv2d
        make = {"conv": lambda s: conv(s[1], s[2], s[3], s[4]), "tanh": lambda s: nn.Tanh(),
                "relu": lambda s: nn.ReLU(), "sigmoid": lambda s: nn.Sigmoid(),
                "maxpool": lambda s: nn.MaxPool2d(s[1]), "flatten": lambda s: nn.Flatten(),
                "linear": lambda s: nn.Linear(s[1], s[2])}
        self.model = nn.Sequential(*[make[s[0]](s) for s in MODELS[model_name]["layers"]]).double()
        self.params = [(m.weight, m.bias) for m in self.model if hasattr(m, "weight")]
        with torch.no_grad():
            for (w, b), (w0, b0) in zip(self.params, weights):
                w.copy_(torch.from_numpy(w0))
                b.copy_(torch.from_numpy(b0))
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=MODELS[model_name]["lr"],
                                         momentum=MOMENTUM)

    def batch(self, x, y):
        return benchlib.torch.from_numpy(x), benchlib.torch.from_numpy(y)

    def loss(self, value):
        return value.item()

    def parameters(self):
        return [a.detach().numpy() for pair in self.params for a in pair]


IMPLS = {"mytorch": MyTorchCNN, "numpy": NumpyCNN, "torch": TorchCNN}


def check_same_math(model_name, impls, tolerance=1e-10):
    """3 steps from the same weights: every loss and parameter must agree with the first impl's."""
    batches = synthetic_batches(model_name, 3, seed=2)
    losses = {impl.name: [impl.loss(impl.step(impl.batch(x, y))) for x, y in batches]
              for impl in impls}
    largest = 0.0
    for impl in impls[1:]:
        gaps = [max(abs(a - b) for a, b in zip(losses[impls[0].name], losses[impl.name]))]
        gaps += [float(np.max(np.abs(a - b)))
                 for a, b in zip(impls[0].parameters(), impl.parameters())]
        if max(gaps) > tolerance:
            raise AssertionError("{} and {} compute different things on {} (largest difference "
                                 "{:.3g}); losses {} vs {}".format(
                                     impls[0].name, impl.name, model_name, max(gaps),
                                     losses[impls[0].name], losses[impl.name]))
        largest = max(largest, max(gaps))
    return losses, largest


def report(samples, clock):
    med = benchlib.median
    print("  {} time, us per step: median [min]".format(clock))
    for name, values in samples.items():
        print("    {:8s} {:9.0f} [{:9.0f}]".format(name, med(values), min(values)))

    def ratio(top, bottom):
        per_round = [a / b for a, b in zip(samples[top], samples[bottom])]
        return med(samples[top]) / med(samples[bottom]), med(per_round)
    print("    mytorch/numpy = {:.3f} [{:.3f}]   MyTorch's bookkeeping over the floor"
          .format(*ratio("mytorch", "numpy")))
    if "torch" in samples:
        print("    torch/mytorch = {:.3f} [{:.3f}]   above 1: MyTorch is the faster"
              .format(*ratio("torch", "mytorch")))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["q3", "mnist", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--steps", type=int, default=10, help="steps per round per impl")
    parser.add_argument("--quick", action="store_true", help="3 rounds x 5 steps")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.steps = 3, 5
    names = ["mytorch", "numpy"] + (["torch"] if benchlib.load_torch() is not None else [])
    benchlib.print_environment()
    if "torch" not in names:
        print("# " + benchlib.TORCH_MISSING)
    for model_name in (["q3", "mnist"] if args.model == "both" else [args.model]):
        weights = initial_weights(model_name)
        impls = [IMPLS[name](model_name, weights) for name in names]
        losses, largest = check_same_math(model_name, impls)
        print("\n{}: same math (3 steps' losses and parameters agree, largest difference "
              "{:.1e}); losses {}".format(model_name, largest, "  ".join(
                  "{:.10f}".format(v) for v in losses["mytorch"])))
        runners = {}
        for name in names:
            impl = IMPLS[name](model_name, weights)
            batches = [impl.batch(x, y) for x, y in synthetic_batches(model_name, 4)]
            benchlib.time_steps(impl, batches, 3)                  # warm-up
            runners[name] = (lambda impl, batches: lambda steps:
                             benchlib.time_steps(impl, batches, steps))(impl, batches)
        samples = benchlib.interleaved(runners, args.rounds, args.steps)
        print("{}: {} rounds x {} steps per implementation, batch {}, float64".format(
            model_name, args.rounds, args.steps, BATCH))
        report(samples["wall"], "wall")
        report(samples["cpu"], "CPU")


if __name__ == "__main__":
    main()
