"""CrossEntropyLoss / F.cross_entropy (handout 2.5 and Appendix B)."""
import math

import numpy as np
import pytest

from mytorch import Tensor, gradcheck
import mytorch.nn.functional as F
from mytorch.nn.loss import CrossEntropyLoss


def np_log_softmax(x):
    """Row-wise log-softmax with the LogSumExp trick (Appendix B.1)."""
    a = x.max(axis=1, keepdims=True)
    return x - (a + np.log(np.exp(x - a).sum(axis=1, keepdims=True)))


def np_cross_entropy(x, labels):
    """NLLLoss(LogSoftmax(x), labels), averaged over the batch (Appendix B)."""
    n = x.shape[0]
    return -sum(np_log_softmax(x)[i, labels[i]] for i in range(n)) / n


def np_softmax_minus_onehot(x, labels):
    p = np.exp(np_log_softmax(x))
    onehot = np.zeros_like(x)
    onehot[np.arange(len(labels)), labels] = 1.0
    return (p - onehot) / x.shape[0]


def logits_and_labels(rng, n=6, c=4, scale=2.0):
    return rng.standard_normal((n, c)) * scale, rng.integers(0, c, n)


# --------------------------------------------------------------------------- #
# Value
# --------------------------------------------------------------------------- #
def test_cross_entropy_value_matches_log_softmax_then_nll(rng):
    x, labels = logits_and_labels(rng)
    loss = CrossEntropyLoss()(Tensor(x), Tensor(labels))
    assert loss.shape == ()
    np.testing.assert_allclose(loss.data, np_cross_entropy(x, labels), rtol=1e-13)


def test_cross_entropy_of_a_hand_computed_example():
    # row 0: -log(e^2 / (e^2 + e^0)), row 1: -log(e^0 / (e^0 + e^0))
    loss = CrossEntropyLoss()(Tensor([[2.0, 0.0], [0.0, 0.0]]), [0, 1])
    expected = (math.log(1 + math.exp(-2.0)) + math.log(2.0)) / 2
    assert loss.item() == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_of_uniform_logits_is_log_of_class_count():
    loss = CrossEntropyLoss()(Tensor(np.full((3, 7), 5.0)), [0, 3, 6])
    assert loss.item() == pytest.approx(math.log(7), rel=1e-14)


def test_cross_entropy_module_equals_functional(rng):
    x, labels = logits_and_labels(rng)
    assert CrossEntropyLoss()(Tensor(x), labels).item() == F.cross_entropy(Tensor(x), labels).item()
    assert CrossEntropyLoss().parameters() == []


def test_cross_entropy_is_finite_and_exact_for_logits_of_magnitude_1e4():
    # row 0: label 0 has the largest logit -> loss 0; row 1: loss 1e4 - 0 = 1e4
    x = Tensor([[1e4, 0.0], [0.0, 1e4]], requires_grad=True)
    loss = CrossEntropyLoss()(x, [0, 0])
    assert loss.item() == (0.0 + 1e4) / 2
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, [[0.0, 0.0], [-0.5, 0.5]])


def test_cross_entropy_is_finite_for_very_negative_and_mixed_huge_logits():
    x = Tensor([[-1e4, -1e4 - 1.0, -1e4 - 2.0], [1e4, -1e4, 0.0]], requires_grad=True)
    loss = CrossEntropyLoss()(x, [1, 2])
    row0 = 1.0 + math.log(1 + math.exp(-1.0) + math.exp(-2.0))          # shift by the max
    row1 = 1e4 + math.log(1 + math.exp(-2e4) + math.exp(-1e4))
    assert loss.item() == pytest.approx((row0 + row1) / 2, rel=1e-14)
    loss.backward()
    assert np.all(np.isfinite(x.grad.data))


# --------------------------------------------------------------------------- #
# Gradient
# --------------------------------------------------------------------------- #
def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n(rng):
    x_data, labels = logits_and_labels(rng, n=5, c=3)
    x = Tensor(x_data, requires_grad=True)
    CrossEntropyLoss()(x, labels).backward()
    np.testing.assert_allclose(x.grad.data, np_softmax_minus_onehot(x_data, labels),
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_gradient_passes_gradcheck(rng):
    x_data, labels = logits_and_labels(rng, n=5, c=4)
    x = Tensor(x_data, requires_grad=True)
    assert gradcheck(lambda t: CrossEntropyLoss()(t, labels), x)


def test_cross_entropy_gradient_scales_with_the_upstream_gradient(rng):
    x_data, labels = logits_and_labels(rng, n=4, c=3)
    x = Tensor(x_data, requires_grad=True)
    (CrossEntropyLoss()(x, labels) * 3.0).backward()
    np.testing.assert_allclose(x.grad.data, 3.0 * np_softmax_minus_onehot(x_data, labels),
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_gives_no_gradient_to_the_labels(rng):
    x_data, labels = logits_and_labels(rng)
    label_tensor = Tensor(labels)
    x = Tensor(x_data, requires_grad=True)
    CrossEntropyLoss()(x, label_tensor).backward()
    assert label_tensor.grad is None


def composed_cross_entropy(x, labels, classes):
    """The same loss from primitive ops: max as a constant, Exp, Sum, Log, one-hot Mul, mean."""
    n = x.shape[0]
    a = Tensor(x.data.max(axis=1, keepdims=True))              # constant shift
    shifted = x - a
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), labels] = 1.0
    return -(log_probs * Tensor(onehot)).sum(axis=1).mean()


def test_cross_entropy_equals_the_composition_of_primitive_ops(rng):
    x_data, labels = logits_and_labels(rng, n=7, c=5, scale=10.0)
    x1 = Tensor(x_data.copy(), requires_grad=True)
    loss1 = CrossEntropyLoss()(x1, labels)
    loss1.backward()
    x2 = Tensor(x_data.copy(), requires_grad=True)
    loss2 = composed_cross_entropy(x2, labels, 5)
    loss2.backward()
    np.testing.assert_allclose(loss1.data, loss2.data, rtol=1e-13)
    np.testing.assert_allclose(x1.grad.data, x2.grad.data, rtol=1e-11, atol=1e-15)


def test_cross_entropy_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x_data, labels = logits_and_labels(rng, n=8, c=6, scale=5.0)
    x = Tensor(x_data, requires_grad=True)
    loss = CrossEntropyLoss()(x, labels)
    loss.backward()
    tx = torch.tensor(x_data, requires_grad=True)
    tloss = torch.nn.CrossEntropyLoss()(tx, torch.tensor(labels))
    tloss.backward()
    np.testing.assert_allclose(loss.data, tloss.item(), rtol=1e-13)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- #
# Label formats and errors
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("convert", [
    lambda l: Tensor(l),
    lambda l: Tensor(l.astype(np.int32)),
    lambda l: l,
    lambda l: l.astype(np.uint8),
    lambda l: l.tolist(),
    lambda l: l.astype(np.float64),            # integer-valued floats
], ids=["int64-tensor", "int32-tensor", "ndarray", "uint8-ndarray", "list", "integral-floats"])
def test_cross_entropy_accepts_labels_as_tensor_ndarray_or_list(rng, convert):
    x_data, labels = logits_and_labels(rng)
    x = Tensor(x_data, requires_grad=True)
    loss = CrossEntropyLoss()(x, convert(labels))
    loss.backward()
    np.testing.assert_allclose(loss.data, np_cross_entropy(x_data, labels), rtol=1e-13)
    np.testing.assert_allclose(x.grad.data, np_softmax_minus_onehot(x_data, labels),
                               rtol=1e-12, atol=1e-15)


def test_cross_entropy_rejects_non_integer_labels_and_names_them():
    with pytest.raises(TypeError) as info:
        CrossEntropyLoss()(Tensor(np.zeros((3, 4))), [0, 1.5, 2.25])
    message = str(info.value)
    assert "1.5" in message and "2.25" in message


@pytest.mark.parametrize("bad, named", [([0, 4, 1], ["4"]), ([-1, 0, 2], ["-1"]),
                                        ([7, 0, -3], ["7", "-3"])])
def test_cross_entropy_rejects_labels_outside_the_classes_and_names_them(bad, named):
    with pytest.raises(ValueError) as info:
        CrossEntropyLoss()(Tensor(np.zeros((3, 4))), bad)
    for value in named:
        assert value in str(info.value)


@pytest.mark.parametrize("labels", [[0, 1], [0, 1, 2, 3], [[0], [1], [2]]])
def test_cross_entropy_rejects_a_label_count_different_from_the_batch_size(labels):
    with pytest.raises(ValueError):
        CrossEntropyLoss()(Tensor(np.zeros((3, 4))), labels)


def test_cross_entropy_rejects_logits_that_are_not_2d():
    with pytest.raises(ValueError):
        CrossEntropyLoss()(Tensor(np.zeros(4)), [1])
