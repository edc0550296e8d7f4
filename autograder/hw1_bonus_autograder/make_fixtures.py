"""Regenerate the bonus autograder's expected values with PyTorch (float64).

    python3 autograder/hw1_bonus_autograder/make_fixtures.py           # rewrite fixtures/bonus.npz
    python3 autograder/hw1_bonus_autograder/make_fixtures.py --check   # compare, write nothing

Needs torch; grading only reads the .npz file, with NumPy alone.  Each case is a
model (Linear, BatchNorm1d, ReLU, Dropout layers) run for some steps.  Dropout
follows the course's convention: before every training forward the grader calls
``np.random.seed(step seed)``, and each Dropout layer, in forward order, draws
``np.random.binomial(1, 1 - p, size=x.shape)`` once; this script draws the same
masks and applies ``mask / (1 - p)`` to torch's activations by hand.

Keys per case: ``layers``, ``kinds``, ``init.layer<i>.<param>``, the optimizer's
settings, and per step ``step<k>.``: ``seed``, ``x``, ``R`` (loss = sum(y * R)) or
``labels`` and ``loss`` (cross-entropy), ``y``, ``grad.x``, ``grad.<param>``,
``after.<param>`` and ``running.layer<i>.mean/var``.
"""
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from autograder.hw1_autograder.make_fixtures import (Recorder, as_torch,  # noqa: E402
                                                     backward_from_loss, command_line)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LAYER_NAMES = {"linear": "Linear", "bn": "BatchNorm1d", "relu": "ReLU", "dropout": "Dropout"}


def describe(layer):
    """The MyTorch constructor call: "Linear(5, 7)", "BatchNorm1d(5)", "ReLU()", "Dropout(0.3)"."""
    return "{}({})".format(LAYER_NAMES[layer[0]], ", ".join(str(n) for n in layer[1:]))


def build(spec, rng):
    """torch modules (None for Dropout) and the initial weights, under MyTorch's names."""
    modules, init = [], {}
    for index, layer in enumerate(spec):
        if layer[0] == "linear":
            fan_in, fan_out = layer[1], layer[2]
            bound = 1.0 / np.sqrt(fan_in)
            module = torch.nn.Linear(fan_in, fan_out).double()
            weight = rng.uniform(-bound, bound, (fan_out, fan_in))
            bias = rng.uniform(-bound, bound, fan_out)
            init["layer{}.weight".format(index)], init["layer{}.bias".format(index)] = weight, bias
            with torch.no_grad():
                module.weight.copy_(as_torch(weight))
                module.bias.copy_(as_torch(bias))
        elif layer[0] == "bn":
            module = torch.nn.BatchNorm1d(layer[1]).double()
            gamma, beta = rng.uniform(0.5, 1.5, layer[1]), rng.normal(size=layer[1])
            init["layer{}.gamma".format(index)], init["layer{}.beta".format(index)] = gamma, beta
            with torch.no_grad():
                module.weight.copy_(as_torch(gamma))
                module.bias.copy_(as_torch(beta))
        elif layer[0] == "relu":
            module = torch.nn.ReLU()
        else:
            module = None
        modules.append(module)
    return modules, init


def parameters(modules, spec):
    pairs = []
    for index, (module, layer) in enumerate(zip(modules, spec)):
        if layer[0] == "linear":
            pairs += [("layer{}.weight".format(index), module.weight),
                      ("layer{}.bias".format(index), module.bias)]
        elif layer[0] == "bn":
            pairs += [("layer{}.gamma".format(index), module.weight),
                      ("layer{}.beta".format(index), module.bias)]
    return pairs


def forward(modules, spec, x, training):
    """The model's output; each Dropout draws its mask from np.random, as MyTorch's does."""
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


def model_case(store, case, seed, spec, kinds, batch_sizes, loss="mul", adam=None):
    """Run ``kinds`` steps ("train": forward, backward and an Adam step if ``adam``;
    "eval": forward only) and record everything."""
    rng = np.random.default_rng(seed)
    rec = Recorder(store, case)
    modules, init = build(spec, rng)
    params = parameters(modules, spec)
    for name, value in init.items():
        rec["init." + name] = value
    rec["layers"] = np.array([describe(layer) for layer in spec])
    rec["kinds"] = np.array(kinds)
    rec["adam"] = np.array([] if adam is None else [adam["lr"], adam["betas"][0],
                                                     adam["betas"][1], adam["eps"]])
    optimizer = None if adam is None else torch.optim.Adam(
        [p for _, p in params], lr=adam["lr"], betas=adam["betas"], eps=adam["eps"])
    for step, (kind, n) in enumerate(zip(kinds, batch_sizes)):
        key = "step{}.".format(step)
        x_np = rng.normal(size=(n, spec[0][1]))
        step_seed = 1000 * seed + step
        rec[key + "x"], rec[key + "seed"] = x_np, step_seed
        if kind == "eval":
            with torch.no_grad():
                rec[key + "y"] = forward(modules, spec, as_torch(x_np), training=False)
            continue
        x = as_torch(x_np, requires_grad=True)
        for _, p in params:
            p.grad = None
        np.random.seed(step_seed)
        y = forward(modules, spec, x, training=True)
        backward_from_loss(rec, key, y, loss, rng)
        rec[key + "y"], rec[key + "grad.x"] = y, x.grad
        for name, p in params:
            rec[key + "grad." + name] = p.grad
        if optimizer is not None:
            optimizer.step()
        for name, p in params:
            rec[key + "after." + name] = p
        for index, layer in enumerate(spec):
            if layer[0] == "bn":
                rec[key + "running.layer{}.mean".format(index)] = modules[index].running_mean
                rec[key + "running.layer{}.var".format(index)] = modules[index].running_var


ADAM = {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8}


def bonus_cases(store):
    # Adam: a Linear model, then Linear -> ReLU -> Linear -> ReLU
    model_case(store, "adam_linear", 41, [("linear", 10, 6)], ["train"] * 5,
               [8, 8, 5, 12, 8], adam=ADAM)
    model_case(store, "adam_two_layers", 42, [("linear", 10, 16), ("relu",), ("linear", 16, 5),
                                              ("relu",)],
               ["train"] * 8, [8, 3, 12, 8, 8, 1, 9, 8],
               adam={"lr": 0.005, "betas": (0.8, 0.99), "eps": 1e-6})
    # Dropout: Linear -> ReLU -> Dropout, forward (and eval), backward; then the big model
    model_case(store, "dropout_forward", 43, [("linear", 12, 20), ("relu",), ("dropout", 0.3)],
               ["train", "eval", "train", "train"], [10, 10, 7, 16])
    model_case(store, "dropout_backward", 44, [("linear", 12, 20), ("relu",), ("dropout", 0.4)],
               ["train", "train", "train"], [10, 4, 16])
    model_case(store, "dropout_big", 45, [("linear", 12, 24), ("relu",), ("dropout", 0.4),
                                          ("linear", 24, 16), ("relu",), ("dropout", 0.2),
                                          ("linear", 16, 10)],
               ["train"] * 5 + ["eval"], [16, 16, 9, 16, 20, 16], loss="xe", adam=ADAM)
    # BatchNorm inside models: Linear -> BatchNorm1d -> ReLU, then two such blocks
    block = [("linear", 10, 8), ("bn", 8), ("relu",)]
    model_case(store, "bn_forward", 46, block, ["train"] * 3, [6, 11, 4])
    model_case(store, "bn_backward", 47, block, ["train"] * 3, [6, 11, 4])
    # (the BatchNorm cases train no parameters: Adam is not under test there)
    model_case(store, "bn_train_eval", 48, block, ["train", "train", "eval", "train", "eval"],
               [6, 11, 5, 4, 9])
    model_case(store, "bn_big", 49, block + [("linear", 8, 12), ("bn", 12), ("relu",)],
               ["train", "train", "eval", "train", "train", "eval", "train", "eval"],
               [16, 9, 7, 20, 5, 16, 12, 3])


FILES = {"bonus.npz": bonus_cases}


def generate():
    out = {}
    for filename, make in FILES.items():
        store = {}
        make(store)
        out[filename] = store
    return out


def main(argv=None):
    return command_line(generate, FIXTURES, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    sys.exit(main())
