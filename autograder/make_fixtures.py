#!/usr/bin/env python3
"""Regenerate the graders' expected values with PyTorch (float64).

    python3 autograder/make_fixtures.py                # rewrite every grader's fixtures/*.npz
    python3 autograder/make_fixtures.py --check        # compare, write nothing
    python3 autograder/make_fixtures.py 1b             # one grader's (its ./grade.sh command)

Needs torch (``pip install -r requirements-oracle.txt``); the graders themselves only
read the .npz files, with NumPy alone.  Inputs and initial weights come from NumPy
generators with fixed seeds, so every run writes the same numbers.

Each grader folder with fixtures has a ``cases.py`` that defines ``FILES = {"mlp.npz":
[make, ...]}``: each ``make(store)`` records its cases into ``store`` under
``<case>.<item>`` keys.  Most cases are models, built here from the table ``LAYERS``
and recorded by ``model_case``: a new layer is one entry in ``LAYERS`` (and one in
autograder/replay.py's table, which rebuilds the model from MyTorch's classes).

A model case holds ``layers`` (MyTorch constructor calls: "Linear(5, 7)"), ``kinds``
(per step: "train", "eval", "eval-grad"), ``optimizer`` ("none", "sgd", "adam", or
"grader": the test applies the update itself) with its settings ``optimizer.lr``,
``optimizer.momentum``, ``optimizer.betas``, ``optimizer.eps``, the initial weights
``init.layer<i>.<param>``, and per step ``step<k>.``: ``seed`` (np.random is seeded with
it before each training forward: Dropout draws its mask from it), ``x``, ``R`` (the
probe loss sum(y * R)) or ``labels`` and ``loss`` (cross-entropy), ``y``, ``grad.x``,
``grad.<param>``, ``after.<param>`` and ``running.layer<i>.mean/var``.
"""
import argparse
import importlib
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from autograder import specs  # noqa: E402  (needs ROOT on sys.path)


class Recorder:
    """Collects one case's arrays under ``<case>.`` keys."""

    def __init__(self, store, case):
        self.store, self.case = store, case

    def __setitem__(self, key, value):
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        self.store["{}.{}".format(self.case, key)] = np.array(value)


def as_torch(array, requires_grad=False):
    return torch.tensor(array, dtype=torch.float64, requires_grad=requires_grad)


# --------------------------------------------------------------------------- #
# The layers a model case may hold
# --------------------------------------------------------------------------- #
Layer = namedtuple("Layer", "name build init params")
Layer.__doc__ = """One kind of layer: its MyTorch ``name`` ("Linear"), ``build(*args)`` -> the
float64 torch module (None: applied by hand in ``forward``), ``init(rng, *args)`` ->
{MyTorch parameter name: initial array}, drawn from the case's generator, and
``params``: {MyTorch parameter name: the torch module's attribute}."""


def _linear_init(rng, fan_in, fan_out):
    bound = 1.0 / np.sqrt(fan_in)
    weight = rng.uniform(-bound, bound, (fan_out, fan_in))
    return {"weight": weight, "bias": rng.uniform(-bound, bound, fan_out)}


def _bn_init(rng, features):
    return {"gamma": rng.uniform(0.5, 1.5, features), "beta": rng.normal(size=features)}


def _conv_init(dims):
    """PyTorch's default for a convolution with ``dims`` spatial axes: weight and bias
    uniform in +-1/sqrt(fan_in), fan_in = in_channels * kernel_size**dims."""
    def init(rng, c_in, c_out, kernel_size, stride=1):
        bound = 1.0 / np.sqrt(c_in * kernel_size ** dims)
        shape = (c_out, c_in) + (kernel_size,) * dims
        return {"weight": rng.uniform(-bound, bound, shape),
                "bias": rng.uniform(-bound, bound, c_out)}
    return init


WEIGHT_AND_BIAS = {"weight": "weight", "bias": "bias"}
LAYERS = {
    "linear": Layer("Linear", lambda i, o: torch.nn.Linear(i, o).double(), _linear_init,
                    WEIGHT_AND_BIAS),
    "bn": Layer("BatchNorm1d", lambda c: torch.nn.BatchNorm1d(c).double(),   # eps 1e-5, momentum 0.1
                _bn_init, {"gamma": "weight", "beta": "bias"}),
    "relu": Layer("ReLU", lambda: torch.nn.ReLU(), None, {}),
    "tanh": Layer("Tanh", lambda: torch.nn.Tanh(), None, {}),
    "sigmoid": Layer("Sigmoid", lambda: torch.nn.Sigmoid(), None, {}),
    "dropout": Layer("Dropout", None, None, {}),         # the course's mask: see forward
    # Conv1d(in, out, kernel_size, stride) and Conv2d alike; pooling (kernel_size, stride)
    "conv1d": Layer("Conv1d", lambda i, o, k, s=1: torch.nn.Conv1d(i, o, k, s).double(),
                    _conv_init(1), WEIGHT_AND_BIAS),
    "conv2d": Layer("Conv2d", lambda i, o, k, s=1: torch.nn.Conv2d(i, o, k, s).double(),
                    _conv_init(2), WEIGHT_AND_BIAS),
    "maxpool2d": Layer("MaxPool2d", lambda k, s: torch.nn.MaxPool2d(k, s), None, {}),
    "avgpool2d": Layer("AvgPool2d", lambda k, s: torch.nn.AvgPool2d(k, s), None, {}),
    "flatten": Layer("Flatten", lambda: torch.nn.Flatten(), None, {}),
}


def describe(layer):
    """The MyTorch constructor call for a spec entry: "Linear(5, 7)", "ReLU()"."""
    return "{}({})".format(LAYERS[layer[0]].name, ", ".join(str(n) for n in layer[1:]))


def build(spec, rng):
    """The torch modules for ``spec`` ([("linear", 5, 7), ("relu",), ...]) and their initial
    weights, drawn from ``rng`` in layer order, under MyTorch's names."""
    modules, init, params = [], {}, []
    for index, layer in enumerate(spec):
        kind = LAYERS[layer[0]]
        module = kind.build(*layer[1:]) if kind.build else None
        values = kind.init(rng, *layer[1:]) if kind.init else {}
        for name, value in values.items():
            key = "layer{}.{}".format(index, name)
            init[key] = value
            tensor = getattr(module, kind.params[name])
            with torch.no_grad():
                tensor.copy_(as_torch(value))
            params.append((key, tensor))
        modules.append(module)
    return modules, init, params


def forward(modules, spec, x, training):
    """The model's output.  A Dropout layer draws its mask from np.random the course's way,
    ``np.random.binomial(1, 1 - p, size)``, once per training forward, as MyTorch's does."""
    for module, layer in zip(modules, spec):
        if layer[0] == "dropout":
            if training:
                p = layer[1]
                keep = np.random.binomial(1, 1 - p, size=tuple(x.shape))
                x = x * as_torch(keep / (1 - p))
        else:
            module.train(training)
            x = module(x)
    return x


def backward_from_loss(rec, key, y, loss, rng):
    """Backpropagate from the step's loss and record what defines it: the probe loss
    sum(y * R) (``loss="mul"``, R recorded) or cross-entropy (labels and loss recorded)."""
    if loss == "mul":
        upstream = rng.normal(size=tuple(y.shape))
        rec[key + "R"] = upstream
        total = (y * as_torch(upstream)).sum()
    else:
        labels = rng.integers(0, y.shape[1], size=y.shape[0])
        rec[key + "labels"] = labels
        total = TF.cross_entropy(y, torch.tensor(labels))
        rec[key + "loss"] = total
    total.backward()


def model_case(store, case, seed, spec, kinds, batch_sizes, loss="mul", optimizer="none",
               lr=0.1, momentum=0.0, betas=(0.9, 0.999), eps=1e-8, x_scale=1.0,
               x_offset=0.0, input_shape=None):
    """Run ``kinds`` steps of the model ``spec`` and record everything.

    Kinds: "train" (train mode, forward and backward), "eval" (eval mode, forward
    only), "eval-grad" (eval mode, forward and backward: BatchNorm's running statistics
    are then constants).  ``optimizer``: "none" (parameters stay), "sgd"
    (torch.optim.SGD with ``lr`` and ``momentum``, the handout's update for a constant
    lr), "adam" (torch.optim.Adam with ``lr``, ``betas``, ``eps``), or "grader" (plain
    p -= lr * grad; the test loads ``after.*`` itself instead of calling the student's
    optimizer).  ``input_shape``: one sample's shape (default: the first layer's inputs).
    """
    rng = np.random.default_rng(seed)
    rec = Recorder(store, case)
    modules, init, params = build(spec, rng)
    for name, value in init.items():
        rec["init." + name] = value
    rec["layers"] = np.array([describe(layer) for layer in spec])
    rec["kinds"] = np.array(kinds)
    rec["optimizer"] = optimizer
    settings = {"sgd": {"lr": lr, "momentum": momentum}, "adam": {"lr": lr, "betas": betas,
                                                                  "eps": eps},
                "grader": {"lr": lr}}.get(optimizer, {})
    for name, value in settings.items():
        rec["optimizer." + name] = value
    tensors = [p for _, p in params]
    step_with = None
    if optimizer == "sgd":
        step_with = torch.optim.SGD(tensors, lr=lr, momentum=momentum)
    elif optimizer == "adam":
        step_with = torch.optim.Adam(tensors, lr=lr, betas=betas, eps=eps)
    shape = tuple(input_shape) if input_shape is not None else (spec[0][1],)
    for step, (kind, n) in enumerate(zip(kinds, batch_sizes)):
        key = "step{}.".format(step)
        x_np = rng.normal(size=(n,) + shape) * x_scale + x_offset
        step_seed = 1000 * seed + step
        rec[key + "x"], rec[key + "seed"] = x_np, step_seed
        training = kind == "train"
        if kind == "eval":
            with torch.no_grad():
                rec[key + "y"] = forward(modules, spec, as_torch(x_np), training=False)
            continue
        x = as_torch(x_np, requires_grad=True)
        for p in tensors:
            p.grad = None
        np.random.seed(step_seed)
        y = forward(modules, spec, x, training)
        backward_from_loss(rec, key, y, loss, rng)
        rec[key + "y"], rec[key + "grad.x"] = y, x.grad
        for name, p in params:
            rec[key + "grad." + name] = p.grad
        if step_with is not None:
            step_with.step()
        elif optimizer == "grader":
            with torch.no_grad():
                for p in tensors:
                    p -= lr * p.grad
        for name, p in params:
            rec[key + "after." + name] = p
        for index, layer in enumerate(spec):
            if layer[0] == "bn":
                rec[key + "running.layer{}.mean".format(index)] = modules[index].running_mean
                rec[key + "running.layer{}.var".format(index)] = modules[index].running_var


def batch_sizes(seed, count, low, high):
    return [int(n) for n in np.random.default_rng(seed).integers(low, high + 1, size=count)]


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #
def generate(spec):
    """{filename: {key: array}} of ``spec``'s fixtures, from its folder's cases.py."""
    cases = importlib.import_module("{}.cases".format(spec.package))
    torch.manual_seed(0)                     # nothing random is drawn from torch; belt and braces
    out = {}
    for filename, makers in cases.FILES.items():
        store = {}
        for make in makers:
            make(store)
        out[filename] = store
    return out


def check(generated, directory):
    """0 if the committed fixtures in ``directory`` equal freshly generated ones (to 1e-12),
    else 1; prints what differs."""
    status = 0
    for filename, store in generated.items():
        path = Path(directory) / filename
        if not path.exists():
            print("{}: missing".format(path))
            status = 1
            continue
        with np.load(str(path)) as committed:
            if set(committed.files) != set(store):
                print("{}: keys differ: {}".format(
                    filename, sorted(set(committed.files) ^ set(store))))
                status = 1
                continue
            for key, value in store.items():
                old = committed[key]
                same = old.shape == value.shape and (
                    np.array_equal(old, value) if old.dtype.kind not in "fc"
                    else np.allclose(old, value, rtol=1e-12, atol=1e-14, equal_nan=True))
                if not same:
                    print("{}: {} differs".format(filename, key))
                    status = 1
    return status


def with_cases():
    """The specs whose folders have a cases.py."""
    return [s for s in specs.all_specs() if (s.folder / "cases.py").exists()]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("graders", nargs="*", metavar="COMMAND",
                        help="the graders to regenerate, by ./grade.sh command (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="compare freshly generated values with the committed files")
    args = parser.parse_args(argv)
    chosen = with_cases()
    if args.graders:
        try:
            wanted = {specs.get(c).command for c in args.graders}
        except KeyError as error:
            parser.error(str(error.args[0]))
        chosen = [s for s in chosen if s.command in wanted]
    status = 0
    for spec in chosen:
        generated = generate(spec)
        if args.check:
            result = check(generated, spec.fixtures)
            print("./grade.sh {}: fixtures {}".format(
                spec.command, "are up to date" if result == 0 else "differ"))
            status |= result
            continue
        spec.fixtures.mkdir(exist_ok=True)
        for filename, store in generated.items():
            path = spec.fixtures / filename
            np.savez_compressed(str(path), **store)
            print("wrote {} ({} arrays, {} bytes)".format(
                path.relative_to(ROOT), len(store), path.stat().st_size))
    return status


if __name__ == "__main__":
    sys.exit(main())
