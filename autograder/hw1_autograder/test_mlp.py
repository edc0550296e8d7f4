"""Problems 2.1-2.6: Linear, ReLU, SGD, BatchNorm, cross-entropy, momentum.

Each test is a plain function (pytest runs them); runner.py scores them by the
name's prefix: test_linear_ -> 2.1, test_relu_ -> 2.2, test_sgd_ -> 2.3,
test_batchnorm_ -> 2.4, test_cross_entropy_ -> 2.5, test_momentum_ -> 2.6.

Expected values come from PyTorch (float64), stored in fixtures/mlp.npz by
make_fixtures.py: a model is built with MyTorch's classes, loaded with the
fixture's initial weights, and stepped through the fixture's batches; after
every step the outputs, loss, gradients, updated parameters and running
statistics must match.  Models without cross-entropy use loss = sum(y * R) for
a fixed random R, i.e. ``(y * Tensor(R)).backward()``.

One bug should cost one problem: only 2.3 and 2.6 call SGD (the BatchNorm and
cross-entropy tests load each step's updated weights themselves), and only 2.2
uses ReLU.  Everything from 2.2 on builds on Linear and Sequential (2.1).
"""
import re

import numpy as np

import mytorch.nn.functional as F
from autograder.helpers import (EXACT_ATOL, EXACT_RTOL, assert_close, assert_flags, check,
                                fixture)
from mytorch.autograd_engine import BackwardFunction, ContextManager
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

LAYERS = {"Linear": Linear, "BatchNorm1d": BatchNorm1d, "ReLU": ReLU}
PARAMETERS = {Linear: ("weight", "bias"), BatchNorm1d: ("gamma", "beta")}


# --------------------------------------------------------------------------- #
# Running a fixture's steps on a MyTorch model
# --------------------------------------------------------------------------- #
def _build(fx):
    """Sequential(...) of the fixture's layers, loaded with its initial weights.

    Returns the model and [(fixture name, label, parameter Tensor)]."""
    layers = []
    for text in fx["layers"]:
        name, args = re.fullmatch(r"(\w+)\(([\d, ]*)\)", str(text)).groups()
        layers.append(LAYERS[name](*[int(a) for a in args.split(",") if a.strip()]))
    model = Sequential(*layers)
    params = []
    for index, layer in enumerate(model.layers):
        for attr in PARAMETERS.get(type(layer), ()):
            tensor = getattr(layer, attr)
            tensor.data = fx["init.layer{}.{}".format(index, attr)].copy()
            params.append(("layer{}.{}".format(index, attr),
                           "layers[{}].{}".format(index, attr), tensor))
    return model, params


def _check_parameters_stay_leaves(params, optimizer, where):
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


def _run_steps(case):
    """Build the fixture's model and replay its steps, checking everything it recorded."""
    fx = fixture("mlp", case)
    model, params = _build(fx)
    update = str(fx["update"])
    optimizer = SGD([t for _, _, t in params], lr=float(fx["lr"]),
                    momentum=float(fx["momentum"])) if update == "sgd" else None
    running = {}
    for step, kind in enumerate(str(k) for k in fx["kinds"]):
        key = "step{}.".format(step)
        x_data = fx[key + "x"]
        where = "{} step {} ({}, batch of {})".format(case, step, kind, x_data.shape[0])
        if kind == "eval":
            model.eval()
            y = model(Tensor(x_data.copy()))
            assert_close(y, fx[key + "y"], where + ": model output in eval mode")
            for label, (layer, attr, value) in running.items():
                assert_close(getattr(layer, attr), value, "{}: {} (eval mode must not change it)"
                             .format(where, label))
            continue

        model.train()
        if optimizer is not None:
            optimizer.zero_grad()
        else:
            for _, _, tensor in params:
                tensor.grad = None
        x = Tensor(x_data.copy(), requires_grad=True)
        y = model(x)
        assert_close(y, fx[key + "y"], where + ": model output")
        if key + "labels" in fx:
            loss = CrossEntropyLoss()(y, Tensor(fx[key + "labels"].copy()))
            assert_close(loss, fx[key + "loss"], where + ": CrossEntropyLoss", scalar=True)
        else:
            loss = y * Tensor(fx[key + "R"].copy())
        loss.backward()
        assert_close(x.grad, fx[key + "grad.x"], where + ": gradient of the input x")
        for name, label, tensor in params:
            assert_close(tensor.grad, fx[key + "grad." + name], "{}: {}.grad".format(where, label))
        for index, layer in enumerate(model.layers):
            if isinstance(layer, BatchNorm1d):
                for stat in ("mean", "var"):
                    label = "layers[{}].running_{}".format(index, stat)
                    value = fx["{}running.layer{}.{}".format(key, index, stat)]
                    assert_close(getattr(layer, "running_" + stat), value,
                                 "{}: {}".format(where, label))
                    running[label] = (layer, "running_" + stat, value)

        if update == "sgd":
            optimizer.step()
            for name, label, tensor in params:
                assert_close(tensor, fx[key + "after." + name],
                             "{}: {} after optimizer.step()".format(where, label))
            _check_parameters_stay_leaves(params, optimizer, where + ", after optimizer.step()")
        elif update == "grader":           # the test applies the update: SGD is not under test
            for name, _, tensor in params:
                tensor.data = fx[key + "after." + name].copy()


# --------------------------------------------------------------------------- #
# 2.1 Linear (and the broadcasting Add it needs for the bias)
# --------------------------------------------------------------------------- #
def test_linear_add_broadcasts_bias():
    """(N, C) + (C,): the bias's gradient is summed over the batch (handout 2.1)."""
    rng = np.random.default_rng(60)
    A, B, G = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(5, 3))
    ctx = ContextManager()
    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    assert_close(F.Add.forward(ctx, a, b), A + B, "Add.forward(ctx, a (5, 3), b (3,))",
                 EXACT_RTOL, EXACT_ATOL)
    grads = F.Add.backward(ctx, Tensor(G.copy()))
    check(isinstance(grads, (tuple, list)) and len(grads) == 2,
          "Add.backward should return two gradients, got {!r}".format(grads))
    assert_close(grads[0], G, "Add.backward: gradient w.r.t. a (5, 3)")
    assert_close(grads[1], G.sum(axis=0), "Add.backward: gradient w.r.t. the broadcast b (3,)")

    a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
    (b + a).backward()
    assert_close(a.grad, np.ones((5, 3)), "a.grad after (b + a).backward(), a (5, 3)")
    assert_close(b.grad, np.full(3, 5.0), "b.grad after (b + a).backward(), b (3,) broadcast")


def test_linear_layer_shapes_and_flags():
    layer = Linear(7, 4)
    check(tuple(layer.weight.shape) == (4, 7),
          "Linear(7, 4).weight: shape (4, 7) expected, got {}".format(layer.weight.shape))
    check(tuple(layer.bias.shape) == (4,),
          "Linear(7, 4).bias: shape (4,) expected, got {}".format(layer.bias.shape))
    for name in ("weight", "bias"):
        assert_flags(getattr(layer, name), "Linear(7, 4)." + name, requires_grad=True,
                     is_leaf=True, is_parameter=True)


def test_linear_layer_forward_backward():
    _run_steps("linear_layer")


def test_linear_sequential_stack():
    _run_steps("linear_stack")


# --------------------------------------------------------------------------- #
# 2.2 ReLU
# --------------------------------------------------------------------------- #
def test_relu_forward_backward():
    """ReLU(z) = z for z > 0, else 0; ReLU'(z) = 1 for z > 0, else 0 (so 0 at z = 0)."""
    rng = np.random.default_rng(61)
    X = rng.normal(size=(4, 5))
    X[0, :3] = 0.0
    G = rng.normal(size=(4, 5))
    x = Tensor(X.copy(), requires_grad=True)
    y = ReLU()(x)
    assert_close(y, np.maximum(X, 0), "ReLU()(x)", EXACT_RTOL, EXACT_ATOL)
    assert_flags(y, "ReLU()(x)", requires_grad=True, is_leaf=False)
    (y * Tensor(G.copy())).backward()
    assert_close(x.grad, G * (X > 0), "x.grad through ReLU (zero where x <= 0)",
                 EXACT_RTOL, EXACT_ATOL)


def test_relu_in_sequential():
    _run_steps("relu_model")


# --------------------------------------------------------------------------- #
# 2.3 SGD
# --------------------------------------------------------------------------- #
def test_sgd_update_formula():
    """W <- W - lr * grad, for a parameter whose .grad is set by hand."""
    rng = np.random.default_rng(62)
    W, G = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    w = Tensor(W.copy(), requires_grad=True, is_parameter=True)
    optimizer = SGD([w], lr=0.3)
    w.grad = Tensor(G.copy())
    optimizer.step()
    assert_close(w, W - 0.3 * G, "parameter after SGD(lr=0.3).step()")
    _check_parameters_stay_leaves([("w", "w", w)], optimizer, "after step()")


def test_sgd_training_steps():
    _run_steps("sgd")


# --------------------------------------------------------------------------- #
# 2.4 BatchNorm
# --------------------------------------------------------------------------- #
def test_batchnorm_layer_init():
    layer = BatchNorm1d(4)
    for name, value in (("gamma", 1.0), ("beta", 0.0), ("running_mean", 0.0),
                        ("running_var", 1.0)):
        assert_close(getattr(layer, name), np.full(4, value), "BatchNorm1d(4)." + name)
    for name in ("gamma", "beta"):
        assert_flags(getattr(layer, name), "BatchNorm1d(4)." + name, requires_grad=True,
                     is_leaf=True, is_parameter=True)


def test_batchnorm_layer_train_eval():
    _run_steps("bn_layer")


def test_batchnorm_in_model_train_eval():
    _run_steps("bn_model")


# --------------------------------------------------------------------------- #
# 2.5 Cross-entropy
# --------------------------------------------------------------------------- #
def _check_cross_entropy(case, loss_function, what):
    fx = fixture("mlp", case)
    logits = Tensor(fx["logits"].copy(), requires_grad=True)
    loss = loss_function(logits, Tensor(fx["labels"].copy()))
    assert_close(loss, fx["loss"], what, scalar=True)
    loss.backward()
    assert_close(logits.grad, fx["grad"], "gradient of {} w.r.t. the logits".format(what))


def test_cross_entropy_loss_and_gradient():
    _check_cross_entropy("xe_values", F.cross_entropy, "F.cross_entropy(logits, labels)")


def test_cross_entropy_large_logits():
    """Logits of +-1000 and 1e4: exp() overflows unless the max is subtracted (Appendix B.1)."""
    _check_cross_entropy("xe_large", CrossEntropyLoss(), "CrossEntropyLoss() on large logits")


def test_cross_entropy_training_steps():
    _run_steps("xe_model")


# --------------------------------------------------------------------------- #
# 2.6 Momentum
# --------------------------------------------------------------------------- #
def test_momentum_update_formula():
    """delta <- momentum * delta - lr * grad; W <- W + delta (handout 2.6), three steps."""
    rng = np.random.default_rng(63)
    W = rng.normal(size=(2, 3))
    w = Tensor(W.copy(), requires_grad=True, is_parameter=True)
    optimizer = SGD([w], lr=0.1, momentum=0.9)
    delta = np.zeros_like(W)
    for step in range(3):
        G = rng.normal(size=(2, 3))
        w.grad = Tensor(G.copy())
        optimizer.step()
        delta = 0.9 * delta - 0.1 * G
        W = W + delta
        assert_close(w, W, "parameter after step {} of SGD(lr=0.1, momentum=0.9)".format(step + 1))
    _check_parameters_stay_leaves([("w", "w", w)], optimizer, "after step()")


def test_momentum_training_steps():
    _run_steps("momentum")
