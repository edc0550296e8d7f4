"""Replay a fixture's model steps on MyTorch, checking everything PyTorch recorded.

A model case (written by autograder/make_fixtures.py: see its docstring for the keys)
names its layers ("Linear(5, 7)"), their initial weights, its optimizer and, per step,
the input, the loss and every value PyTorch computed.  ``replay`` rebuilds the model
from the student's classes (the table ``LAYERS``: a new layer is one entry here and one
in make_fixtures.py), loads the weights and runs the steps: after each one the outputs,
the loss, the gradients, the running statistics and the updated parameters must match.
Before each training forward np.random is seeded with the step's seed, so every
Dropout layer draws the course's mask.
"""
import importlib
import re
from collections import namedtuple

import numpy as np

from autograder.helpers import assert_close, assert_flags, check
from autograder.probes import backprop, call_layer, take_step
from mytorch.autograd_engine import BackwardFunction
from mytorch.tensor import Tensor

Layer = namedtuple("Layer", "module cls argument params")
Layer.__doc__ = """Where the student's class lives ("mytorch.nn.linear", "Linear"), the type of
its constructor's arguments, and the names of its parameters.  The module is imported
only when a case uses the layer, so a homework's grader never needs a later one's files."""

LAYERS = {
    "Linear": Layer("mytorch.nn.linear", "Linear", int, ("weight", "bias")),
    "BatchNorm1d": Layer("mytorch.nn.batchnorm", "BatchNorm1d", int, ("gamma", "beta")),
    "ReLU": Layer("mytorch.nn.activations", "ReLU", int, ()),
    "Tanh": Layer("mytorch.nn.activations", "Tanh", int, ()),
    "Sigmoid": Layer("mytorch.nn.activations", "Sigmoid", int, ()),
    "Dropout": Layer("mytorch.nn.dropout", "Dropout", float, ()),
    "Conv1d": Layer("mytorch.nn.conv", "Conv1d", int, ("weight", "bias")),
    "Conv2d": Layer("mytorch.nn.conv", "Conv2d", int, ("weight", "bias")),
    "MaxPool2d": Layer("mytorch.nn.conv", "MaxPool2d", int, ()),
    "AvgPool2d": Layer("mytorch.nn.conv", "AvgPool2d", int, ()),
    "Flatten": Layer("mytorch.nn.conv", "Flatten", int, ()),
}


def layer_class(name):
    layer = LAYERS[name]
    return getattr(importlib.import_module(layer.module), layer.cls)


def build(fx, sequential=True, model=None):
    """The case's layers (in a Sequential unless ``sequential=False``: then the one layer
    alone), loaded with its initial weights.  ``model``: (module, its layers) built by
    the test itself (the student's CNN), whose layers are the case's: only loaded.

    Returns the model, its layers and [(fixture name, label, parameter Tensor)]."""
    if model is not None:
        model, layers = model[0], list(model[1])
    else:
        layers = []
        for text in fx["layers"]:
            name, args = re.fullmatch(r"(\w+)\(([\d., ]*)\)", str(text)).groups()
            kind = LAYERS[name]
            layers.append(layer_class(name)(*[kind.argument(a) for a in args.split(",")
                                              if a.strip()]))
        if sequential:
            Sequential = getattr(importlib.import_module("mytorch.nn.sequential"), "Sequential")
            model = Sequential(*layers)
        else:
            model = layers[0]
    params = []
    for index, text in enumerate(fx["layers"]):
        for attr in LAYERS[str(text).split("(")[0]].params:
            tensor = getattr(layers[index], attr)
            tensor.data = fx["init.layer{}.{}".format(index, attr)].copy()
            label = "layers[{}].{}".format(index, attr) if sequential else attr
            params.append(("layer{}.{}".format(index, attr), label, tensor))
    return model, layers, params


def make_optimizer(fx, params):
    """The student's optimizer the case trains with (None for "none" and "grader")."""
    kind = str(fx["optimizer"])
    tensors = [t for _, _, t in params]
    if kind == "sgd":
        from mytorch.optim.sgd import SGD
        return SGD(tensors, lr=float(fx["optimizer.lr"]), momentum=float(fx["optimizer.momentum"]))
    if kind == "adam":
        from mytorch.optim.adam import Adam
        lr, eps = float(fx["optimizer.lr"]), float(fx["optimizer.eps"])
        beta1, beta2 = (float(b) for b in fx["optimizer.betas"])
        optimizer = Adam(tensors, lr=lr, betas=(beta1, beta2), eps=eps)
        kept = [getattr(optimizer, name, None) for name in ("lr", "betas", "eps")]
        check(kept[0] == lr and kept[1] is not None and tuple(kept[1]) == (beta1, beta2)
              and kept[2] == eps,
              "Adam(params, lr={}, betas=({}, {}), eps={}) should keep lr, betas and eps as "
              "attributes, got lr={!r}, betas={!r}, eps={!r}".format(
                  lr, beta1, beta2, eps, *kept))
        return optimizer
    return None


def check_parameters_stay_leaves(params, optimizer, where):
    """After step(): still the model's leaf parameters, not nodes of a graph (handout 2.3)."""
    for _, label, tensor in params:
        assert_flags(tensor, "{}: {}".format(where, label), requires_grad=True, is_leaf=True,
                     is_parameter=True)
        check(not isinstance(tensor.grad_fn, BackwardFunction),
              "{}: {} has grad_fn {}: the update was recorded in the computational graph "
              "(change param.data with NumPy instead)".format(where, label, tensor.grad_fn))
    for index, param in enumerate(getattr(optimizer, "params", ())):
        check(any(param is tensor for _, _, tensor in params),
              "{}: optimizer.params[{}] is no longer one of the model's parameters: step() must "
              "update each parameter's .data, not replace the parameter".format(where, index))


def replay(fx, sequential=True, check_grads=True, model=None):
    """Build the model of ``fx`` (a model case: ``fixture("mlp", "sgd")``), or load the
    one given (``model``: see ``build``), and run its steps, checking everything it
    recorded.

    Step kinds: "train" (train mode, forward and backward), "eval" (eval mode,
    forward only), "eval-grad" (eval mode, forward and backward).  With
    ``check_grads=False`` a forward-only test checks the outputs, the loss and the
    running statistics, and backpropagates only when the case trains."""
    case = fx.label.partition(":")[2]
    model, layers, params = build(fx, sequential, model)
    optimizer = make_optimizer(fx, params)
    kind_of_update = str(fx["optimizer"])
    BatchNorm1d = layer_class("BatchNorm1d") if any(
        str(text).startswith("BatchNorm1d(") for text in fx["layers"]) else None
    running = {}
    for step, kind in enumerate(str(k) for k in fx["kinds"]):
        key = "step{}.".format(step)
        x_data = fx[key + "x"]
        n = x_data.shape[0]
        where = "{} step {} ({} mode, batch of {})".format(
            case, step, "eval" if kind.startswith("eval") else "train", n)
        if kind.startswith("eval"):
            model.eval()
        else:
            model.train()
        if optimizer is not None:
            optimizer.zero_grad()
        else:
            for _, _, tensor in params:
                tensor.grad = None
        x = Tensor(x_data.copy(), requires_grad=kind != "eval")
        if kind == "train":
            np.random.seed(int(fx[key + "seed"]))     # the Dropout masks come from np.random
        y = model(x) if sequential else call_layer(model, x)
        assert_close(y, fx[key + "y"], where + ": model output" + (
            " (eval mode: no dropout, running statistics)" if kind == "eval"
            and "Dropout" in " ".join(str(t) for t in fx["layers"]) else ""))
        for label, (layer, attr, value) in running.items():
            if kind.startswith("eval"):
                assert_close(getattr(layer, attr), value, "{}: {} (eval mode must not change it)"
                             .format(where, label), squeeze=True)
        if kind == "train" and BatchNorm1d is not None:
            for index, layer in enumerate(layers):
                if isinstance(layer, BatchNorm1d):
                    for stat in ("mean", "var"):
                        label = "{}running_{}".format("layers[{}].".format(index) if sequential
                                                      else "", stat)
                        value = fx["{}running.layer{}.{}".format(key, index, stat)]
                        buffer = getattr(layer, "running_" + stat)
                        assert_close(buffer, value, "{}: {}".format(where, label), squeeze=True)
                        check(not getattr(buffer, "requires_grad", False)
                              and getattr(buffer, "grad_fn", None) is None,
                              "{}: {} requires grad (it has grad_fn {}): the running statistics "
                              "were built from the batch inside the graph; they are not "
                              "parameters and must not require grad: compute them from x.data "
                              "with NumPy".format(where, label, getattr(buffer, "grad_fn", None)))
                        running[label] = (layer, "running_" + stat, value)
        if kind == "eval":
            continue
        if key + "labels" in fx:
            from mytorch.nn.loss import CrossEntropyLoss
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
            take_step(optimizer)
            after = "optimizer.step()" if kind_of_update == "sgd" else "Adam's step {}".format(
                step + 1)
            for name, label, tensor in params:
                assert_close(tensor, fx[key + "after." + name],
                             "{}: {} after {}".format(where, label, after),
                             alternatives=[("step() did not change the parameter",
                                            before[name])])
            check_parameters_stay_leaves(params, optimizer, where + ", after " + after)
        elif kind_of_update == "grader":    # the test applies the update: no optimizer under test
            for name, _, tensor in params:
                tensor.data = fx[key + "after." + name].copy()
