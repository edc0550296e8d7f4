"""Problems 2.1-2.6: Linear, ReLU, SGD, BatchNorm, cross-entropy, momentum.

Each test is a plain function (pytest runs them); runner.py scores them by the
name's prefix: test_linear_ -> 2.1, test_relu_ -> 2.2, test_sgd_ -> 2.3,
test_batchnorm_ -> 2.4, test_cross_entropy_ -> 2.5, test_momentum_ -> 2.6.

Isolation (autograder/problems.py): each problem's own tests run its code, the
engine (1.2) and the grader's code only.  Layers are tested alone; gradients
flow back from the grader's probe loss sum(y * R) (autograder/probes.py), never
through the student's Mul; SGD and momentum step on gradients that backward()
of the probe loss put straight into the parameters, through no layer.  The
whole-model tests (``@builds_on("2.1")``) also run Linear and Sequential, so
they count only when 2.1 passes.

Expected values are the handout's formulas in NumPy, or PyTorch's (float64, in
fixtures/mlp.npz, made by make_fixtures.py): a model is built with MyTorch's
classes, loaded with the fixture's initial weights and stepped through the
fixture's batches; after every step the outputs, loss, gradients, updated
parameters and running statistics must match.
"""
import numpy as np

import mytorch.nn.functional as F
from autograder.helpers import (assert_close, assert_flags, builds_on,
                                check, fixtures_beside)
from autograder.probes import (backprop, call_layer, call_op, gradient, scale, take_step,
                               sum_to_shape)
from autograder.replay import check_parameters_stay_leaves, replay
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.optim.sgd import SGD
from mytorch.tensor import Tensor

fixture = fixtures_beside(__file__)


def _run_steps(case, sequential=True):
    """Replay the mlp.npz case on the student's classes (autograder/replay.py)."""
    replay(fixture("mlp", case), sequential)


# --------------------------------------------------------------------------- #
# 2.1 Linear, Sequential, and the broadcasting Add they need
# --------------------------------------------------------------------------- #
# (N, C) and what it is added to: a prepended axis, stretched size-1 axes, a 0-d tensor
BROADCASTS = [((5, 3), (3,)), ((3,), (5, 3)), ((5, 3), (1, 3)), ((5, 3), (5, 1)),
              ((5, 1), (1, 3)), ((5, 3), ()), ((), (5, 3)), ((2, 5, 3), (5, 1))]


def test_linear_add_broadcasts():
    """Add.forward / Add.backward for every broadcasting pattern (handout 2.1: "modify Add
    to support tensors with different shapes"): each gradient summed back to its input's shape."""
    rng = np.random.default_rng(60)
    for a_shape, b_shape in BROADCASTS:
        A, B = rng.normal(size=a_shape), rng.normal(size=b_shape)
        G = rng.normal(size=np.broadcast(A, B).shape)
        a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
        what = "Add with a {} and b {}".format(a_shape, b_shape)
        out, grads = call_op(F.Add, a, b, grad=G)
        assert_close(out, A + B, what + ": forward")
        for index, name, shape in ((0, "a", a_shape), (1, "b", b_shape)):
            assert_close(gradient(grads, index, "Add", 2), sum_to_shape(G, shape),
                         "{}: backward, gradient w.r.t. {} {}".format(what, name, shape))


def test_linear_add_broadcasts_in_a_graph():
    """a + b with a (N, C) and b (C,) or (1, C) or (N, 1), through the engine."""
    rng = np.random.default_rng(61)
    for a_shape, b_shape in BROADCASTS[:5]:
        A, B = rng.normal(size=a_shape), rng.normal(size=b_shape)
        R = rng.normal(size=np.broadcast(A, B).shape)
        a, b = Tensor(A.copy(), requires_grad=True), Tensor(B.copy(), requires_grad=True)
        backprop(a + b, R)
        for name, tensor, shape in (("a", a, a_shape), ("b", b, b_shape)):
            assert_close(tensor.grad, sum_to_shape(R, shape),
                         "{}.grad after backward from sum(R * (a + b)), a {} and b {}"
                         .format(name, a_shape, b_shape))


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
    """Linear(7, 4) and Linear(6, 6) alone (a square layer, with a weight that is not
    symmetric, tells W from W^T by value), batches of 1, 5 and 12: x W^T + b and the
    three gradients."""
    rng = np.random.default_rng(62)
    for n_in, n_out in ((7, 4), (6, 6)):
        layer = Linear(n_in, n_out)
        W, b = rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
        layer.weight.data, layer.bias.data = W.copy(), b.copy()
        for n in (1, 5, 12):
            X, R = rng.normal(size=(n, n_in)), rng.normal(size=(n, n_out))
            layer.weight.grad = layer.bias.grad = None
            x = Tensor(X.copy(), requires_grad=True)
            y = call_layer(layer, x)
            where = "Linear({}, {}) on a batch of {}".format(n_in, n_out, n)
            square = n_in == n_out
            assert_close(y, X @ W.T + b, where + ": output x W^T + b",
                         alternatives=[("the bias is missing", X @ W.T)] + (
                             [("x W + b: the weight is not transposed", X @ W + b)]
                             if square else []))
            backprop(y, R)
            assert_close(x.grad, R @ W, where + ": gradient of the input x",
                         alternatives=[("grad @ W^T: use grad @ W", R @ W.T)] if square else ())
            assert_close(layer.weight.grad, R.T @ X, where + ": weight.grad")
            assert_close(layer.bias.grad, R.sum(axis=0),
                         where + ": bias.grad (summed over the batch)", batch=n)


def test_linear_sequential_stack():
    _run_steps("linear_stack")


# --------------------------------------------------------------------------- #
# 2.2 ReLU
# --------------------------------------------------------------------------- #
def test_relu_function():
    """F.ReLU.forward and F.ReLU.backward called directly: values, and nothing changed in
    place (an in-place ReLU passes a model test and corrupts whatever else reads its input)."""
    rng = np.random.default_rng(66)
    for shape in ((4, 5), (7,)):
        X, G = rng.normal(size=shape), rng.normal(size=shape)
        X.reshape(-1)[:2] = 0.0
        out, grads = call_op(F.ReLU, Tensor(X.copy(), requires_grad=True), grad=G)
        where = "F.ReLU on x {} with some zeros".format(shape)
        assert_close(out, np.maximum(X, 0), where + ": forward")
        assert_close(gradient(grads, 0, "ReLU", 1), G * (X > 0), where + ": backward",
                     alternatives=[("every gradient passed through: zero it where x <= 0", G),
                                   ("the gradient at x == 0 should be 0", G * (X >= 0))])


def test_relu_forward_backward():
    """ReLU(z) = z for z > 0, else 0; ReLU'(z) = 1 for z > 0, else 0 (so 0 at z = 0)."""
    rng = np.random.default_rng(63)
    for shape in ((4, 5), (1, 3), (6,)):
        X = rng.normal(size=shape)
        X.reshape(-1)[:3] = 0.0
        R = rng.normal(size=shape)
        x = Tensor(X.copy(), requires_grad=True)
        y = call_layer(ReLU(), x)
        where = "ReLU()(x), x {} with some zeros".format(shape)
        assert_close(y, np.maximum(X, 0), where)
        check(np.array_equal(x.data, X), where + ": x.data changed in place: leave the input "
              "as it is and return a new Tensor")
        assert_flags(y, where, requires_grad=True, is_leaf=False,
                     why="an op's output requires grad and is not a leaf when an input "
                         "requires grad (Appendix A); set them on the output, in forward as "
                         "the given Add does, or in Function.apply, and never copy is_leaf "
                         "from the input, which would cut the graph here")
        backprop(y, R)
        check(np.array_equal(x.data, X), where + ": x.data changed in place by backward")
        assert_close(x.grad, R * (X > 0), "{}: x.grad (the upstream gradient where x > 0, "
                                          "else 0; 0 at x = 0)".format(where),
                     alternatives=[("every gradient passed through: zero it where x <= 0", R),
                                   ("the upstream gradient was ignored", (X > 0) * 1.0),
                                   ("the gradient at x == 0 should be 0", R * (X >= 0))])


@builds_on("2.1")
def test_relu_in_sequential():
    _run_steps("relu_model")


# --------------------------------------------------------------------------- #
# 2.3 SGD
# --------------------------------------------------------------------------- #
def _parameters(rng, *shapes):
    return [Tensor(rng.normal(size=shape), requires_grad=True, is_parameter=True)
            for shape in shapes]


def _gradients(params, rng):
    """Give each parameter a random gradient G the way training does: backward() of the
    grader's loss sum(W * G), not through any layer."""
    grads = []
    for param in params:
        param.grad = None
        grads.append(rng.normal(size=param.shape))
        backprop(param, grads[-1])
    return grads


def test_sgd_update_formula():
    """W <- W - lr * grad for every parameter, over three steps (no layer involved); in the
    last one a parameter has no gradient (.grad None) and must stay as it is."""
    rng = np.random.default_rng(64)
    params = _parameters(rng, (3, 2), (4,))
    optimizer = SGD(params, lr=0.3)
    labelled = [("p{}".format(i), "params[{}]".format(i), p) for i, p in enumerate(params)]
    for step in range(3):
        grads = _gradients(params, rng)
        if step == 2:
            params[1].grad = None
        expected = [(param.data.copy(), param.data - 0.3 * G if param.grad is not None
                     else param.data.copy()) for param, G in zip(params, grads)]
        take_step(optimizer)
        for index, (param, (before, after)) in enumerate(zip(params, expected)):
            untouched = step == 2 and index == 1
            assert_close(param, after, "params[{}] after step {} of SGD(lr=0.3){}".format(
                index, step + 1, " (its .grad is None: it must not move)" if untouched else ""),
                alternatives=[] if untouched else [
                    ("step() did not change the parameter", before),
                    ("the step went uphill: W - lr * grad", 2 * before - after)])
        check_parameters_stay_leaves(labelled, optimizer, "after step()")


@builds_on("2.1")
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
    """BatchNorm1d(4) alone: train steps (batch statistics, running statistics), eval steps
    (running statistics as constants), with backward in both modes."""
    _run_steps("bn_layer", sequential=False)


def test_batchnorm_small_variance():
    """BatchNorm1d(3) in training mode on inputs whose variance (about 1.6e-5) is close to
    eps = 1e-5, where eps visibly matters: the output and the gradient of x."""
    rng = np.random.default_rng(67)
    X, R = rng.normal(size=(8, 3)) * 0.004 + 1.0, rng.normal(size=(8, 3))
    x = Tensor(X.copy(), requires_grad=True)
    y = call_layer(BatchNorm1d(3), x)
    centered, var = X - X.mean(axis=0), X.var(axis=0)
    where = "BatchNorm1d(3) in training mode, x of variance ~1.6e-5"
    assert_close(y, centered / np.sqrt(var + 1e-5), where + ": output (gamma 1, beta 0)",
                 alternatives=[
                     ("eps is missing: normalize by sqrt(var + eps), eps = 1e-5",
                      centered / np.sqrt(var)),
                     ("eps is added outside the square root: use sqrt(var + eps)",
                      centered / (np.sqrt(var) + 1e-5)),
                     ("normalized with the unbiased variance (n - 1 is for running_var only)",
                      centered / np.sqrt(X.var(axis=0, ddof=1) + 1e-5))])
    backprop(y, R)
    inv_std, x_hat = 1 / np.sqrt(var + 1e-5), centered / np.sqrt(var + 1e-5)
    n = X.shape[0]
    grad = inv_std / n * (n * R - R.sum(axis=0) - x_hat * (R * x_hat).sum(axis=0))
    assert_close(x.grad, grad, where + ": gradient of x (through the batch mean and variance)",
                 batch=n, alternatives=[("the batch mean and variance were treated as "
                                         "constants in backward", R * inv_std)])


@builds_on("2.1")
def test_batchnorm_in_model_train_eval():
    _run_steps("bn_model")


# --------------------------------------------------------------------------- #
# 2.5 Cross-entropy
# --------------------------------------------------------------------------- #
# 2.5 goes through CrossEntropyLoss (nn/loss.py), as the course's tests do: the handout
# lets cross-entropy be a function built from ops (F.cross_entropy) or a Function
# subclass that CrossEntropyLoss calls, and both routes must pass.
XE = "CrossEntropyLoss()(logits, labels)"


def _clipped_loss(logits, labels):
    """The loss of the typical log(p + 1e-10), which caps each row's loss at about 23."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(labels)), labels] + 1e-10).mean()


def _check_cross_entropy(case, factor=None, about=""):
    fx = fixture("mlp", case)
    n = fx["logits"].shape[0]
    logits = Tensor(fx["logits"].copy(), requires_grad=True)
    loss = CrossEntropyLoss()(logits, Tensor(fx["labels"].copy()))
    assert_close(loss, fx["loss"], "{} on {} rows{}: the loss".format(XE, n, about), scalar=True,
                 batch=n, alternatives=[
                     ("the loss is clipped: log(p + 1e-10) caps each row's loss at about 23; "
                      "use log-softmax = x - max - log(sum(exp(x - max))) (Appendix B.1)",
                      _clipped_loss(fx["logits"], fx["labels"]))])
    if factor is None:
        loss.backward()
        assert_close(logits.grad, fx["grad"], "{}: gradient w.r.t. the logits".format(XE),
                     batch=n)
        return
    scale(loss, factor).backward()
    assert_close(logits.grad, factor * fx["grad"], "{0}: gradient w.r.t. the logits, backward "
                 "from {1} * loss".format(XE, factor), batch=n,
                 alternatives=[("the upstream gradient ({}) was ignored: multiply by "
                                "grad_output".format(factor), fx["grad"])])


def test_cross_entropy_loss_and_gradient():
    _check_cross_entropy("xe_values")


def test_cross_entropy_scaled_upstream_gradient():
    _check_cross_entropy("xe_values", 2.5)


def test_cross_entropy_loss_used_twice():
    fx = fixture("mlp", "xe_batch")
    logits = Tensor(fx["logits"].copy(), requires_grad=True)
    loss = CrossEntropyLoss()(logits, Tensor(fx["labels"].copy()))
    (loss + scale(loss, 0.5)).backward()
    assert_close(logits.grad, 1.5 * fx["grad"], "gradient w.r.t. the logits of loss + 0.5 * loss",
                 batch=fx["logits"].shape[0],
                 alternatives=[("the upstream gradient was ignored", 2 * fx["grad"])])


def test_cross_entropy_larger_batch():
    _check_cross_entropy("xe_batch")


def test_cross_entropy_large_logits():
    """Logits of +-1000 and 1e4: exp() overflows unless the max is subtracted (Appendix B.1)."""
    _check_cross_entropy("xe_large", about=" of large logits (exp overflows unless each row's "
                         "max is subtracted first: the log-sum-exp trick, Appendix B.1)")


@builds_on("2.1")
def test_cross_entropy_training_steps():
    _run_steps("xe_model")


# --------------------------------------------------------------------------- #
# 2.6 Momentum
# --------------------------------------------------------------------------- #
def test_momentum_update_formula():
    """delta <- momentum * delta - lr * grad; W <- W + delta (handout 2.6), five steps; in
    the fifth a parameter has no gradient (.grad None): it and its delta stay as they are,
    as in PyTorch."""
    rng = np.random.default_rng(65)
    params = _parameters(rng, (2, 3), (5,))
    optimizer = SGD(params, lr=0.1, momentum=0.9)
    weights = [p.data.copy() for p in params]
    deltas = [np.zeros(p.shape) for p in params]
    labelled = [("p{}".format(i), "params[{}]".format(i), p) for i, p in enumerate(params)]
    for step in range(5):
        plain, coasting = [], []
        grads = _gradients(params, rng)
        if step == 4:
            params[0].grad = None
        for index, G in enumerate(grads):
            plain.append(weights[index] - 0.1 * G)
            coasting.append(weights[index] + 0.9 * deltas[index])
            if params[index].grad is None:
                continue
            deltas[index] = 0.9 * deltas[index] - 0.1 * G
            weights[index] = weights[index] + deltas[index]
        take_step(optimizer)
        for index, param in enumerate(params):
            untouched = step == 4 and index == 0
            assert_close(param, weights[index], "params[{}] after step {} of SGD(lr=0.1, "
                         "momentum=0.9){}".format(index, step + 1, " (its .grad is None: it "
                                                  "must not move)" if untouched else ""),
                         alternatives=[("it kept moving by its momentum: skip a parameter "
                                        "whose .grad is None", coasting[index])] if untouched
                         else [("plain SGD: the momentum term is missing (keep each "
                                "parameter's delta in self.momentums between steps)",
                                plain[index])] if step else ())
    check_parameters_stay_leaves(labelled, optimizer, "after step()")


@builds_on("2.1")
def test_momentum_training_steps():
    _run_steps("momentum")
