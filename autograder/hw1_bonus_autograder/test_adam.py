"""Bonus: Adam (mytorch/optim/adam.py), 5 points.

Expected values: torch.optim.Adam in float64 (fixtures/bonus.npz), bias
correction included, over several steps; gradients come from the probe loss
sum(y * R) or from cross-entropy, so only the models' HW1 layers and Adam are involved.
"""
import numpy as np

from autograder.helpers import assert_close, fixtures_beside
from autograder.probes import backprop, take_step
from autograder.replay import check_parameters_stay_leaves, replay
from mytorch.optim.adam import Adam
from mytorch.tensor import Tensor

fixture = fixtures_beside(__file__)


def test_linear_adam_update_formula():
    """Adam(lr=0.01) on two parameters over three steps, against the published update:
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g**2;
    W -= lr * (m / (1 - b1**t)) / (sqrt(v / (1 - b2**t)) + eps)."""
    rng = np.random.default_rng(73)
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    params = [Tensor(rng.normal(size=shape), requires_grad=True, is_parameter=True)
              for shape in ((3, 2), (4,))]
    optimizer = Adam(params, lr=lr, betas=(beta1, beta2), eps=eps)
    moments = [[np.zeros(p.shape), np.zeros(p.shape)] for p in params]
    for t in range(1, 4):
        expected, wrong = [], []
        for param, state in zip(params, moments):
            param.grad = None
            G = rng.normal(size=param.shape)
            backprop(param, G)                    # .grad = G, the way training sets it
            m, v = state
            m[...] = beta1 * m + (1 - beta1) * G
            v[...] = beta2 * v + (1 - beta2) * G * G
            W = param.data
            expected.append(W - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t))
                                                               + eps))
            fresh_m, fresh_v = (1 - beta1) * G, (1 - beta2) * G * G
            wrong.append([
                ("no bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t)",
                 W - lr * m / (np.sqrt(v) + eps)),
                ("the moments start from zero at every step: store m and v back (in place, "
                 "or into self.first_moments[i])",
                 W - lr * (fresh_m / (1 - beta1 ** t)) / (np.sqrt(fresh_v / (1 - beta2 ** t))
                                                          + eps)),
                ("step() did not change the parameter", W.copy())])
        take_step(optimizer)
        for index, param in enumerate(params):
            assert_close(param, expected[index], "params[{}] after step {} of Adam(lr=0.01)"
                         .format(index, t), alternatives=wrong[index])
    check_parameters_stay_leaves([("p{}".format(i), "params[{}]".format(i), p)
                                  for i, p in enumerate(params)], optimizer, "after Adam's step")


def test_linear_adam_model():
    """A Linear model trained by Adam(lr=0.01) for 5 steps."""
    replay(fixture("bonus", "adam_linear"))


def test_big_adam_model_with_cross_entropy():
    """Linear -> ReLU -> Linear -> ReLU -> Linear with cross-entropy, trained by
    Adam(lr=0.005, betas=(0.8, 0.99), eps=1e-3) for 8 steps (an eps large enough that where
    it goes matters)."""
    replay(fixture("bonus", "adam_big"))
