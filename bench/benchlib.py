"""Shared pieces of the benchmarks: BLAS set-up, the three MLP implementations, timing.

Import this module FIRST in every script (before NumPy): it pins every BLAS to
one thread, which only works before the BLAS library is loaded.

The model is the handout's MNIST MLP,
    Linear(784, 20) -> BatchNorm1d(20) -> ReLU -> Linear(20, 10), CrossEntropyLoss,
    SGD(lr=0.1, momentum=0.9), float64,
in three implementations with one interface (``Impl``):
    MyTorchImpl  the library under test
    NumpyImpl    the same math by hand, no autograd: the floor
    TorchImpl    PyTorch CPU eager (absent when torch is not importable)
"""
import os

for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import ctypes                                                    # noqa: E402
import resource                                                  # noqa: E402
import statistics                                                # noqa: E402
import sys                                                       # noqa: E402
import time                                                      # noqa: E402

import numpy as np                                               # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
# MYTORCH_PATH=DIR benchmarks DIR/mytorch (a scratch copy of the library) instead.
if os.environ.get("MYTORCH_PATH"):
    sys.path.insert(0, os.environ["MYTORCH_PATH"])

torch = None                     # set by load_torch(): only scripts that compare with it pay
                                 # for importing it (~200 MB of RSS, seconds of start-up)

SIZES = (784, 20, 10)           # input, hidden, classes
BATCH = 100
LR, MOMENTUM = 0.1, 0.9
BN_EPS, BN_MOMENTUM = 1e-5, 0.1
TORCH_MISSING = "torch is not importable: the PyTorch column is skipped"


def load_torch():
    """Import torch with one thread; returns it, or None when it is not importable."""
    global torch
    if torch is None:
        try:
            import torch as module
        except ImportError:                                      # the torch column is optional
            return None
        module.set_num_threads(1)
        torch = module
    return torch


# --------------------------------------------------------------------------- #
# Environment report
# --------------------------------------------------------------------------- #
def _openblas_core():
    """(core name, threads) of the OpenBLAS that NumPy loaded, or None if not found."""
    paths = {line.split()[-1] for line in open("/proc/self/maps") if "openblas" in line.lower()}
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas_", "openblas_"):
            for suffix in ("64_", ""):
                name = getattr(lib, prefix + "get_corename" + suffix, None)
                threads = getattr(lib, prefix + "get_num_threads" + suffix, None)
                if name is not None and threads is not None:
                    name.restype, threads.restype = ctypes.c_char_p, ctypes.c_int
                    return name().decode(), threads()
    return None


def environment_lines():
    """Lines describing what the timings depend on (versions, BLAS, environment)."""
    lines = ["python {}, numpy {}, torch {}".format(
        sys.version.split()[0], np.__version__, torch.__version__ if torch else "(not loaded)")]
    core = _openblas_core()
    if core:
        lines.append("numpy BLAS: OpenBLAS core {}, {} thread(s)".format(*core))
    if torch:
        blas = [part.split("=", 1)[1] for part in torch.__config__.show().replace(",", " ").split()
                if part.startswith("BLAS_INFO=")]
        lines.append("torch BLAS: {}".format(blas[0] if blas else "?"))
    lines.append("OPENBLAS/OMP/MKL_NUM_THREADS=1" + (", torch.set_num_threads(1)" if torch else ""))
    pinned = [name for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if name in os.environ]
    if pinned:
        lines.append("NOTE: {} set in the environment ({}); unsetting both can change BLAS speed "
                     "(left as is)".format(" and ".join(pinned),
                                           ", ".join("{}={}".format(n, os.environ[n])
                                                     for n in pinned)))
    lines.append("load average: {:.2f} {:.2f} {:.2f} on {} cores".format(
        *os.getloadavg(), os.cpu_count()))
    return lines


def print_environment():
    for line in environment_lines():
        print("# " + line)


# --------------------------------------------------------------------------- #
# Data and weights
# --------------------------------------------------------------------------- #
def initial_weights(seed=0):
    """The MLP's starting parameters, as torch.nn.Linear/BatchNorm1d would draw them."""
    rng = np.random.default_rng(seed)
    (n_in, n_hidden, n_out) = SIZES
    b1, b2 = 1 / np.sqrt(n_in), 1 / np.sqrt(n_hidden)
    return {"W1": rng.uniform(-b1, b1, (n_hidden, n_in)), "b1": rng.uniform(-b1, b1, n_hidden),
            "gamma": np.ones(n_hidden), "beta": np.zeros(n_hidden),
            "W2": rng.uniform(-b2, b2, (n_out, n_hidden)), "b2": rng.uniform(-b2, b2, n_out)}


def synthetic_batches(count, batch=BATCH, seed=1):
    """``count`` (x float64 (batch, 784), y int64 (batch,)) pairs of random data."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, SIZES[0])), rng.integers(0, SIZES[2], batch))
            for _ in range(count)]


# --------------------------------------------------------------------------- #
# The three implementations
# --------------------------------------------------------------------------- #
class Impl:
    """One implementation of the training step.

    batch(x, y)   -> the batch in this implementation's own types (untimed)
    step(batch)   -> one training step; returns the loss in its own type
    loss(value)   -> that loss as a float
    params()      -> parameters and BatchNorm running statistics, a dict of ndarrays
    accuracy(x, y)-> fraction right, in evaluation mode without a graph
    """
    name = "?"

    def step(self, batch):
        """The step as a user writes it (MyTorch and PyTorch share this; NumPy overrides it)."""
        x, y = batch
        self.optimizer.zero_grad()
        loss = self.criterion(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss


class MyTorchImpl(Impl):
    name = "mytorch"

    def __init__(self, weights):
        from mytorch import Tensor, no_grad
        from mytorch.nn.activations import ReLU
        from mytorch.nn.batchnorm import BatchNorm1d
        from mytorch.nn.linear import Linear
        from mytorch.nn.loss import CrossEntropyLoss
        from mytorch.nn.sequential import Sequential
        from mytorch.optim.sgd import SGD
        self.Tensor, self.no_grad = Tensor, no_grad
        n_in, n_hidden, n_out = SIZES
        self.model = Sequential(Linear(n_in, n_hidden),
                                BatchNorm1d(n_hidden, eps=BN_EPS, momentum=BN_MOMENTUM),
                                ReLU(), Linear(n_hidden, n_out))
        self.fc1, self.bn, _, self.fc2 = self.model.layers
        for tensor, key in self._named():
            tensor.data = weights[key].copy()
        self.criterion = CrossEntropyLoss()
        self.optimizer = SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def _named(self):
        return ((self.fc1.weight, "W1"), (self.fc1.bias, "b1"), (self.bn.gamma, "gamma"),
                (self.bn.beta, "beta"), (self.fc2.weight, "W2"), (self.fc2.bias, "b2"))

    def batch(self, x, y):
        return self.Tensor(x), self.Tensor(y)

    def loss(self, value):
        return float(value.data)

    def params(self):
        return dict({key: tensor.data for tensor, key in self._named()},
                    running_mean=self.bn.running_mean.data, running_var=self.bn.running_var.data)

    def accuracy(self, x, y):
        self.model.eval()
        with self.no_grad():
            logits = self.model(self.Tensor(x)).data
        self.model.train()
        return float((logits.argmax(axis=1) == y).mean())


class NumpyImpl(Impl):
    """The floor: forward, closed-form backward and momentum SGD in plain NumPy.

    What a careful person writes by hand: no autograd, no dx for the input
    layer, BatchNorm's backward through the batch statistics in closed form.
    """
    name = "numpy"

    def __init__(self, weights):
        self.p = {key: value.copy() for key, value in weights.items()}
        self.v = {key: np.zeros_like(value) for key, value in weights.items()}
        self.running_mean = np.zeros(SIZES[1])
        self.running_var = np.ones(SIZES[1])

    def batch(self, x, y):
        return x, y

    def step(self, batch):
        x, y = batch
        p, n = self.p, x.shape[0]
        rows = np.arange(n)
        # forward
        z1 = x @ p["W1"].T + p["b1"]
        mean = z1.sum(axis=0) / n               # sum / n: cheaper than .mean() on small arrays
        centered = z1 - mean
        var = (centered * centered).sum(axis=0) / n
        inv_std = 1.0 / np.sqrt(var + BN_EPS)
        x_hat = centered * inv_std
        bn = p["gamma"] * x_hat + p["beta"]
        m = BN_MOMENTUM
        self.running_mean = (1 - m) * self.running_mean + m * mean
        self.running_var = (1 - m) * self.running_var + m * var * (n / (n - 1))
        h = np.maximum(bn, 0.0)
        z2 = h @ p["W2"].T + p["b2"]
        shifted = z2 - z2.max(axis=1, keepdims=True)
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        loss = (np.log(sums[:, 0]) - shifted[rows, y]).sum() / n
        # backward
        g2 = exps / sums                        # softmax, reusing the forward's exp
        g2[rows, y] -= 1.0
        g2 /= n
        grads = {"W2": g2.T @ h, "b2": g2.sum(axis=0)}
        g_bn = g2 @ p["W2"]
        g_bn *= bn > 0
        grads["beta"] = g_bn.sum(axis=0)
        grads["gamma"] = (g_bn * x_hat).sum(axis=0)
        g1 = (p["gamma"] * inv_std / n) * (n * g_bn - grads["beta"] - x_hat * grads["gamma"])
        grads["W1"] = g1.T @ x
        grads["b1"] = g1.sum(axis=0)
        # SGD with momentum: v = momentum * v - lr * g; p += v
        for key, g in grads.items():
            v = self.v[key]
            v *= MOMENTUM
            g *= LR
            v -= g
            p[key] += v
        return loss

    def loss(self, value):
        return float(value)

    def params(self):
        return dict(self.p, running_mean=self.running_mean, running_var=self.running_var)

    def accuracy(self, x, y):
        p = self.p
        z1 = x @ p["W1"].T + p["b1"]
        bn = p["gamma"] * (z1 - self.running_mean) / np.sqrt(self.running_var + BN_EPS) + p["beta"]
        logits = np.maximum(bn, 0.0) @ p["W2"].T + p["b2"]
        return float((logits.argmax(axis=1) == y).mean())


class TorchImpl(Impl):
    name = "torch"

    def __init__(self, weights):
        n_in, n_hidden, n_out = SIZES
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(n_in, n_hidden),
                                   nn.BatchNorm1d(n_hidden, eps=BN_EPS, momentum=BN_MOMENTUM),
                                   nn.ReLU(), nn.Linear(n_hidden, n_out)).double()
        fc1, bn, _, fc2 = self.model
        self._named = ((fc1.weight, "W1"), (fc1.bias, "b1"), (bn.weight, "gamma"),
                       (bn.bias, "beta"), (fc2.weight, "W2"), (fc2.bias, "b2"))
        with torch.no_grad():
            for param, key in self._named:
                param.copy_(torch.from_numpy(weights[key]))
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM)

    def batch(self, x, y):
        return torch.from_numpy(x), torch.from_numpy(y)

    def loss(self, value):
        return value.item()

    def params(self):
        bn = self.model[1]
        return dict({key: param.detach().numpy() for param, key in self._named},
                    running_mean=bn.running_mean.numpy(), running_var=bn.running_var.numpy())

    def accuracy(self, x, y):
        self.model.eval()
        with torch.no_grad():
            logits = self.model(torch.from_numpy(x))
        self.model.train()
        return float((logits.argmax(dim=1).numpy() == y).mean())


IMPLS = {"mytorch": MyTorchImpl, "numpy": NumpyImpl, "torch": TorchImpl}


def available_impls(names=("mytorch", "numpy", "torch")):
    """The implementation classes among ``names`` that can run here (torch may be missing)."""
    return [IMPLS[name] for name in names if name != "torch" or load_torch() is not None]


def check_same_math(impls, batches, tolerance=1e-10):
    """Run every impl over ``batches`` from the same weights and compare with the first.

    Raises AssertionError unless every loss, and every parameter and running
    statistic after the last step, agrees within ``tolerance``.  Returns
    ({name: [losses]}, largest difference seen).
    """
    losses = {impl.name: [impl.loss(impl.step(impl.batch(x, y))) for x, y in batches]
              for impl in impls}
    reference, largest = impls[0], 0.0
    for impl in impls[1:]:
        gaps = {"loss": max(abs(a - b) for a, b in zip(losses[reference.name],
                                                        losses[impl.name]))}
        expected = reference.params()
        for key, value in impl.params().items():
            gaps[key] = float(np.max(np.abs(expected[key] - value)))
        worst = max(gaps, key=gaps.get)
        if gaps[worst] > tolerance:
            raise AssertionError("{} and {} compute different things: {} differs by {:.3g} "
                                 "(> {:g}); losses {} vs {}".format(
                                     reference.name, impl.name, worst, gaps[worst], tolerance,
                                     losses[reference.name], losses[impl.name]))
        largest = max(largest, gaps[worst])
    return losses, largest


# --------------------------------------------------------------------------- #
# Timing and memory
# --------------------------------------------------------------------------- #
def time_steps(impl, batches, steps):
    """(wall seconds, CPU seconds) for ``steps`` training steps of ``impl``, cycling over
    prepared ``batches``.  CPU time (this process's, all threads) leaves out the time spent
    waiting for a core while other processes run, so it is steadier on a shared machine."""
    step, count = impl.step, len(batches)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(steps):
        step(batches[i % count])
    return time.perf_counter() - wall, time.process_time() - cpu


def step_runners(classes, weights, warmup=30):
    """{name: fn(steps) -> (wall s, CPU s)}: each implementation from ``weights``, stepping
    over 10 prepared synthetic batches, warmed up; ready for ``interleaved``."""
    runners = {}
    for cls in classes:
        impl = cls(weights)
        prepared = [impl.batch(x, y) for x, y in synthetic_batches(10, seed=1)]
        time_steps(impl, prepared, warmup)
        runners[impl.name] = (lambda impl, prepared:
                              lambda steps: time_steps(impl, prepared, steps))(impl, prepared)
    return runners


def interleaved(runners, rounds, steps):
    """{"wall": {name: [us per step, one per round]}, "cpu": {...}}.

    ``runners`` maps a name to ``fn(steps) -> (wall seconds, CPU seconds)``.
    Each round runs every runner once, in an order rotated from round to round,
    so a burst of load from other processes hits all of them alike.
    """
    names = list(runners)
    samples = {"wall": {name: [] for name in names}, "cpu": {name: [] for name in names}}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            wall, cpu = runners[name](steps)
            samples["wall"][name].append(wall / steps * 1e6)
            samples["cpu"][name].append(cpu / steps * 1e6)
    return samples


def median(values):
    return statistics.median(values)


def rss_bytes():
    """Current resident set size of this process (Linux /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes():
    """Peak resident set size of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
