"""A whole MLP training step: Linear + BatchNorm1d + ReLU + CrossEntropyLoss + SGD(momentum).

Checked three ways: against torch (optional), against an independent NumPy
implementation of the same network's forward, backward and update (always),
and with finite differences (always).
"""
import numpy as np
import pytest

from mytorch import Tensor, gradcheck, no_grad
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.sgd import SGD

LR, MOMENTUM, EPS, BN_MOMENTUM = 0.1, 0.9, 1e-5, 0.1
CLASSES = 30
TOL = dict(rtol=1e-10, atol=1e-10)


pytestmark = pytest.mark.numpy_seed(4)   # layers initialise from np.random


def build_model():
    return Sequential(Linear(10, 20), BatchNorm1d(20), ReLU(),
                      Linear(20, 30), BatchNorm1d(30), ReLU())


def batches(rng, count, low=2, high=17):
    """``count`` random batches of random size, with labels over all 30 classes."""
    out = []
    for _ in range(count):
        n = int(rng.integers(low, high))
        out.append((rng.standard_normal((n, 10)) * 2.0, rng.integers(0, CLASSES, n)))
    return out


# --------------------------------------------------------------------------- #
# An independent NumPy implementation of the same network
# --------------------------------------------------------------------------- #
class NumpyMLP:
    """Linear-BN-ReLU-Linear-BN-ReLU with cross-entropy and momentum SGD, by hand."""

    def __init__(self, model):
        lin1, bn1, _, lin2, bn2, _ = model.layers
        # copies of the initial values: from here on this object evolves on its own
        self.p = {"W1": lin1.weight.data.copy(), "b1": lin1.bias.data.copy(),
                  "g1": bn1.gamma.data.copy(), "be1": bn1.beta.data.copy(),
                  "W2": lin2.weight.data.copy(), "b2": lin2.bias.data.copy(),
                  "g2": bn2.gamma.data.copy(), "be2": bn2.beta.data.copy()}
        self.running = {1: [np.zeros(20), np.ones(20)], 2: [np.zeros(30), np.ones(30)]}
        self.velocity = {k: np.zeros_like(v) for k, v in self.p.items()}

    def _bn_forward(self, h, layer, train):
        gamma, beta = self.p["g%d" % layer], self.p["be%d" % layer]
        n = h.shape[0]
        if train:
            mean = h.sum(axis=0) / n
            var = ((h - mean) ** 2).sum(axis=0) / n
            unbiased = var * n / (n - 1)
            rm, rv = self.running[layer]
            self.running[layer] = [(1 - BN_MOMENTUM) * rm + BN_MOMENTUM * mean,
                                   (1 - BN_MOMENTUM) * rv + BN_MOMENTUM * unbiased]
        else:
            mean, var = self.running[layer]
        std = np.sqrt(var + EPS)
        x_hat = (h - mean) / std
        return gamma * x_hat + beta, (h, mean, std, x_hat, gamma)

    @staticmethod
    def _bn_backward(dy, cache, train):
        h, mean, std, x_hat, gamma = cache
        n = h.shape[0]
        d_gamma, d_beta = (dy * x_hat).sum(axis=0), dy.sum(axis=0)
        d_xhat = dy * gamma
        if not train:
            return d_xhat / std, d_gamma, d_beta
        d_var = (d_xhat * (h - mean)).sum(axis=0) * -0.5 / std ** 3
        d_mean = -(d_xhat / std).sum(axis=0) - 2.0 * d_var * (h - mean).sum(axis=0) / n
        return d_xhat / std + 2.0 * d_var * (h - mean) / n + d_mean / n, d_gamma, d_beta

    def forward_backward(self, x, labels, train):
        p, n = self.p, x.shape[0]
        h1 = x @ p["W1"].T + p["b1"]
        y1, c1 = self._bn_forward(h1, 1, train)
        a1 = np.maximum(y1, 0)
        h2 = a1 @ p["W2"].T + p["b2"]
        y2, c2 = self._bn_forward(h2, 2, train)
        out = np.maximum(y2, 0)

        shift = out.max(axis=1, keepdims=True)
        log_probs = out - shift - np.log(np.exp(out - shift).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(n), labels].mean()

        onehot = np.eye(CLASSES)[labels]
        d_out = (np.exp(log_probs) - onehot) / n
        d_y2 = d_out * (y2 > 0)
        d_h2, g2, be2 = self._bn_backward(d_y2, c2, train)
        grads = {"W2": d_h2.T @ a1, "b2": d_h2.sum(axis=0), "g2": g2, "be2": be2}
        d_y1 = (d_h2 @ p["W2"]) * (y1 > 0)
        d_h1, g1, be1 = self._bn_backward(d_y1, c1, train)
        grads.update({"W1": d_h1.T @ x, "b1": d_h1.sum(axis=0), "g1": g1, "be1": be1})
        d_x = d_h1 @ p["W1"]
        return out, loss, d_x, grads

    def sgd_step(self, grads):
        for k in self.p:
            self.velocity[k] = MOMENTUM * self.velocity[k] - LR * grads[k]
            self.p[k] = self.p[k] + self.velocity[k]


def named_tensors(model):
    lin1, bn1, _, lin2, bn2, _ = model.layers
    return {"W1": lin1.weight, "b1": lin1.bias, "g1": bn1.gamma, "be1": bn1.beta,
            "W2": lin2.weight, "b2": lin2.bias, "g2": bn2.gamma, "be2": bn2.beta}


def running_stats(model):
    _, bn1, _, _, bn2, _ = model.layers
    return {1: [bn1.running_mean.data, bn1.running_var.data],
            2: [bn2.running_mean.data, bn2.running_var.data]}


def mytorch_train_step(model, opt, x_data, labels):
    x = Tensor(x_data, requires_grad=True)
    out = model(x)
    loss = CrossEntropyLoss()(out, labels)
    opt.zero_grad()
    loss.backward()
    grads = {k: t.grad.data.copy() for k, t in named_tensors(model).items()}
    opt.step()
    return out.data, loss.item(), x.grad.data, grads


# --------------------------------------------------------------------------- #
# NumPy-only parity
# --------------------------------------------------------------------------- #
def test_mlp_training_and_evaluation_match_an_independent_numpy_implementation(rng):
    model = build_model()
    reference = NumpyMLP(model)
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    for x_data, labels in batches(rng, 6):
        out, loss, dx, grads = mytorch_train_step(model, opt, x_data, labels)
        r_out, r_loss, r_dx, r_grads = reference.forward_backward(x_data, labels, train=True)
        reference.sgd_step(r_grads)
        np.testing.assert_allclose(out, r_out, **TOL)
        np.testing.assert_allclose(loss, r_loss, **TOL)
        np.testing.assert_allclose(dx, r_dx, **TOL)
        for k, t in named_tensors(model).items():
            np.testing.assert_allclose(grads[k], r_grads[k], err_msg=k, **TOL)
            np.testing.assert_allclose(t.data, reference.p[k], err_msg=k, **TOL)
        for layer, (rm, rv) in running_stats(model).items():
            np.testing.assert_allclose(rm, reference.running[layer][0], **TOL)
            np.testing.assert_allclose(rv, reference.running[layer][1], **TOL)

    model.eval()
    frozen = {k: [a.copy() for a in v] for k, v in running_stats(model).items()}
    for x_data, labels in batches(rng, 3, low=1):
        with no_grad():
            out = model(Tensor(x_data))
            loss = CrossEntropyLoss()(out, labels)
        r_out, r_loss, _, _ = reference.forward_backward(x_data, labels, train=False)
        np.testing.assert_allclose(out.data, r_out, **TOL)
        np.testing.assert_allclose(loss.item(), r_loss, **TOL)
    for layer, stats in running_stats(model).items():
        for now, before in zip(stats, frozen[layer]):
            np.testing.assert_array_equal(now, before)


def test_mlp_eval_mode_gradients_match_the_numpy_implementation(rng):
    model = build_model()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    for x_data, labels in batches(rng, 3):
        mytorch_train_step(model, opt, x_data, labels)
    reference = NumpyMLP(model)
    reference.running = {k: [a.copy() for a in v] for k, v in running_stats(model).items()}
    model.eval()
    (x_data, labels), = batches(rng, 1)
    for t in model.parameters():
        t.grad = None
    x = Tensor(x_data, requires_grad=True)
    CrossEntropyLoss()(model(x), labels).backward()
    _, _, r_dx, r_grads = reference.forward_backward(x_data, labels, train=False)
    np.testing.assert_allclose(x.grad.data, r_dx, **TOL)
    for k, t in named_tensors(model).items():
        np.testing.assert_allclose(t.grad.data, r_grads[k], err_msg=k, **TOL)


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_mlp_gradients_pass_gradcheck(rng, mode):
    model = build_model()
    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    for x_data, labels in batches(rng, 2):          # move away from gamma=1, beta=0
        mytorch_train_step(model, opt, x_data, labels)
    if mode == "eval":
        model.eval()
    (x_data, labels), = batches(rng, 1, low=6, high=7)
    x = Tensor(x_data, requires_grad=True)
    params = model.parameters()
    assert len(params) == 8
    assert gradcheck(lambda x, *ps: CrossEntropyLoss()(model(x), labels), [x] + params)


# --------------------------------------------------------------------------- #
# torch parity
# --------------------------------------------------------------------------- #
def test_mlp_training_and_evaluation_match_torch(rng):
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = build_model()
    tmodel = nn.Sequential(nn.Linear(10, 20), nn.BatchNorm1d(20, eps=EPS, momentum=BN_MOMENTUM),
                           nn.ReLU(), nn.Linear(20, 30),
                           nn.BatchNorm1d(30, eps=EPS, momentum=BN_MOMENTUM), nn.ReLU()).double()
    pairs = list(zip(model.parameters(), tmodel.parameters()))
    assert len(pairs) == 8
    with torch.no_grad():
        for mine, theirs in pairs:
            assert mine.shape == tuple(theirs.shape)
            theirs.copy_(torch.tensor(mine.data))
    t_bns = [tmodel[1], tmodel[4]]
    bns = [model.layers[1], model.layers[4]]

    def check_running_stats():
        for bn, tbn in zip(bns, t_bns):
            np.testing.assert_allclose(bn.running_mean.data, tbn.running_mean.numpy(), **TOL)
            np.testing.assert_allclose(bn.running_var.data, tbn.running_var.numpy(), **TOL)

    opt = SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    topt = torch.optim.SGD(tmodel.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn, t_loss_fn = CrossEntropyLoss(), nn.CrossEntropyLoss()

    for x_data, labels in batches(rng, 6):
        x = Tensor(x_data, requires_grad=True)
        out = model(x)
        loss = loss_fn(out, labels)
        opt.zero_grad()
        loss.backward()

        tx = torch.tensor(x_data, requires_grad=True)
        tout = tmodel(tx)
        tloss = t_loss_fn(tout, torch.tensor(labels))
        topt.zero_grad()
        tloss.backward()

        np.testing.assert_allclose(out.data, tout.detach().numpy(), **TOL)
        np.testing.assert_allclose(loss.item(), tloss.item(), **TOL)
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), **TOL)
        for mine, theirs in pairs:
            np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), **TOL)
        check_running_stats()

        opt.step()
        topt.step()
        for mine, theirs in pairs:
            np.testing.assert_allclose(mine.data, theirs.detach().numpy(), **TOL)

    model.eval()
    tmodel.eval()
    for x_data, labels in batches(rng, 3, low=1):
        with no_grad():
            out = model(Tensor(x_data))
            loss = loss_fn(out, labels)
        with torch.no_grad():
            tout = tmodel(torch.tensor(x_data))
            tloss = t_loss_fn(tout, torch.tensor(labels))
        np.testing.assert_allclose(out.data, tout.numpy(), **TOL)
        np.testing.assert_allclose(loss.item(), tloss.item(), **TOL)
        check_running_stats()


# --------------------------------------------------------------------------- #
# End-to-end learning
# --------------------------------------------------------------------------- #
def three_blobs(rng, per_class=60):
    centers = np.array([[0.0, 3.0], [-2.6, -1.5], [2.6, -1.5]])
    x = np.concatenate([c + 0.6 * rng.standard_normal((per_class, 2)) for c in centers])
    y = np.repeat(np.arange(3), per_class)
    return x, y


def test_small_mlp_learns_a_separable_three_class_problem(rng):
    # 300 SGD steps on batches of 32: about 0.2 s
    x, y = three_blobs(rng)
    model = Sequential(Linear(2, 16), BatchNorm1d(16), ReLU(), Linear(16, 3))
    opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = CrossEntropyLoss()
    first_loss = None
    for step in range(300):
        idx = rng.choice(len(x), size=32, replace=False)
        loss = loss_fn(model(Tensor(x[idx])), y[idx])
        first_loss = loss.item() if first_loss is None else first_loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with no_grad():
        logits = model(Tensor(x)).data
        final_loss = loss_fn(Tensor(logits), y).item()
    accuracy = np.mean(logits.argmax(axis=1) == y)
    assert accuracy >= 0.95
    assert final_loss < 0.5 * first_loss
