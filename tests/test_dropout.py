"""Dropout (HW1 bonus): the Function in nn/functional.py and the Module in nn/dropout.py."""
import warnings

import numpy as np
import pytest

import mytorch.nn.functional as F
from mytorch import Tensor, gradcheck, no_grad
from mytorch.nn.activations import ReLU
from mytorch.nn.dropout import Dropout
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.module import Module
from mytorch.nn.sequential import Sequential
from mytorch.optim.adam import Adam


pytestmark = pytest.mark.numpy_seed(None)    # masks come from np.random: restore it after


def course_mask(seed, p, shape):
    """The mask the course's convention draws after np.random.seed(seed)."""
    np.random.seed(seed)
    return np.random.binomial(1, 1 - p, size=shape)


def rng_fingerprint():
    """A draw that tells two global RNG states apart (and advances neither caller's copy)."""
    state = np.random.get_state()
    value = np.random.random_sample(4)
    np.random.set_state(state)
    return value


# --------------------------------------------------------------------------- #
# Training: the mask convention
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_seeded_forward_uses_the_courses_binomial_mask_and_scales_by_1_over_1_minus_p(rng, p):
    x = Tensor(rng.standard_normal((6, 7)))
    mask = course_mask(17, p, x.shape)
    np.random.seed(17)
    out = Dropout(p)(x)
    np.testing.assert_allclose(out.data, x.data * mask / (1 - p), rtol=1e-15)


def test_forward_draws_exactly_one_mask_from_the_global_stream(rng):
    x = Tensor(rng.standard_normal((5, 4)), requires_grad=True)
    course_mask(3, 0.3, x.shape)
    after_one_draw = rng_fingerprint()
    np.random.seed(3)
    Dropout(0.3)(x)
    np.testing.assert_array_equal(rng_fingerprint(), after_one_draw)


def test_each_forward_draws_a_fresh_mask(rng):
    x = Tensor(np.ones((20, 20)))
    np.random.seed(0)
    layer = Dropout(0.5)
    first, second = layer(x).data, layer(x).data
    assert not np.array_equal(first, second)
    np.random.seed(0)
    np.testing.assert_array_equal(layer(x).data, first)      # and the seed replays them


def test_survivors_are_scaled_and_about_p_of_the_elements_are_zeroed():
    x = Tensor(np.full((200, 100), 3.0))
    np.random.seed(1)
    out = Dropout(0.25)(x).data
    assert set(np.unique(out)) == {0.0, 4.0}                  # 3 / (1 - 0.25)
    assert abs(np.mean(out == 0) - 0.25) < 0.01               # 20,000 draws: sd ~0.003
    assert abs(out.mean() - 3.0) < 0.05                       # expectation preserved


# --------------------------------------------------------------------------- #
# Backward
# --------------------------------------------------------------------------- #
def test_backward_reuses_the_forward_mask_and_draws_nothing(rng):
    p = 0.4
    x = Tensor(rng.standard_normal((5, 6)), requires_grad=True)
    weights = rng.standard_normal((5, 6))
    mask = course_mask(8, p, x.shape)
    np.random.seed(8)
    out = Dropout(p)(x)
    state_after_forward = rng_fingerprint()
    (out * Tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.data, weights * mask / (1 - p), rtol=1e-15)
    np.testing.assert_array_equal(rng_fingerprint(), state_after_forward)


def test_gradcheck_with_the_mask_fixed_by_reseeding(rng):
    x = Tensor(rng.standard_normal((4, 5)), requires_grad=True)

    def dropout_of_a_nonlinear_function(t):
        np.random.seed(21)                       # the same mask for every evaluation
        return F.Tanh.apply(F.Dropout.apply(t * t, 0.3, True))

    assert gradcheck(dropout_of_a_nonlinear_function, x)


def test_gradcheck_would_catch_a_mask_missing_its_scale(rng, monkeypatch):
    # The gradcheck above can fail: a backward that forgets 1/(1-p) is caught.
    x = Tensor(rng.standard_normal((3, 3)), requires_grad=True)

    def unscaled_backward(ctx, grad_output):
        return F._grads(grad_output.data * (ctx.mask != 0), None, None)

    monkeypatch.setattr(F.Dropout, "backward", staticmethod(unscaled_backward))

    def fn(t):
        np.random.seed(21)
        return F.Dropout.apply(t, 0.5, True)

    with pytest.raises(AssertionError):
        gradcheck(fn, x)


# --------------------------------------------------------------------------- #
# p = 0 and p = 1
# --------------------------------------------------------------------------- #
def test_p_zero_in_training_is_the_identity_with_gradient_one(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    out = F.Dropout.apply(x, 0.0, True)
    np.testing.assert_array_equal(out.data, x.data)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((3, 4)))


def test_p_zero_still_draws_its_mask_so_the_stream_does_not_depend_on_p(rng):
    x = Tensor(rng.standard_normal((3, 4)))
    course_mask(9, 0.0, x.shape)
    after_one_draw = rng_fingerprint()
    np.random.seed(9)
    Dropout(0.0)(x)
    np.testing.assert_array_equal(rng_fingerprint(), after_one_draw)


def test_p_one_gives_zeros_and_a_zero_gradient_without_dividing_by_zero(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # no divide-by-zero RuntimeWarning
        out = Dropout(1.0)(x)
        out.sum().backward()
    assert np.array_equal(out.data, np.zeros((3, 4))) and np.all(np.isfinite(out.data))
    np.testing.assert_array_equal(x.grad.data, np.zeros((3, 4)))


# --------------------------------------------------------------------------- #
# Evaluation
# --------------------------------------------------------------------------- #
def test_module_in_eval_mode_returns_its_input_itself_and_draws_nothing(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    layer = Dropout(0.5).eval()
    before = rng_fingerprint()
    assert layer(x) is x
    np.testing.assert_array_equal(rng_fingerprint(), before)


def test_module_follows_train_and_eval_of_its_model(rng):
    x = Tensor(np.ones((10, 10)))
    model = Sequential(Dropout(0.5))
    assert model.eval()(x) is x
    np.random.seed(0)
    assert np.any(model.train()(x).data == 0)


def test_functional_dropout_outside_training_is_an_identity_node(rng):
    x = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    weights = rng.standard_normal((3, 4))
    before = rng_fingerprint()
    out = F.Dropout.apply(x, 0.5, False)
    np.testing.assert_array_equal(out.data, x.data)
    assert out.grad_fn is not None and out.grad_fn.function_name == "Dropout"
    (out * Tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.data, weights)
    np.testing.assert_array_equal(rng_fingerprint(), before)


def test_eval_mode_in_a_model_gives_the_model_without_dropout(rng):
    np.random.seed(6)
    model = Sequential(Linear(4, 6), ReLU(), Dropout(0.5), Linear(6, 2))
    plain = Sequential(model[0], model[1], model[3])
    x = Tensor(rng.standard_normal((5, 4)))
    with no_grad():
        np.testing.assert_array_equal(model.eval()(x).data, plain(x).data)


# --------------------------------------------------------------------------- #
# Errors and small things
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", None, True])
def test_a_p_that_is_not_a_probability_is_a_value_error_naming_it(p):
    with pytest.raises(ValueError, match=r"^Dropout: p must be a probability in \[0, 1\], "
                                         r"got " + repr(p).replace(".", r"\.") + "$"):
        Dropout(p)


@pytest.mark.parametrize("p", [-0.5, 2.0])
def test_functional_dropout_checks_p_too(rng, p):
    with pytest.raises(ValueError, match="Dropout: p must be a probability"):
        F.Dropout.apply(Tensor(np.ones(3)), p, True)


def test_a_p_made_invalid_after_construction_is_caught_at_forward():
    layer = Dropout(0.5)
    layer.p = 1.2
    with pytest.raises(ValueError, match="got 1.2"):
        layer(Tensor(np.ones(3)))


@pytest.mark.parametrize("train", [True, False])
def test_a_non_tensor_input_is_a_type_error_naming_dropout(train):
    layer = Dropout(0.5)
    layer.is_train = train
    with pytest.raises(TypeError, match="Dropout expects"):
        layer(np.ones(3))


def test_dropout_is_a_module_without_parameters():
    layer = Dropout(0.2)
    assert isinstance(layer, Module) and layer.parameters() == []
    assert layer.p == 0.2 and repr(layer) == "Dropout(p=0.2)"
    assert Dropout().p == 0.5


# --------------------------------------------------------------------------- #
# PyTorch float64 (optional oracle); torch's own RNG differs, so the same mask
# is applied to torch's tensors by hand where masks matter.
# --------------------------------------------------------------------------- #
def test_p_zero_p_one_and_eval_match_torch(rng):
    torch = pytest.importorskip("torch")
    data = rng.standard_normal((4, 5))
    for p, training in ((0.0, True), (1.0, True), (0.5, False)):
        tx = torch.tensor(data, requires_grad=True)
        tout = torch.nn.functional.dropout(tx, p=p, training=training)
        tout.sum().backward()
        x = Tensor(data.copy(), requires_grad=True)
        out = F.Dropout.apply(x, p, training)
        out.sum().backward()
        np.testing.assert_array_equal(out.data, tout.detach().numpy())
        np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_torch_dropout_scales_its_survivors_the_same_way(rng):
    # Which elements survive differs (torch's RNG), but a survivor is x / (1 - p) in both.
    torch = pytest.importorskip("torch")
    data = rng.standard_normal((50, 40)) + 5.0
    tout = torch.nn.functional.dropout(torch.tensor(data), p=0.3, training=True).numpy()
    np.random.seed(2)
    out = F.Dropout.apply(Tensor(data), 0.3, True).data
    for result in (out, tout):
        kept = result != 0
        np.testing.assert_allclose(result[kept], data[kept] / 0.7, rtol=1e-15)


def test_an_mlp_with_two_dropouts_trained_by_adam_matches_torch_with_the_same_masks(rng):
    # Linear-ReLU-Dropout-Linear-ReLU-Dropout with cross-entropy and Adam, over 5 steps
    # (the shape of the bonus grader's big Dropout test).
    torch = pytest.importorskip("torch")
    p = 0.3
    np.random.seed(12)
    model = Sequential(Linear(6, 8), ReLU(), Dropout(p), Linear(8, 5), ReLU(), Dropout(p))
    tlinears = [torch.nn.Linear(6, 8).double(), torch.nn.Linear(8, 5).double()]
    with torch.no_grad():
        for layer, tlayer in zip((model[0], model[3]), tlinears):
            tlayer.weight.copy_(torch.tensor(layer.weight.data))
            tlayer.bias.copy_(torch.tensor(layer.bias.data))
    tparams = [q for tlayer in tlinears for q in tlayer.parameters()]
    opt, topt = Adam(model.parameters(), lr=0.01), torch.optim.Adam(tparams, lr=0.01)
    for _ in range(5):
        x, labels = rng.standard_normal((7, 6)), rng.integers(0, 5, 7)
        state = np.random.get_state()
        opt.zero_grad()
        loss = CrossEntropyLoss()(model(Tensor(x)), labels)
        loss.backward()
        opt.step()
        np.random.set_state(state)                   # the masks the two layers drew
        masks = [torch.tensor(np.random.binomial(1, 1 - p, size=(7, n)) / (1 - p))
                 for n in (8, 5)]
        topt.zero_grad()
        h = torch.relu(tlinears[0](torch.tensor(x))) * masks[0]
        tout = torch.relu(tlinears[1](h)) * masks[1]
        tloss = torch.nn.functional.cross_entropy(tout, torch.tensor(labels))
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
        for q, tq in zip(model.parameters(), tparams):
            np.testing.assert_allclose(q.data, tq.detach().numpy(), rtol=1e-10, atol=1e-12)
