"""Replay a bonus fixture's steps on a MyTorch model, checking what PyTorch recorded.

A case (fixtures/bonus.npz, made by make_fixtures.py) names its layers, their
initial weights and, per step, the input, the probe loss sum(y * R) or the
labels of a cross-entropy loss, and everything PyTorch computed.  Before each
training forward the grader seeds ``np.random`` with the step's seed, so every
Dropout layer draws the course's mask: ``np.random.binomial(1, 1 - p, size)``.
"""
import re
from pathlib import Path

import numpy as np

from autograder.helpers import assert_close, check, fixture
from autograder.probes import backprop
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.dropout import Dropout
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.adam import Adam
from mytorch.tensor import Tensor

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures"
LAYERS = {"Linear": (Linear, int), "BatchNorm1d": (BatchNorm1d, int), "ReLU": (ReLU, int),
          "Dropout": (Dropout, float)}
PARAMETERS = {Linear: ("weight", "bias"), BatchNorm1d: ("gamma", "beta")}


def build(fx):
    """Sequential(...) of the case's layers with its initial weights; the model and
    [(fixture name, label, parameter Tensor)]."""
    layers = []
    for text in fx["layers"]:
        name, args = re.fullmatch(r"(\w+)\(([\d., ]*)\)", str(text)).groups()
        cls, kind = LAYERS[name]
        layers.append(cls(*[kind(a) for a in args.split(",") if a.strip()]))
    model = Sequential(*layers)
    params = []
    for index, layer in enumerate(layers):
        for attr in PARAMETERS.get(type(layer), ()):
            tensor = getattr(layer, attr)
            tensor.data = fx["init.layer{}.{}".format(index, attr)].copy()
            params.append(("layer{}.{}".format(index, attr),
                           "layers[{}].{}".format(index, attr), tensor))
    return model, layers, params


def replay(case, check_grads=True):
    """Run the case's steps: outputs, loss and running statistics always; the gradients
    when ``check_grads``; the parameters after Adam's step when the case trains with Adam."""
    fx = fixture("bonus", case, FIXTURE_DIR)
    model, layers, params = build(fx)
    settings = [float(v) for v in fx["adam"]]
    optimizer = None
    if settings:
        lr, beta1, beta2, eps = settings
        optimizer = Adam([t for _, _, t in params], lr=lr, betas=(beta1, beta2), eps=eps)
        kept = [getattr(optimizer, name, None) for name in ("lr", "betas", "eps")]
        check(kept[0] == lr and kept[1] is not None and tuple(kept[1]) == (beta1, beta2)
              and kept[2] == eps,
              "Adam(params, lr={}, betas=({}, {}), eps={}) should keep lr, betas and eps as "
              "attributes, got lr={!r}, betas={!r}, eps={!r}".format(
                  lr, beta1, beta2, eps, *kept))
    for step, kind in enumerate(str(k) for k in fx["kinds"]):
        key = "step{}.".format(step)
        x_data = fx[key + "x"]
        n = x_data.shape[0]
        where = "{} step {} ({} mode, batch of {})".format(case, step, kind, n)
        if kind == "eval":
            model.eval()
            y = model(Tensor(x_data.copy()))
            assert_close(y, fx[key + "y"], where + ": model output (eval mode: no dropout, "
                         "running statistics)")
            continue
        model.train()
        if optimizer is not None:
            optimizer.zero_grad()
        else:
            for _, _, tensor in params:
                tensor.grad = None
        x = Tensor(x_data.copy(), requires_grad=True)
        np.random.seed(int(fx[key + "seed"]))     # the Dropout masks come from np.random
        y = model(x)
        assert_close(y, fx[key + "y"], where + ": model output")
        for index, layer in enumerate(layers):
            if isinstance(layer, BatchNorm1d):
                for stat in ("mean", "var"):
                    assert_close(getattr(layer, "running_" + stat),
                                 fx["{}running.layer{}.{}".format(key, index, stat)],
                                 "{}: layers[{}].running_{}".format(where, index, stat))
        if key + "labels" in fx:
            loss = CrossEntropyLoss()(y, Tensor(fx[key + "labels"].copy()))
            assert_close(loss, fx[key + "loss"], where + ": CrossEntropyLoss", scalar=True)
            loss.backward()
        elif check_grads or optimizer is not None:
            backprop(y, fx[key + "R"])
        if check_grads:
            for name, label, tensor in params:
                assert_close(tensor.grad, fx[key + "grad." + name],
                             "{}: {}.grad".format(where, label), batch=n)
            assert_close(x.grad, fx[key + "grad.x"], where + ": gradient of the input x", batch=n)
        if optimizer is not None:
            before = {name: tensor.data.copy() for name, _, tensor in params}
            optimizer.step()
            for name, label, tensor in params:
                assert_close(tensor, fx[key + "after." + name],
                             "{}: {} after Adam's step {}".format(where, label, step + 1),
                             alternatives=[("step() did not change the parameter",
                                            before[name])])
                check(tensor.is_leaf and tensor.requires_grad,
                      "{}: {} is no longer a leaf that requires grad after step(): update "
                      "param.data outside the graph".format(where, label))
