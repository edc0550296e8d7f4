"""Optimizer and SGD with momentum (handout 2.3 and 2.6)."""
import numpy as np
import pytest

from mytorch import Tensor
from mytorch.autograd_engine import AccumulateGrad, BackwardFunction
from mytorch.nn.activations import ReLU
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.sequential import Sequential
from mytorch.optim.optimizer import Optimizer
from mytorch.optim.sgd import SGD

from conftest import backward_with_gradient, parameter


pytestmark = pytest.mark.numpy_seed(3)


def as_array(momentum):
    return np.asarray(momentum.data if isinstance(momentum, Tensor) else momentum)


# --------------------------------------------------------------------------- #
# Optimizer base class
# --------------------------------------------------------------------------- #
def test_optimizer_keeps_the_parameters_as_a_list(rng):
    a, b = parameter(rng, 2), parameter(rng, 3, 2)
    opt = Optimizer(iter([a, b]))                      # a generator/iterator is fine
    assert isinstance(opt.params, list)
    assert [id(p) for p in opt.params] == [id(a), id(b)]


def test_zero_grad_clears_gradients_so_the_next_backward_starts_fresh(rng):
    a = parameter(rng, 3)
    opt = SGD([a], lr=0.1)
    backward_with_gradient([a], [np.array([1.0, 2.0, 3.0])])
    opt.zero_grad()
    assert a.grad is None or not np.any(a.grad.data)
    backward_with_gradient([a], [np.array([5.0, 6.0, 7.0])])
    np.testing.assert_array_equal(a.grad.data, [5.0, 6.0, 7.0])


def test_without_zero_grad_gradients_accumulate(rng):
    a = parameter(rng, 2)
    backward_with_gradient([a], [np.array([1.0, 2.0])])
    backward_with_gradient([a], [np.array([10.0, 20.0])])
    np.testing.assert_array_equal(a.grad.data, [11.0, 22.0])


def test_optimizer_rejects_an_empty_parameter_list():
    with pytest.raises(ValueError):
        SGD([])
    with pytest.raises(ValueError):
        SGD(iter([]))


def test_sgd_of_a_model_without_registered_layers_fails_loudly():
    with pytest.raises(ValueError):
        SGD(Sequential(ReLU()).parameters())


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_refuses_a_parameter_given_twice(rng, momentum):
    """torch 2.13 warns and then updates it twice per step; its warning says this will
    become an error, so it is one here."""
    w, b = parameter(rng, 3), parameter(rng, 2)
    with pytest.raises(ValueError) as info:
        SGD([w, b, w], lr=0.1, momentum=momentum)
    message = str(info.value)
    assert "SGD: parameter 2 is the same Tensor as parameter 0" in message
    assert "twice" in message


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_a_gradient_of_the_wrong_shape_names_the_parameter_and_both_shapes(rng, momentum):
    w, b = parameter(rng, 2, 3), parameter(rng, 3)
    opt = SGD([w, b], lr=0.1, momentum=momentum)
    w.grad, b.grad = Tensor(np.ones((2, 3))), Tensor(np.ones(1))   # (1,) would broadcast
    before = [w.data.copy(), b.data.copy()]
    with pytest.raises(ValueError) as info:
        opt.step()
    assert str(info.value).startswith("SGD.step: parameter 1 has shape (3,), but its .grad has "
                                      "shape (1,)")
    np.testing.assert_array_equal(b.data, before[1])
    b.grad = Tensor(np.ones(3))
    opt.step()                                          # the right shape: steps again
    assert not np.array_equal(b.data, before[1])


# --------------------------------------------------------------------------- #
# SGD attributes
# --------------------------------------------------------------------------- #
def test_sgd_defaults_are_lr_0_001_and_no_momentum(rng):
    opt = SGD([parameter(rng, 2)])
    assert opt.lr == 0.001
    assert opt.momentum == 0.0


def test_sgd_has_one_zero_momentum_buffer_per_parameter_with_its_shape(rng):
    params = [parameter(rng, 4, 3), parameter(rng, 3), parameter(rng, 2, 5)]
    opt = SGD(params, lr=0.1, momentum=0.9)
    assert (opt.lr, opt.momentum) == (0.1, 0.9)
    assert len(opt.momentums) == len(params)
    for buffer, p in zip(opt.momentums, params):
        assert as_array(buffer).shape == p.shape
        assert not np.any(as_array(buffer))


# --------------------------------------------------------------------------- #
# step()
# --------------------------------------------------------------------------- #
def test_plain_sgd_step_is_w_minus_lr_times_grad(rng):
    a, b = parameter(rng, 3, 2), parameter(rng, 2)
    ga, gb = rng.standard_normal((3, 2)), rng.standard_normal(2)
    a0, b0 = a.data.copy(), b.data.copy()
    opt = SGD([a, b], lr=0.05)
    backward_with_gradient([a, b], [ga, gb])
    opt.step()
    np.testing.assert_allclose(a.data, a0 - 0.05 * ga, rtol=1e-15)
    np.testing.assert_allclose(b.data, b0 - 0.05 * gb, rtol=1e-15)


def test_plain_sgd_applies_each_steps_own_gradient(rng):
    a = parameter(rng, 3)
    expected = a.data.copy()
    opt = SGD([a], lr=0.2)
    for _ in range(3):
        g = rng.standard_normal(3)
        opt.zero_grad()
        backward_with_gradient([a], [g])
        opt.step()
        expected = expected - 0.2 * g
        np.testing.assert_allclose(a.data, expected, rtol=1e-14)


def test_momentum_sgd_follows_the_handout_update_over_three_steps(rng):
    # delta_k = beta * delta_{k-1} - lr * grad_k ;  W_k = W_{k-1} + delta_k
    lr, beta = 0.1, 0.8
    params = [parameter(rng, 2, 3), parameter(rng, 3)]
    weights = [p.data.copy() for p in params]
    deltas = [np.zeros(p.shape) for p in params]
    opt = SGD(params, lr=lr, momentum=beta)
    for _ in range(3):
        grads = [rng.standard_normal(p.shape) for p in params]
        opt.zero_grad()
        backward_with_gradient(params, grads)
        opt.step()
        for i, g in enumerate(grads):
            deltas[i] = beta * deltas[i] - lr * g
            weights[i] = weights[i] + deltas[i]
            np.testing.assert_allclose(params[i].data, weights[i], rtol=1e-14, atol=1e-15)
            np.testing.assert_allclose(as_array(opt.momentums[i]), deltas[i], rtol=1e-14,
                                       atol=1e-15)


def test_momentum_sgd_with_a_constant_gradient_by_hand():
    # W0 = 1, g = 1, lr = 0.5, beta = 0.5:
    # delta: -0.5, -0.75, -0.875 ; W: 0.5, -0.25, -1.125
    w = Tensor(np.array([1.0]), requires_grad=True, is_parameter=True)
    opt = SGD([w], lr=0.5, momentum=0.5)
    for expected in (0.5, -0.25, -1.125):
        opt.zero_grad()
        w.sum().backward()
        opt.step()
        np.testing.assert_allclose(w.data, [expected], rtol=1e-15)


def test_sgd_matches_torch_momentum_trajectory(rng):
    torch = pytest.importorskip("torch")
    start = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    w = Tensor(start.copy(), requires_grad=True, is_parameter=True)
    tw = torch.tensor(start.copy(), requires_grad=True)
    opt, topt = SGD([w], lr=0.03, momentum=0.9), torch.optim.SGD([tw], lr=0.03, momentum=0.9)
    for g in grads:
        opt.zero_grad()
        backward_with_gradient([w], [g])
        opt.step()
        topt.zero_grad()
        (tw * torch.tensor(g)).sum().backward()
        topt.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_sgd_step_keeps_parameters_trainable_leaves_outside_any_graph(rng):
    params = [parameter(rng, 3, 2), parameter(rng, 2)]
    opt = SGD(params, lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        backward_with_gradient(params, [rng.standard_normal(p.shape) for p in params])
        opt.step()
    for p in params:
        assert p.requires_grad is True and p.is_leaf is True and p.is_parameter is True
        assert p.grad_fn is None or isinstance(p.grad_fn, AccumulateGrad)
        assert not isinstance(p.grad_fn, BackwardFunction)


def test_sgd_step_does_not_touch_gradients_and_training_continues(rng):
    layer = Linear(3, 2)
    opt = SGD(layer.parameters(), lr=0.1, momentum=0.5)
    x = Tensor(rng.standard_normal((4, 3)))
    layer(x).sum().backward()
    grad_before = layer.weight.grad.data.copy()
    opt.step()
    np.testing.assert_array_equal(layer.weight.grad.data, grad_before)
    opt.zero_grad()
    layer(x).sum().backward()                        # a new graph through the updated weights
    np.testing.assert_allclose(layer.weight.grad.data, np.ones((2, 4)) @ x.data, rtol=1e-14)


def test_parameter_without_gradient_is_skipped(rng):
    used, unused = parameter(rng, 2), parameter(rng, 3)
    before = unused.data.copy()
    opt = SGD([used, unused], lr=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        backward_with_gradient([used], [np.ones(2)])
        opt.step()
    np.testing.assert_array_equal(unused.data, before)
    assert not np.any(as_array(opt.momentums[1]))


def test_parameter_whose_gradient_is_gone_is_not_moved_by_its_old_momentum(rng):
    a, b = parameter(rng, 2), parameter(rng, 2)
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    backward_with_gradient([a, b], [np.ones(2), np.ones(2)])
    opt.step()                                     # a now has a non-zero momentum
    after_first = a.data.copy()
    a.grad = b.grad = None
    backward_with_gradient([b], [np.ones(2)])      # a gets no gradient this time
    opt.step()
    np.testing.assert_array_equal(a.data, after_first)


def test_step_before_any_backward_changes_nothing(rng):
    params = [parameter(rng, 2, 2), parameter(rng, 2)]
    before = [p.data.copy() for p in params]
    opt = SGD(params, lr=0.1, momentum=0.9)
    opt.step()
    for p, b in zip(params, before):
        np.testing.assert_array_equal(p.data, b)
    for buffer in opt.momentums:
        assert not np.any(as_array(buffer))


def test_lr_zero_changes_nothing(rng):
    w = parameter(rng, 3)
    before = w.data.copy()
    opt = SGD([w], lr=0.0, momentum=0.5)
    backward_with_gradient([w], [np.ones(3)])
    opt.step()
    np.testing.assert_array_equal(w.data, before)


def test_momentum_buffers_are_independent_of_each_other(rng):
    a, b = parameter(rng, 2), parameter(rng, 2)
    opt = SGD([a, b], lr=1.0, momentum=0.5)
    backward_with_gradient([a, b], [np.array([1.0, 0.0]), np.array([0.0, 3.0])])
    opt.step()
    np.testing.assert_allclose(as_array(opt.momentums[0]), [-1.0, 0.0])
    np.testing.assert_allclose(as_array(opt.momentums[1]), [0.0, -3.0])


def test_sgd_steps_reduce_the_loss_of_a_small_model(rng):
    model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    x = Tensor(rng.standard_normal((16, 4)))
    labels = rng.integers(0, 3, 16)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.5)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = CrossEntropyLoss()(model(x), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("lr", [-0.001, -1.0, float("nan")])
def test_sgd_rejects_a_negative_learning_rate(rng, lr):
    with pytest.raises(ValueError):
        SGD([parameter(rng, 2)], lr=lr)


@pytest.mark.parametrize("momentum", [-0.1, 1.0, 1.5, float("nan")])
def test_sgd_rejects_momentum_outside_zero_to_one(rng, momentum):
    with pytest.raises(ValueError):
        SGD([parameter(rng, 2)], lr=0.1, momentum=momentum)


def test_sgd_accepts_momentum_at_the_edges_of_its_range(rng):
    SGD([parameter(rng, 2)], momentum=0.0)
    SGD([parameter(rng, 2)], momentum=0.999)


def test_a_parameter_whose_shape_changed_since_the_optimizer_was_made_says_so(rng):
    w = parameter(rng, 3)
    opt = SGD([w], lr=0.1, momentum=0.9)
    w.data = np.ones(4)                                 # the momentum buffer is (3,)
    w.grad = Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(4,\), but it had shape "
                                         r"\(3,\) when the optimizer was made"):
        opt.step()
