"""Adam (HW1 bonus): the published update with bias correction, as torch.optim.Adam."""
import math

import numpy as np
import pytest

from mytorch import Tensor
from mytorch.autograd_engine import AccumulateGrad, BackwardFunction
from mytorch.nn.activations import ReLU
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.adam import Adam
from mytorch.optim.optimizer import Optimizer

from conftest import backward_with_gradient, parameter


class ReferenceAdam:
    """The paper's Algorithm 1 written out per parameter, in its own arrangement:
    W -= lr * m_hat / (sqrt(v_hat) + eps), with t counted per parameter."""

    def __init__(self, weights, lr, betas, eps, weight_decay):
        self.weights = [w.copy() for w in weights]
        self.lr, (self.beta1, self.beta2), self.eps, self.wd = lr, betas, eps, weight_decay
        self.m = [np.zeros_like(w) for w in self.weights]
        self.v = [np.zeros_like(w) for w in self.weights]
        self.t = [0] * len(self.weights)

    def step(self, grads):
        for i, g in enumerate(grads):
            if g is None:
                continue
            g = g + self.wd * self.weights[i]
            self.t[i] += 1
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g ** 2
            m_hat = self.m[i] / (1 - self.beta1 ** self.t[i])
            v_hat = self.v[i] / (1 - self.beta2 ** self.t[i])
            self.weights[i] = self.weights[i] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def run_both(rng, steps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             skip=lambda step, index: False):
    """Run Adam and the reference side by side; yield after every step."""
    shapes = [(4, 3), (3,), (2, 2)]
    params = [parameter(rng, *shape) for shape in shapes]
    reference = ReferenceAdam([p.data for p in params], lr, betas, eps, weight_decay)
    opt = Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    for step in range(steps):
        grads = [None if skip(step, i) else rng.standard_normal(p.shape)
                 for i, p in enumerate(params)]
        opt.zero_grad()
        used = [(p, g) for p, g in zip(params, grads) if g is not None]
        if used:
            backward_with_gradient(*zip(*used))
        opt.step()
        reference.step(grads)
        yield opt, params, reference


# --------------------------------------------------------------------------- #
# Attributes
# --------------------------------------------------------------------------- #
def test_adam_is_an_optimizer_with_the_courses_defaults(rng):
    opt = Adam([parameter(rng, 2)])
    assert isinstance(opt, Optimizer)
    assert opt.lr == 0.001 and opt.betas == (0.9, 0.999) and opt.eps == 1e-8
    assert opt.weight_decay == 0.0
    assert opt.t == 0


def test_adam_keeps_the_given_hyperparameters(rng):
    opt = Adam([parameter(rng, 2)], lr=0.03, betas=[0.8, 0.99], eps=1e-6, weight_decay=0.1)
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (0.03, (0.8, 0.99), 1e-6, 0.1)


def test_adam_has_zero_moments_per_parameter_with_its_shape(rng):
    params = [parameter(rng, 4, 3), parameter(rng, 3)]
    opt = Adam(params)
    for moments in (opt.first_moments, opt.second_moments):
        assert isinstance(moments, list) and len(moments) == 2
        for moment, p in zip(moments, params):
            assert moment.shape == p.shape and not np.any(moment)
    assert opt.step_counts == [0, 0]


def test_zero_grad_is_the_inherited_one():
    assert Adam.zero_grad is Optimizer.zero_grad


# --------------------------------------------------------------------------- #
# The update, against the NumPy reference (always runs)
# --------------------------------------------------------------------------- #
def test_first_step_moves_each_element_by_lr_against_its_gradient_sign():
    # After one step m_hat = g and v_hat = g**2, so W -= lr * g / (|g| + eps).
    w = Tensor(np.array([1.0, 1.0, 1.0]), requires_grad=True, is_parameter=True)
    opt = Adam([w], lr=0.1, eps=0.0)
    backward_with_gradient([w], [np.array([3.0, -0.002, 50.0])])
    opt.step()
    np.testing.assert_allclose(w.data, [0.9, 1.1, 0.9], rtol=1e-15)


def test_constant_gradient_keeps_steps_of_lr_thanks_to_bias_correction():
    # With g constant, m_hat = g and v_hat = g**2 at every t: each step is lr (eps = 0).
    # Without the correction the first steps would be (1 - beta1) / sqrt(1 - beta2) * lr.
    w = Tensor(np.array([0.0]), requires_grad=True, is_parameter=True)
    opt = Adam([w], lr=0.5, betas=(0.9, 0.999), eps=0.0)
    for step in range(1, 6):
        opt.zero_grad()
        (w * Tensor(np.array([2.0]))).sum().backward()
        opt.step()
        np.testing.assert_allclose(w.data, [-0.5 * step], rtol=1e-12)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_fifty_steps_match_the_published_algorithm(rng, weight_decay):
    for opt, params, reference in run_both(rng, 50, weight_decay=weight_decay):
        for p, w in zip(params, reference.weights):
            np.testing.assert_allclose(p.data, w, rtol=1e-10, atol=1e-12)
    for mine, theirs in ((opt.first_moments, reference.m), (opt.second_moments, reference.v)):
        for a, b in zip(mine, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert opt.t == 50 and opt.step_counts == [50, 50, 50]


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_a_parameter_without_gradient_on_some_steps_is_corrected_for_its_own_count(
        rng, weight_decay):
    def skip(step, index):             # parameter 1 sits out every third step
        return index == 1 and step % 3 == 0
    for opt, params, reference in run_both(rng, 50, weight_decay=weight_decay, skip=skip):
        for p, w in zip(params, reference.weights):
            np.testing.assert_allclose(p.data, w, rtol=1e-10, atol=1e-12)
    assert opt.t == 50
    assert opt.step_counts == [50, 33, 50]


def test_a_parameter_that_never_gets_a_gradient_is_untouched(rng):
    used, unused = parameter(rng, 2), parameter(rng, 3)
    before = unused.data.copy()
    opt = Adam([used, unused], lr=0.1, weight_decay=0.1)   # decay must not move it either
    for _ in range(3):
        opt.zero_grad()
        backward_with_gradient([used], [np.ones(2)])
        opt.step()
    np.testing.assert_array_equal(unused.data, before)
    assert not np.any(opt.first_moments[1]) and not np.any(opt.second_moments[1])
    assert opt.step_counts == [3, 0]


def test_step_before_any_backward_changes_nothing(rng):
    params = [parameter(rng, 2, 2), parameter(rng, 2)]
    before = [p.data.copy() for p in params]
    opt = Adam(params, lr=0.1)
    opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)
    assert opt.step_counts == [0, 0]


def test_weight_decay_adds_the_l2_gradient_without_changing_grad(rng):
    # One step with eps = 0: the update is lr * sign(g + wd * W).
    w = Tensor(np.array([2.0, -2.0]), requires_grad=True, is_parameter=True)
    opt = Adam([w], lr=0.1, eps=0.0, weight_decay=1.0)
    backward_with_gradient([w], [np.array([-1.0, -1.0])])    # g + W = [1, -3]
    opt.step()
    np.testing.assert_allclose(w.data, [1.9, -1.9], rtol=1e-15)
    np.testing.assert_array_equal(w.grad.data, [-1.0, -1.0])


def test_a_changed_lr_is_used_by_the_next_step():
    w = Tensor(np.array([0.0]), requires_grad=True, is_parameter=True)
    opt = Adam([w], lr=0.1, eps=0.0)
    w.sum().backward()
    opt.step()
    opt.lr = 0.0
    opt.step()
    np.testing.assert_allclose(w.data, [-0.1], rtol=1e-15)


# --------------------------------------------------------------------------- #
# Outside the graph
# --------------------------------------------------------------------------- #
def test_step_keeps_parameters_leaves_and_records_no_graph(rng):
    layer = Linear(3, 2)
    x = Tensor(rng.standard_normal((4, 3)))
    arrays = [p.data for p in layer.parameters()]
    opt = Adam(layer.parameters(), lr=0.1, weight_decay=0.01)
    for _ in range(2):
        opt.zero_grad()
        layer(x).sum().backward()
        opt.step()
    for p, array in zip(layer.parameters(), arrays):
        assert p.requires_grad and p.is_leaf and p.is_parameter
        assert p.grad_fn is None or isinstance(p.grad_fn, AccumulateGrad)
        assert not isinstance(p.grad_fn, BackwardFunction)
        assert p.data is array, "updated in place, like SGD"
    opt.zero_grad()
    layer(x).sum().backward()                      # training continues on the same leaves
    np.testing.assert_allclose(layer.weight.grad.data, np.ones((2, 4)) @ x.data, rtol=1e-14)


def test_step_bumps_the_version_so_a_graph_saved_before_it_fails_loudly(rng):
    w = parameter(rng, 3)
    out = (w * w).sum()                 # Mul saved w
    opt = Adam([w], lr=0.1)
    w.grad = Tensor(np.ones(3))
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        out.backward()


def test_adam_steps_reduce_the_loss_of_a_small_model(rng):
    np.random.seed(2)
    model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    x = Tensor(rng.standard_normal((16, 4)))
    labels = rng.integers(0, 3, 16)
    opt = Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = CrossEntropyLoss()(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("kwargs, name, shown", [
    ({"lr": -0.001}, "lr must be >= 0", "-0.001"),
    ({"lr": float("nan")}, "lr must be >= 0", "nan"),
    ({"lr": "0.1"}, "lr must be >= 0", "'0.1'"),
    ({"betas": (1.0, 0.999)}, "betas[0] (beta1) must lie in [0, 1)", "1.0"),
    ({"betas": (-0.1, 0.999)}, "betas[0] (beta1) must lie in [0, 1)", "-0.1"),
    ({"betas": (0.9, 1.0)}, "betas[1] (beta2) must lie in [0, 1)", "1.0"),
    ({"betas": (0.9, float("nan"))}, "betas[1] (beta2) must lie in [0, 1)", "nan"),
    ({"betas": (0.9, None)}, "betas[1] (beta2) must lie in [0, 1)", "None"),
    ({"betas": (0.9,)}, "betas must be a pair", "(0.9,)"),
    ({"betas": 0.9}, "betas must be a pair", "0.9"),
    ({"eps": -1e-8}, "eps must be >= 0", "-1e-08"),
    ({"weight_decay": -0.1}, "weight_decay must be >= 0", "-0.1"),
    ({"weight_decay": True}, "weight_decay must be >= 0", "True"),
])
def test_bad_hyperparameters_raise_a_value_error_naming_them(rng, kwargs, name, shown):
    with pytest.raises(ValueError) as info:
        Adam([parameter(rng, 2)], **kwargs)
    message = str(info.value)
    assert message.startswith("Adam: " + name), message
    assert message.endswith("got " + shown), message


def test_adam_accepts_hyperparameters_at_the_edges_of_their_ranges(rng):
    w = parameter(rng, 2)
    before = w.data.copy()
    opt = Adam([w], lr=0.0, betas=(0.0, 0.0), eps=0.0, weight_decay=0.0)
    w.grad = Tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(w.data, before)


def test_adam_rejects_an_empty_parameter_list():
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])


def test_adam_refuses_a_parameter_given_twice(rng):
    w = parameter(rng, 3)
    with pytest.raises(ValueError, match="Adam: parameter 1 is the same Tensor as parameter 0"):
        Adam([w, w])


def test_adam_names_a_gradient_of_the_wrong_shape(rng):
    w, b = parameter(rng, 2, 3), parameter(rng, 3)
    opt = Adam([w, b], lr=0.1)
    w.grad, b.grad = Tensor(np.ones((1, 3))), Tensor(np.ones(3))
    before = w.data.copy()
    with pytest.raises(ValueError) as info:
        opt.step()
    assert str(info.value).startswith("Adam.step: parameter 0 has shape (2, 3), but its .grad "
                                      "has shape (1, 3)")
    np.testing.assert_array_equal(w.data, before)
    assert not opt.first_moments[0].any() and opt.step_counts == [0, 0]


# --------------------------------------------------------------------------- #
# PyTorch float64 (optional oracle)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_fifty_steps_match_torch_including_a_parameter_that_sits_out(rng, weight_decay):
    torch = pytest.importorskip("torch")
    starts = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    params = [Tensor(s.copy(), requires_grad=True, is_parameter=True) for s in starts]
    tparams = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    opt = Adam(params, lr=0.01, betas=(0.8, 0.99), eps=1e-7, weight_decay=weight_decay)
    topt = torch.optim.Adam(tparams, lr=0.01, betas=(0.8, 0.99), eps=1e-7,
                            weight_decay=weight_decay)
    for step in range(50):
        grads = [rng.standard_normal(s.shape) for s in starts]
        used = [0, 1] if step % 4 else [0]          # the bias sits out every fourth step
        opt.zero_grad()
        topt.zero_grad()                            # set_to_none: torch skips it too
        backward_with_gradient([params[i] for i in used], [grads[i] for i in used])
        sum((tparams[i] * torch.tensor(grads[i])).sum() for i in used).backward()
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert opt.step_counts == [int(topt.state[tp]["step"]) for tp in tparams]


def test_training_an_mlp_matches_torch(rng):
    torch = pytest.importorskip("torch")
    np.random.seed(5)
    model = Sequential(Linear(6, 5), ReLU(), Linear(5, 3))
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(),
                                 torch.nn.Linear(5, 3)).double()
    with torch.no_grad():
        for layer, tlayer in ((model[0], tmodel[0]), (model[2], tmodel[2])):
            tlayer.weight.copy_(torch.tensor(layer.weight.data))
            tlayer.bias.copy_(torch.tensor(layer.bias.data))
    opt = Adam(model.parameters(), lr=0.01)
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    for _ in range(30):
        x, labels = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
        opt.zero_grad()
        CrossEntropyLoss()(model(Tensor(x)), labels).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tmodel(torch.tensor(x)),
                                          torch.tensor(labels)).backward()
        topt.step()
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_torch_gives_the_same_first_step_by_hand():
    # Guards the NumPy-only tests' by-hand expectation with the oracle.
    torch = pytest.importorskip("torch")
    tw = torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64, requires_grad=True)
    topt = torch.optim.Adam([tw], lr=0.1, eps=0.0)
    (tw * torch.tensor([3.0, -0.002, 50.0], dtype=torch.float64)).sum().backward()
    topt.step()
    np.testing.assert_allclose(tw.detach().numpy(), [0.9, 1.1, 0.9], rtol=1e-15)
    assert math.isclose(float(topt.state[tw]["step"]), 1.0)
