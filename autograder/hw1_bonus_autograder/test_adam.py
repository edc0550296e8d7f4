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


def _adam_steps(rng, weight_decay, skip):
    """Adam(lr=0.01, weight_decay) on two parameters over four steps against the published
    update; parameter ``skip[t]`` (if any) has no gradient at step t: it must not move, and
    its own step count (for the bias correction) must not advance."""
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    params = [Tensor(rng.normal(size=shape), requires_grad=True, is_parameter=True)
              for shape in ((3, 2), (4,))]
    optimizer = Adam(params, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    # per parameter: m, v, its own step count, and m, v without the weight decay
    states = [[np.zeros(p.shape), np.zeros(p.shape), 0, np.zeros(p.shape), np.zeros(p.shape)]
              for p in params]
    what = "Adam(lr=0.01{})".format(", weight_decay={:g}".format(weight_decay)
                                    if weight_decay else "")

    def update(W, m, v, t):
        return W - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)

    for t in range(1, 5):
        expected, wrong = [], []
        for index, (param, state) in enumerate(zip(params, states)):
            param.grad = None
            W = param.data.copy()
            m, v = state[0], state[1]
            if skip.get(t) == index:              # no gradient this step
                expected.append(W)
                wrong.append([("a parameter whose .grad is None was updated: skip it",
                               update(W, beta1 * m, beta2 * v, state[2] + 1))])
                continue
            G = rng.normal(size=param.shape)
            backprop(param, G)                    # .grad = G, the way training sets it
            g = G + weight_decay * W              # torch's Adam: L2 added to the gradient
            m[...] = beta1 * m + (1 - beta1) * g
            v[...] = beta2 * v + (1 - beta2) * g * g
            state[3][...] = beta1 * state[3] + (1 - beta1) * G
            state[4][...] = beta2 * state[4] + (1 - beta2) * G * G
            state[2] += 1
            own = state[2]
            expected.append(update(W, m, v, own))
            wrong.append([
                ("no bias correction: divide m by (1 - beta1**t) and v by (1 - beta2**t)",
                 W - lr * m / (np.sqrt(v) + eps)),
                ("the moments start from zero at every step: store m and v back (in place, "
                 "or into self.first_moments[i])",
                 update(W, (1 - beta1) * g, (1 - beta2) * g * g, own)),
                ("the bias correction used the optimizer's step count, not this parameter's "
                 "own (it missed a step without a gradient)", update(W, m, v, t)),
                ("the weight decay is missing: torch's Adam adds weight_decay * W to the "
                 "gradient", update(W, state[3], state[4], own)),
                ("step() did not change the parameter", W)])
        take_step(optimizer)
        for index, param in enumerate(params):
            assert_close(param, expected[index], "params[{}] after step {} of {}{}".format(
                index, t, what, " (its .grad is None this step)" if skip.get(t) == index
                else ""), alternatives=wrong[index])
    check_parameters_stay_leaves([("p{}".format(i), "params[{}]".format(i), p)
                                  for i, p in enumerate(params)], optimizer, "after Adam's step")


def test_linear_adam_update_formula():
    """The published update, over four steps; in step 3 a parameter has no gradient: it
    stays, and its bias correction counts only its own updates."""
    _adam_steps(np.random.default_rng(73), 0.0, skip={3: 1})


def test_linear_adam_weight_decay():
    """Adam with weight_decay = 0.1, torch's way: weight_decay * W added to the gradient."""
    _adam_steps(np.random.default_rng(74), 0.1, skip={})


def test_linear_adam_model():
    """A Linear model trained by Adam(lr=0.01) for 5 steps."""
    replay(fixture("bonus", "adam_linear"))


def test_big_adam_model_with_cross_entropy():
    """Linear -> ReLU -> Linear -> ReLU -> Linear with cross-entropy, trained by
    Adam(lr=0.005, betas=(0.8, 0.99), eps=1e-3) for 8 steps (an eps large enough that where
    it goes matters)."""
    replay(fixture("bonus", "adam_big"))
