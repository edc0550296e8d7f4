"""Regenerate the autograder's expected values with PyTorch (float64).

    python3 autograder/hw1_autograder/make_fixtures.py           # rewrite fixtures/*.npz
    python3 autograder/hw1_autograder/make_fixtures.py --check   # compare, write nothing

Needs torch (``pip install -r requirements-oracle.txt``); the autograder itself
only reads the .npz files, with NumPy alone.  Inputs and initial weights come
from NumPy generators with fixed seeds, so every run writes the same numbers.

Layout: one .npz per test module, keys ``<case>.<item>``, for example
``sgd.step2.grad.layer0.weight`` is d loss / d weight of layer 0 in step 2 of
the SGD case.  Model cases hold, per step: the input ``x``, the upstream
gradient ``R`` (loss = sum(y * R)) or the ``labels`` (cross-entropy loss), the
output ``y``, the ``loss``, every gradient (``grad.x`` for the input), the
parameters after the update (``after.*``) and BatchNorm's running statistics
(``running.*``); ``init.*`` are the weights the student's model is loaded with.
"""
import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF

FIXTURES = Path(__file__).resolve().parent / "fixtures"


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
# test_autograd.py
# --------------------------------------------------------------------------- #
def autograd_graph(store):
    """a, b require grad; c, k are constants: out = log(z**2 + k), z = (a*b + a).T * c as (2, 6)."""
    rng = np.random.default_rng(1)
    rec = Recorder(store, "graph")
    a_np, b_np = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    c_np, k_np = rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=(2, 6))
    a, b = as_torch(a_np, True), as_torch(b_np, True)
    c, k = as_torch(c_np), as_torch(k_np)
    v = a * b + a
    w = v.T * c
    z = w.reshape(2, 6)
    out = torch.log(z * z + k)
    out.backward(torch.ones_like(out))        # MyTorch's out.backward() seeds ones
    for name, value in (("a", a_np), ("b", b_np), ("c", c_np), ("k", k_np), ("out", out),
                        ("grad.a", a.grad), ("grad.b", b.grad)):
        rec[name] = value


# --------------------------------------------------------------------------- #
# test_mlp.py
# --------------------------------------------------------------------------- #
def build(spec, rng):
    """A float64 torch Sequential for ``spec`` (("linear", in, out) | ("bn", C) | ("relu",)),
    its initial weights drawn from ``rng`` under MyTorch's names."""
    layers, init = [], {}
    for index, layer in enumerate(spec):
        if layer[0] == "linear":
            fan_in, fan_out = layer[1], layer[2]
            bound = 1.0 / np.sqrt(fan_in)
            module = torch.nn.Linear(fan_in, fan_out).double()
            init["layer{}.weight".format(index)] = rng.uniform(-bound, bound, (fan_out, fan_in))
            init["layer{}.bias".format(index)] = rng.uniform(-bound, bound, fan_out)
            with torch.no_grad():
                module.weight.copy_(as_torch(init["layer{}.weight".format(index)]))
                module.bias.copy_(as_torch(init["layer{}.bias".format(index)]))
        elif layer[0] == "bn":
            module = torch.nn.BatchNorm1d(layer[1]).double()     # eps 1e-5, momentum 0.1
            init["layer{}.gamma".format(index)] = rng.uniform(0.5, 1.5, layer[1])
            init["layer{}.beta".format(index)] = rng.normal(size=layer[1])
            with torch.no_grad():
                module.weight.copy_(as_torch(init["layer{}.gamma".format(index)]))
                module.bias.copy_(as_torch(init["layer{}.beta".format(index)]))
        else:
            module = torch.nn.ReLU()
        layers.append(module)
    return torch.nn.Sequential(*layers), init


def describe(layer):
    """The MyTorch constructor call for a spec entry: "Linear(5, 7)", "BatchNorm1d(5)", "ReLU()"."""
    name = {"linear": "Linear", "bn": "BatchNorm1d", "relu": "ReLU"}[layer[0]]
    return "{}({})".format(name, ", ".join(str(n) for n in layer[1:]))


def named_parameters(model, spec):
    """(MyTorch name, torch parameter) pairs in layer order."""
    pairs = []
    for index, layer in enumerate(spec):
        module = model[index]
        if layer[0] == "linear":
            pairs += [("layer{}.weight".format(index), module.weight),
                      ("layer{}.bias".format(index), module.bias)]
        elif layer[0] == "bn":
            pairs += [("layer{}.gamma".format(index), module.weight),
                      ("layer{}.beta".format(index), module.bias)]
    return pairs


def model_case(store, case, seed, spec, kinds, batch_sizes, loss="mul", update=None,
               lr=0.1, momentum=0.0, x_scale=1.0, x_offset=0.0):
    """Run ``kinds`` steps of ``spec`` and record everything.

    Kinds: "train" (train mode, forward and backward), "eval" (eval mode, forward
    only), "eval-grad" (eval mode, forward and backward: BatchNorm's running
    statistics are then constants).  ``update``: None (parameters stay), "sgd"
    (torch.optim.SGD with ``lr`` and ``momentum``, which equals the handout's
    update for a constant lr), or "grader" (plain p -= lr * grad; the test loads
    ``after.*`` itself instead of calling the student's SGD).
    """
    rng = np.random.default_rng(seed)
    rec = Recorder(store, case)
    model, init = build(spec, rng)
    params = named_parameters(model, spec)
    for name, value in init.items():
        rec["init." + name] = value
    rec["layers"] = np.array([describe(layer) for layer in spec])
    rec["kinds"] = np.array(kinds)
    rec["update"] = update or "none"
    rec["lr"], rec["momentum"] = lr, momentum
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum) \
        if update == "sgd" else None
    in_features = spec[0][1]
    for step, (kind, n) in enumerate(zip(kinds, batch_sizes)):
        key = "step{}.".format(step)
        x_np = rng.normal(size=(n, in_features)) * x_scale + x_offset
        rec[key + "x"] = x_np
        if kind == "eval":
            model.eval()
            with torch.no_grad():
                rec[key + "y"] = model(as_torch(x_np))
            continue
        model.train(kind == "train")
        x = as_torch(x_np, requires_grad=True)
        for _, p in params:
            p.grad = None
        y = model(x)
        backward_from_loss(rec, key, y, loss, rng)
        rec[key + "y"] = y
        rec[key + "grad.x"] = x.grad
        for name, p in params:
            rec[key + "grad." + name] = p.grad
        if update == "sgd":
            optimizer.step()
        elif update == "grader":
            with torch.no_grad():
                for _, p in params:
                    p -= lr * p.grad
        for name, p in params:
            rec[key + "after." + name] = p
        for index, layer in enumerate(spec):
            if layer[0] == "bn":
                rec[key + "running.layer{}.mean".format(index)] = model[index].running_mean
                rec[key + "running.layer{}.var".format(index)] = model[index].running_var


def backward_from_loss(rec, key, y, loss, rng):
    """Backpropagate from the step's loss and record what defines it: the probe loss
    sum(y * R) (``loss="mul"``, R recorded) or cross-entropy (labels and loss recorded)."""
    n, out_features = y.shape
    if loss == "mul":
        upstream = rng.normal(size=(n, out_features))
        rec[key + "R"] = upstream
        total = (y * as_torch(upstream)).sum()
    else:
        labels = rng.integers(0, out_features, size=n)
        rec[key + "labels"] = labels
        total = TF.cross_entropy(y, torch.tensor(labels))
        rec[key + "loss"] = total
    total.backward()


def batch_sizes(seed, count, low, high):
    return [int(n) for n in np.random.default_rng(seed).integers(low, high + 1, size=count)]


def mlp_cases(store):
    # 2.1 Linear: a stack of three in a Sequential
    model_case(store, "linear_stack", 22, [("linear", 8, 6), ("linear", 6, 5), ("linear", 5, 3)],
               ["train"] * 3, batch_sizes(122, 3, 1, 12))
    # 2.2 ReLU inside a model (builds on 2.1)
    model_case(store, "relu_model", 23, [("linear", 6, 8), ("relu",), ("linear", 8, 4)],
               ["train"] * 3, batch_sizes(123, 3, 2, 12))
    # 2.3 SGD training a model (builds on 2.1)
    model_case(store, "sgd", 24, [("linear", 5, 7), ("linear", 7, 6), ("linear", 6, 3)],
               ["train"] * 4 + ["eval"], batch_sizes(124, 5, 1, 12), update="sgd", lr=0.1)
    # 2.4 BatchNorm: the layer alone (backward in both modes), then inside a model
    model_case(store, "bn_layer", 25, [("bn", 4)],
               ["train", "train", "eval", "eval-grad", "train", "eval-grad"],
               [6, 9, 5, 4, 3, 7], x_scale=3.0, x_offset=2.0)
    model_case(store, "bn_model", 26, [("linear", 6, 5), ("bn", 5), ("linear", 5, 3)],
               ["train", "train", "eval", "train", "eval-grad", "train", "eval"],
               batch_sizes(126, 7, 2, 12), update="grader", lr=0.1, x_offset=1.0)
    # 2.5 Cross-entropy: alone, then training a model (builds on 2.1)
    model_case(store, "xe_model", 27, [("linear", 6, 8), ("linear", 8, 5)], ["train"] * 3,
               batch_sizes(127, 3, 1, 12), loss="xe", update="grader", lr=0.5)
    xe_values(store, "xe_values", np.random.default_rng(28).normal(size=(6, 5)) * 3,
              np.random.default_rng(29).integers(0, 5, size=6))
    xe_values(store, "xe_batch", np.random.default_rng(31).normal(size=(40, 10)) * 2,
              np.random.default_rng(32).integers(0, 10, size=40))
    # exp(x) overflows float64 beyond ~709 and underflows to 0 below ~-745
    xe_values(store, "xe_large", np.array([[1000., -1000., 999., 0., 500.],
                                           [-1000., -999.5, -1001., -1000., -2000.],
                                           [1e4, 1e4, 1e4, 1e4, 1e4],
                                           [800., 1., 2., 3., 4.]]),
              np.array([2, 1, 3, 1]))
    # 2.6 Momentum training a model (builds on 2.1)
    model_case(store, "momentum", 30, [("linear", 5, 6), ("linear", 6, 3)], ["train"] * 5,
               batch_sizes(130, 5, 1, 12), update="sgd", lr=0.1, momentum=0.9)


def xe_values(store, case, logits_np, labels):
    rec = Recorder(store, case)
    logits = as_torch(logits_np, requires_grad=True)
    loss = TF.cross_entropy(logits, torch.tensor(labels))
    loss.backward()
    rec["logits"], rec["labels"], rec["loss"], rec["grad"] = logits_np, labels, loss, logits.grad


# --------------------------------------------------------------------------- #
FILES = {"autograd.npz": (autograd_graph,), "mlp.npz": (mlp_cases,)}


def generate():
    torch.manual_seed(0)                     # nothing random is drawn from torch; belt and braces
    out = {}
    for filename, makers in FILES.items():
        store = {}
        for make in makers:
            make(store)
        out[filename] = store
    return out


def check(generated, directory=FIXTURES):
    """0 if the committed fixtures in ``directory`` equal freshly generated ones (to 1e-12),
    else 1."""
    status = 0
    for filename, store in generated.items():
        path = directory / filename
        if not path.exists():
            print("{}: missing".format(path))
            status = 1
            continue
        with np.load(path) as committed:
            if set(committed.files) != set(store):
                print("{}: keys differ: {}".format(
                    filename, sorted(set(committed.files) ^ set(store))))
                status = 1
                continue
            for key, value in store.items():
                old = committed[key]
                same = old.shape == value.shape and (
                    np.array_equal(old, value) if old.dtype.kind not in "fc"
                    else np.allclose(old, value, rtol=1e-12, atol=1e-14))
                if not same:
                    print("{}: {} differs".format(filename, key))
                    status = 1
    if status == 0:
        print("fixtures are up to date")
    return status


def command_line(generate, directory, description, argv=None):
    """The command line both fixture scripts share: write the files, or --check them."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--check", action="store_true",
                        help="compare freshly generated values with the committed files")
    args = parser.parse_args(argv)
    generated = generate()
    if args.check:
        return check(generated, directory)
    directory.mkdir(exist_ok=True)
    for filename, store in generated.items():
        np.savez_compressed(directory / filename, **store)
        print("wrote {} ({} arrays, {} bytes)".format(
            directory / filename, len(store), (directory / filename).stat().st_size))
    return 0


def main(argv=None):
    return command_line(generate, FIXTURES, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
