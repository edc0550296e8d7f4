"""BatchNorm1d (handout 2.4, eqs. 3-9, and Appendix C)."""
import numpy as np
import pytest

from mytorch import Tensor, gradcheck, no_grad
from mytorch.nn.batchnorm import BatchNorm1d


# --------------------------------------------------------------------------- #
# Independent NumPy reference (Ioffe & Szegedy 2015, Algorithm 1 and its backward)
# --------------------------------------------------------------------------- #
def np_batch_stats(x):
    n = x.shape[0]
    mean = x.sum(axis=0) / n                                   # eq. (3)
    biased = ((x - mean) ** 2).sum(axis=0) / n                 # eq. (4)
    unbiased = ((x - mean) ** 2).sum(axis=0) / (n - 1)         # eq. (7)
    return mean, biased, unbiased


def np_normalize(x, mean, var, gamma, beta, eps):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta      # eqs. (5), (6)


def np_train_backward(x, gamma, eps, g):
    """d/dx, d/dgamma, d/dbeta of sum(g * y) for y the training-mode output (paper's chain rule)."""
    n = x.shape[0]
    mean, var, _ = np_batch_stats(x)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    d_xhat = g * gamma
    d_var = np.sum(d_xhat * (x - mean), axis=0) * -0.5 * std ** -3
    d_mean = np.sum(-d_xhat / std, axis=0) + d_var * np.sum(-2.0 * (x - mean), axis=0) / n
    dx = d_xhat / std + d_var * 2.0 * (x - mean) / n + d_mean / n
    return dx, np.sum(g * x_hat, axis=0), np.sum(g, axis=0)


def random_affine(bn, rng):
    """Non-trivial gamma and beta, so a bug that ignores them shows."""
    bn.gamma.data = rng.uniform(0.5, 2.0, bn.num_features)
    bn.beta.data = rng.standard_normal(bn.num_features)


def batch(rng, n, c):
    """Features with different means and scales."""
    return rng.standard_normal((n, c)) * rng.uniform(0.5, 3.0, c) + rng.uniform(-2, 2, c)


# --------------------------------------------------------------------------- #
# Attributes, parameters, buffers
# --------------------------------------------------------------------------- #
def test_batchnorm_defaults_and_attributes():
    bn = BatchNorm1d(4)
    assert bn.num_features == 4
    assert bn.eps == 1e-5
    assert bn.momentum == 0.1
    custom = BatchNorm1d(3, eps=1e-3, momentum=0.25)
    assert (custom.eps, custom.momentum) == (1e-3, 0.25)


def test_batchnorm_gamma_ones_beta_zeros_are_its_only_parameters():
    bn = BatchNorm1d(5)
    assert [id(p) for p in bn.parameters()] == [id(bn.gamma), id(bn.beta)]
    np.testing.assert_array_equal(bn.gamma.data, np.ones(5))
    np.testing.assert_array_equal(bn.beta.data, np.zeros(5))
    for p in (bn.gamma, bn.beta):
        assert p.shape == (5,) and p.requires_grad and p.is_leaf and p.is_parameter


def test_batchnorm_running_statistics_are_buffers_not_parameters():
    bn = BatchNorm1d(5)
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(5))
    param_ids = [id(p) for p in bn.parameters()]
    for buffer in (bn.running_mean, bn.running_var):
        assert id(buffer) not in param_ids
        assert not buffer.requires_grad and not buffer.is_parameter


# --------------------------------------------------------------------------- #
# Training mode
# --------------------------------------------------------------------------- #
def test_batchnorm_training_output_uses_batch_mean_and_biased_variance(rng):
    bn = BatchNorm1d(4)
    random_affine(bn, rng)
    x = batch(rng, 7, 4)
    mean, biased, _ = np_batch_stats(x)
    out = bn(Tensor(x))
    assert out.shape == (7, 4)
    np.testing.assert_allclose(out.data, np_normalize(x, mean, biased, bn.gamma.data,
                                                      bn.beta.data, 1e-5), rtol=1e-12, atol=1e-12)


def test_batchnorm_training_output_columns_have_mean_beta_and_scale_gamma(rng):
    bn = BatchNorm1d(3, eps=1e-12)
    random_affine(bn, rng)
    out = bn(Tensor(batch(rng, 50, 3))).data
    np.testing.assert_allclose(out.mean(axis=0), bn.beta.data, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), bn.gamma.data, rtol=1e-9)   # biased std


def test_batchnorm_eps_is_added_to_the_variance(rng):
    bn = BatchNorm1d(2, eps=0.5)
    x = batch(rng, 6, 2)
    mean, biased, _ = np_batch_stats(x)
    expected = (x - mean) / np.sqrt(biased + 0.5)
    np.testing.assert_allclose(bn(Tensor(x)).data, expected, rtol=1e-12, atol=1e-12)


def test_batchnorm_constant_feature_gives_beta_not_nan(rng):
    bn = BatchNorm1d(2)
    random_affine(bn, rng)
    x = np.column_stack([np.full(5, 3.0), rng.standard_normal(5)])
    out = bn(Tensor(x)).data
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:, 0], bn.beta.data[0], atol=1e-12)


def test_batchnorm_training_output_ignores_the_running_statistics(rng):
    bn = BatchNorm1d(3)
    x = batch(rng, 5, 3)
    reference = bn(Tensor(x)).data
    bn.running_mean.data = np.array([100.0, -100.0, 7.0])
    bn.running_var.data = np.array([1e-3, 1e3, 42.0])
    np.testing.assert_allclose(bn(Tensor(x)).data, reference, rtol=1e-14, atol=1e-14)


def test_batchnorm_first_update_moves_running_stats_by_momentum_towards_unbiased_stats(rng):
    bn = BatchNorm1d(4)
    x = batch(rng, 6, 4)
    mean, _, unbiased = np_batch_stats(x)
    bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, 0.9 * 0.0 + 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, 0.9 * 1.0 + 0.1 * unbiased, rtol=1e-12)


@pytest.mark.parametrize("momentum", [0.1, 0.3, 0.0, 1.0])
def test_batchnorm_running_stats_follow_eqs_8_and_9_over_several_batches(rng, momentum):
    # eqs. (8)-(9) with alpha = 1 - momentum: running = (1 - m) * running + m * stat
    bn = BatchNorm1d(3, momentum=momentum)
    random_affine(bn, rng)
    running_mean, running_var = np.zeros(3), np.ones(3)
    for n in (4, 9, 2, 5):
        x = batch(rng, n, 3)
        mean, _, unbiased = np_batch_stats(x)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * unbiased
        bn(Tensor(x))
        np.testing.assert_allclose(bn.running_mean.data, running_mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(bn.running_var.data, running_var, rtol=1e-12, atol=1e-15)


def test_batchnorm_running_stats_are_updated_under_no_grad_too(rng):
    # as in torch: no_grad only stops graph recording; training mode still learns statistics
    bn = BatchNorm1d(2)
    x = batch(rng, 4, 2)
    with no_grad():
        bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * np_batch_stats(x)[0], rtol=1e-12)


def test_batchnorm_training_rejects_a_batch_of_one_sample(rng):
    bn = BatchNorm1d(3)
    with pytest.raises(ValueError):
        bn(Tensor(rng.standard_normal((1, 3))))
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(3))   # nothing half-done
    np.testing.assert_array_equal(bn.running_var.data, np.ones(3))


# --------------------------------------------------------------------------- #
# Evaluation mode
# --------------------------------------------------------------------------- #
def test_batchnorm_eval_normalizes_with_running_stats_and_leaves_them_unchanged(rng):
    bn = BatchNorm1d(3)
    random_affine(bn, rng)
    for _ in range(3):
        bn(Tensor(batch(rng, 8, 3)))
    running_mean, running_var = bn.running_mean.data.copy(), bn.running_var.data.copy()
    bn.eval()
    x = batch(rng, 5, 3)
    out = bn(Tensor(x))
    np.testing.assert_allclose(out.data, np_normalize(x, running_mean, running_var, bn.gamma.data,
                                                      bn.beta.data, 1e-5), rtol=1e-12, atol=1e-12)
    bn(Tensor(batch(rng, 4, 3)))
    np.testing.assert_array_equal(bn.running_mean.data, running_mean)
    np.testing.assert_array_equal(bn.running_var.data, running_var)


def test_batchnorm_eval_rows_are_independent_and_a_single_sample_works(rng):
    bn = BatchNorm1d(3)
    bn.running_mean.data = np.array([1.0, -2.0, 0.5])
    bn.running_var.data = np.array([4.0, 0.25, 1.0])
    bn.eval()
    x = batch(rng, 4, 3)
    whole = bn(Tensor(x)).data
    for i in range(4):
        np.testing.assert_allclose(bn(Tensor(x[i:i + 1])).data, whole[i:i + 1], rtol=1e-14)
    np.testing.assert_allclose(whole, (x - [1.0, -2.0, 0.5]) / np.sqrt(np.array([4.0, 0.25, 1.0])
                                                                        + 1e-5), rtol=1e-12)


def test_batchnorm_train_after_eval_uses_batch_stats_again(rng):
    bn = BatchNorm1d(2)
    bn.running_mean.data = np.array([50.0, 50.0])
    bn.eval()
    bn.train()
    out = bn(Tensor(batch(rng, 6, 2))).data
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)


# --------------------------------------------------------------------------- #
# Gradients
# --------------------------------------------------------------------------- #
def test_batchnorm_training_gradients_pass_gradcheck(rng):
    # Each call made by gradcheck updates the running stats; in training mode
    # the output does not depend on them, so the gradients are unaffected.
    bn = BatchNorm1d(3)
    random_affine(bn, rng)
    x = Tensor(batch(rng, 5, 3), requires_grad=True)
    assert gradcheck(lambda x, gamma, beta: bn(x), [x, bn.gamma, bn.beta])


def test_batchnorm_eval_gradients_pass_gradcheck(rng):
    bn = BatchNorm1d(3)
    random_affine(bn, rng)
    bn.running_mean.data = rng.standard_normal(3)
    bn.running_var.data = rng.uniform(0.5, 2.0, 3)
    bn.eval()
    x = Tensor(batch(rng, 4, 3), requires_grad=True)
    assert gradcheck(lambda x, gamma, beta: bn(x), [x, bn.gamma, bn.beta])


def test_batchnorm_training_gradients_match_the_papers_backward(rng):
    bn = BatchNorm1d(4)
    random_affine(bn, rng)
    x_data, g = batch(rng, 6, 4), rng.standard_normal((6, 4))
    x = Tensor(x_data, requires_grad=True)
    bn(x).backward(g)
    dx, dgamma, dbeta = np_train_backward(x_data, bn.gamma.data, 1e-5, g)
    np.testing.assert_allclose(x.grad.data, dx, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(bn.gamma.grad.data, dgamma, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.beta.grad.data, dbeta, rtol=1e-12, atol=1e-12)


def test_batchnorm_training_input_gradient_sums_to_zero_per_feature(rng):
    # y is invariant to shifting a column of x, so d/dx sums to 0 over the batch
    bn = BatchNorm1d(3)
    random_affine(bn, rng)
    x = Tensor(batch(rng, 7, 3), requires_grad=True)
    bn(x).backward(rng.standard_normal((7, 3)))
    np.testing.assert_allclose(x.grad.data.sum(axis=0), 0, atol=1e-12)


def test_batchnorm_eval_gradients_match_closed_form(rng):
    bn = BatchNorm1d(3)
    random_affine(bn, rng)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2.0, 3)
    bn.running_mean.data, bn.running_var.data = rm.copy(), rv.copy()
    bn.eval()
    x_data, g = batch(rng, 5, 3), rng.standard_normal((5, 3))
    x = Tensor(x_data, requires_grad=True)
    bn(x).backward(g)
    std = np.sqrt(rv + 1e-5)
    np.testing.assert_allclose(x.grad.data, g * bn.gamma.data / std, rtol=1e-12)
    np.testing.assert_allclose(bn.gamma.grad.data, (g * (x_data - rm) / std).sum(axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(bn.beta.grad.data, g.sum(axis=0), rtol=1e-12)


def composed_batchnorm(x, gamma, beta, eps, mean=None, var=None):
    """The same normalization from primitive ops (Sum/Div via mean, Sub, Pow, Mul, Add)."""
    if mean is None:
        mean = x.mean(axis=0)
        var = ((x - mean) ** 2).mean(axis=0)
    return gamma * ((x - mean) / (var + eps) ** 0.5) + beta


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_equals_the_composition_of_primitive_ops(rng, mode):
    bn = BatchNorm1d(4)
    random_affine(bn, rng)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2.0, 4)
    bn.running_mean.data, bn.running_var.data = rm.copy(), rv.copy()
    if mode == "eval":
        bn.eval()
    x_data, g = batch(rng, 6, 4), rng.standard_normal((6, 4))

    x1 = Tensor(x_data.copy(), requires_grad=True)
    out1 = bn(x1)
    out1.backward(g)

    x2 = Tensor(x_data.copy(), requires_grad=True)
    gamma = Tensor(bn.gamma.data.copy(), requires_grad=True)
    beta = Tensor(bn.beta.data.copy(), requires_grad=True)
    if mode == "train":
        out2 = composed_batchnorm(x2, gamma, beta, 1e-5)
    else:
        out2 = composed_batchnorm(x2, gamma, beta, 1e-5, Tensor(rm), Tensor(rv))
    out2.backward(g)

    np.testing.assert_allclose(out1.data, out2.data, rtol=1e-12, atol=1e-12)
    for mine, composed in ((x1, x2), (bn.gamma, gamma), (bn.beta, beta)):
        np.testing.assert_allclose(mine.grad.data, composed.grad.data, rtol=1e-9, atol=1e-12)


def test_batchnorm_matches_torch_in_training_and_evaluation(rng):
    torch = pytest.importorskip("torch")
    bn = BatchNorm1d(4, momentum=0.2)
    random_affine(bn, rng)
    tbn = torch.nn.BatchNorm1d(4, eps=1e-5, momentum=0.2).double()
    with torch.no_grad():
        tbn.weight.copy_(torch.tensor(bn.gamma.data))
        tbn.bias.copy_(torch.tensor(bn.beta.data))

    for step, n in enumerate((5, 3, 8, 2, 4, 1)):
        if step == 4:
            bn.eval()
            tbn.eval()
        x_data, g = batch(rng, n, 4), rng.standard_normal((n, 4))
        for p in (bn.gamma, bn.beta):
            p.grad = None
        tbn.zero_grad()
        x = Tensor(x_data, requires_grad=True)
        out = bn(x)
        out.backward(g)
        tx = torch.tensor(x_data, requires_grad=True)
        tout = tbn(tx)
        tout.backward(torch.tensor(g))
        pairs = [(out.data, tout.detach()), (x.grad.data, tx.grad),
                 (bn.gamma.grad.data, tbn.weight.grad), (bn.beta.grad.data, tbn.bias.grad),
                 (bn.running_mean.data, tbn.running_mean), (bn.running_var.data, tbn.running_var)]
        for mine, theirs in pairs:
            np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_batchnorm_rejects_the_wrong_number_of_features(rng, mode):
    bn = BatchNorm1d(3)
    if mode == "eval":
        bn.eval()
    with pytest.raises(ValueError) as info:
        bn(Tensor(rng.standard_normal((4, 5))))
    assert "3" in str(info.value) and "(4, 5)" in str(info.value)


def test_batchnorm_rejects_an_input_that_is_not_2d(rng):
    with pytest.raises(ValueError):
        BatchNorm1d(3)(Tensor(rng.standard_normal(3)))


def test_batchnorm_rejects_an_ndarray_input(rng):
    with pytest.raises(TypeError):
        BatchNorm1d(3)(rng.standard_normal((4, 3)))
