"""mytorch/nn/gru.py (GRUUnit, GRU) and its fused cell, F.GRUCell.

Expected values come from torch.nn.GRUCell's equations in NumPy
(tests/hw3_reference.py), gradients from finite differences, and, with PyTorch
installed, from torch.nn.GRUCell and torch.nn.GRU (float64).  A GRU unit built
from ops, as a student writes it, must give the fused cell's values and gradients
and run inside the TimeIterator too.
"""
import numpy as np
import pytest

import hw3_reference as ref
import mytorch.nn.functional as F
from hw3_reference import GRU_PARAMETERS, oracle
from mytorch import Tensor, gradcheck
from mytorch.autograd_engine import ContextManager
from mytorch.nn.activations import Sigmoid, Tanh
from mytorch.nn.gru import GRU, GRUUnit
from mytorch.nn.rnn import TimeIterator
from mytorch.nn.util import PackedSequence, pack_sequence, unpack_sequence
from mytorch.tensor import cat

SIZES = [(1, 1), (1, 5), (5, 1), (3, 4), (5, 5), (4, 2)]        # (input_size, hidden_size)
LENGTHS = [[1], [10], [3, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5, 2, 5, 1],
           [4, 1, 4, 1, 4], [7, 3, 9]]


class OpsGRUUnit(GRUUnit):
    """GRUUnit.forward written the way a student writes it: one op per term."""

    def forward(self, x, h=None):
        if h is None:
            h = Tensor(np.zeros((x.shape[0], self.hidden_size)))
        sigmoid, tanh = Sigmoid(), Tanh()
        r = sigmoid(x @ self.weight_ir.T() + self.bias_ir + h @ self.weight_hr.T() + self.bias_hr)
        z = sigmoid(x @ self.weight_iz.T() + self.bias_iz + h @ self.weight_hz.T() + self.bias_hz)
        n = tanh(x @ self.weight_in.T() + self.bias_in
                 + r * (h @ self.weight_hn.T() + self.bias_hn))
        return (1 - z) * n + z * h


def _unit(rng, input_size, hidden_size, cls=GRUUnit):
    unit = cls(input_size, hidden_size)
    ref.randomize(unit, GRU_PARAMETERS, rng, scale=0.7)
    return unit


def _gru(rng, input_size, hidden_size, unit_class=GRUUnit):
    gru = GRU(input_size, hidden_size) if unit_class is GRUUnit \
        else TimeIterator(unit_class, input_size, hidden_size)
    ref.randomize(gru.unit, GRU_PARAMETERS, rng, scale=0.7)
    return gru


# --------------------------------------------------------------------------- #
# GRUUnit (NumPy)
# --------------------------------------------------------------------------- #
def test_unit_parameters_have_the_courses_names_shapes_and_initialisation():
    np.random.seed(5)
    unit = GRUUnit(4, 3, "ignored")
    np.random.seed(5)
    expected = [np.random.randn(3, 4) for _ in range(3)] + [np.random.randn(3, 3) for _ in range(3)]
    for name, value in zip(GRU_PARAMETERS[:6], expected):
        np.testing.assert_array_equal(getattr(unit, name).data, value)
    for name in GRU_PARAMETERS[6:]:
        np.testing.assert_array_equal(getattr(unit, name).data, np.zeros(3))
    assert unit.parameters() == [getattr(unit, name) for name in GRU_PARAMETERS]
    assert all(p.is_parameter and p.requires_grad for p in unit.parameters())


@pytest.mark.parametrize("input_size, hidden_size", SIZES)
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("cls", [GRUUnit, OpsGRUUnit], ids=["fused", "ops"])
def test_unit_forward_follows_grucells_equations(rng, input_size, hidden_size, batch, cls):
    unit = _unit(rng, input_size, hidden_size, cls)
    x, h = rng.standard_normal((batch, input_size)), rng.standard_normal((batch, hidden_size))
    params = ref.parameters_of(unit, GRU_PARAMETERS)
    out = unit(Tensor(x), Tensor(h))
    assert out.shape == (batch, hidden_size)
    np.testing.assert_allclose(out.data, ref.gru_cell(params, x, h), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(unit(Tensor(x)).data, ref.gru_cell(params, x, np.zeros_like(h)),
                               rtol=1e-12, atol=1e-14)


def test_unit_reads_its_parameters_on_every_call(rng):
    unit = _unit(rng, 3, 2)
    x, h = Tensor(rng.standard_normal((2, 3))), Tensor(rng.standard_normal((2, 2)))
    before = unit(x, h).data
    unit.weight_hn.data = rng.standard_normal((2, 2))
    unit.bias_hn.data = np.full(2, 3.0)
    after = unit(x, h).data
    np.testing.assert_allclose(after, ref.gru_cell(ref.parameters_of(unit, GRU_PARAMETERS),
                                                   x.data, h.data), rtol=1e-12)
    assert not np.allclose(before, after)


@pytest.mark.parametrize("input_size, hidden_size", [(1, 1), (3, 4), (5, 2)])
@pytest.mark.parametrize("cls", [GRUUnit, OpsGRUUnit], ids=["fused", "ops"])
def test_unit_gradients_match_finite_differences(rng, input_size, hidden_size, cls):
    unit = _unit(rng, input_size, hidden_size, cls)
    x = Tensor(rng.standard_normal((3, input_size)), requires_grad=True)
    h = Tensor(rng.standard_normal((3, hidden_size)), requires_grad=True)
    assert gradcheck(lambda x, h, *params: unit(x, h), [x, h, *unit.parameters()])


@pytest.mark.parametrize("input_size, hidden_size", SIZES)
def test_fused_cell_gives_the_ops_values_and_gradients(rng, input_size, hidden_size):
    fused, ops = GRUUnit(input_size, hidden_size), OpsGRUUnit(input_size, hidden_size)
    ref.randomize(fused, GRU_PARAMETERS, rng)
    for name in GRU_PARAMETERS:
        getattr(ops, name).data = getattr(fused, name).data.copy()
    x, h = rng.standard_normal((4, input_size)), rng.standard_normal((4, hidden_size))
    g = rng.standard_normal((4, hidden_size))
    leaves = []
    for unit in (fused, ops):
        mx, mh = Tensor(x, requires_grad=True), Tensor(h, requires_grad=True)
        out = unit(mx, mh)
        out.backward(g)
        leaves.append([out, mx.grad, mh.grad] + [p.grad for p in unit.parameters()])
    for mine, theirs in zip(*leaves):
        np.testing.assert_allclose(mine.data, theirs.data, rtol=1e-12, atol=1e-14)


def test_fused_cell_the_handout_way_only_the_gradients_asked_for(rng):
    unit = _unit(rng, 2, 3)
    x, h = Tensor(rng.standard_normal((4, 2))), Tensor(rng.standard_normal((4, 3)))
    args = [x, h] + unit.parameters()
    ctx = ContextManager()
    ctx.needs_input_grad = [False, True] + [False] * 12
    out = F.GRUCell.forward(ctx, *args)
    grads = F.GRUCell.backward(ctx, Tensor(np.ones((4, 3))))
    assert len(grads) == 14 and grads[0] is None and all(g is None for g in grads[2:])
    np.testing.assert_allclose(out.data, ref.gru_cell(ref.parameters_of(unit, GRU_PARAMETERS),
                                                      x.data, h.data), rtol=1e-12)
    assert grads[1].shape == (4, 3)


@pytest.mark.parametrize("make, words", [
    (lambda u: u(Tensor(np.zeros((4, 3))), Tensor(np.zeros((4, 3)))),
     r"hidden state must be a Tensor of shape \(batch, hidden_size\) = \(4, 2\)"),
    (lambda u: u(Tensor(np.zeros((4, 3))), Tensor(np.zeros((2, 2)))), r"\(4, 2\), got \(2, 2\)"),
    (lambda u: u(Tensor(np.zeros((4, 5)))), r"\(N, 3\)"),
    (lambda u: F.GRUCell.apply(Tensor(np.zeros((4, 3))), Tensor(np.zeros((4, 2))),
                               *[Tensor(np.zeros((2, 2)))] + u.parameters()[1:]),
     r"GRUCell: w_ir has shape \(2, 2\), expected \(2, 3\)"),
])
def test_bad_shapes_get_clear_errors(make, words):
    with pytest.raises(ValueError, match=words):
        make(GRUUnit(3, 2))


def test_sizes_must_be_positive_integers():
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        GRUUnit(3, 0)


# --------------------------------------------------------------------------- #
# GRU over a packed batch (NumPy)
# --------------------------------------------------------------------------- #
def _check_gru(gru, lengths, input_size, rng, initial=None):
    arrays = [rng.standard_normal((n, input_size)) for n in lengths]
    ps = pack_sequence([Tensor(a) for a in arrays])
    output, h_last = gru(ps, None if initial is None else Tensor(initial[ps.sorted_indices]))
    expected = ref.run_sequences(ref.gru_cell, ref.parameters_of(gru.unit, GRU_PARAMETERS),
                                 arrays, gru.unit.hidden_size, initial)
    np.testing.assert_array_equal(output.batch_sizes, ps.batch_sizes)
    np.testing.assert_array_equal(output.sorted_indices, ps.sorted_indices)
    for states, (expected_states, _) in zip(unpack_sequence(output), expected):
        np.testing.assert_allclose(states.data, expected_states, rtol=1e-11, atol=1e-13)
    for row, index in enumerate(ps.sorted_indices):
        np.testing.assert_allclose(h_last.data[row], expected[index][1], rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("input_size, hidden_size", SIZES)
def test_gru_runs_each_sequence_through_the_cell(rng, lengths, input_size, hidden_size):
    _check_gru(_gru(rng, input_size, hidden_size), lengths, input_size, rng)


@pytest.mark.parametrize("lengths", [[1], [3, 1, 2], [4, 4]], ids=str)
@pytest.mark.parametrize("unit_class", [GRUUnit, OpsGRUUnit], ids=["fused", "ops"])
def test_gru_with_an_initial_hidden_state_and_a_unit_built_from_ops(rng, lengths, unit_class):
    initial = rng.standard_normal((len(lengths), 3))
    _check_gru(_gru(rng, 2, 3, unit_class), lengths, 2, rng, initial)


@pytest.mark.parametrize("unit_class", [GRUUnit, OpsGRUUnit], ids=["fused", "ops"])
def test_gru_gradients_match_finite_differences(rng, unit_class):
    gru = _gru(rng, 2, 3, unit_class)
    ps = pack_sequence([Tensor(rng.standard_normal((n, 2))) for n in (2, 3, 1)])
    data = Tensor(ps.data.data.copy(), requires_grad=True)
    hidden = Tensor(rng.standard_normal((3, 3)), requires_grad=True)

    def run(data, hidden, *params):
        output, h_last = gru(PackedSequence(data, ps.sorted_indices, ps.batch_sizes), hidden)
        return cat([output.data, h_last * 2.0])
    assert gradcheck(run, [data, hidden, *gru.parameters()])


def test_gru_is_a_time_iterator_over_a_gru_unit():
    gru = GRU(4, 3)
    assert isinstance(gru, TimeIterator) and isinstance(gru.unit, GRUUnit)
    assert gru.unit.weight_ir.shape == (3, 4) and gru.unit.weight_hr.shape == (3, 3)


# --------------------------------------------------------------------------- #
# The same against PyTorch (float64)
# --------------------------------------------------------------------------- #
def _compare_grads(unit, torch_module, suffix="", rtol=1e-10):
    grads = ref.torch_gradients_by_gate(*(getattr(torch_module, name + suffix).grad.numpy()
                                          for name in ("weight_ih", "weight_hh", "bias_ih",
                                                       "bias_hh")))
    for name in GRU_PARAMETERS:
        np.testing.assert_allclose(getattr(unit, name).grad.data, grads[name], rtol=rtol,
                                   atol=1e-12, err_msg=name)


@pytest.mark.parametrize("input_size, hidden_size", SIZES)
@pytest.mark.parametrize("cls", [GRUUnit, OpsGRUUnit], ids=["fused", "ops"])
def test_unit_matches_torch_gru_cell(rng, input_size, hidden_size, cls):
    torch = oracle()
    unit = _unit(rng, input_size, hidden_size, cls)
    cell = ref.load_torch_module(torch.nn.GRUCell(input_size, hidden_size),
                                 ref.torch_gru_weights(unit))
    x, h = rng.standard_normal((4, input_size)), rng.standard_normal((4, hidden_size))
    mx, mh = Tensor(x, requires_grad=True), Tensor(h, requires_grad=True)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    out, tout = unit(mx, mh), cell(tx, th)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(mx.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mh.grad.data, th.grad.numpy(), rtol=1e-10, atol=1e-12)
    _compare_grads(unit, cell)


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("input_size, hidden_size", [(1, 1), (3, 4), (5, 2)])
def test_gru_matches_torch_gru_on_a_packed_batch(rng, lengths, input_size, hidden_size):
    torch = oracle()
    gru = _gru(rng, input_size, hidden_size)
    tgru = ref.load_torch_module(torch.nn.GRU(input_size, hidden_size),
                                 ref.torch_gru_weights(gru.unit), suffix="_l0")
    arrays = [rng.standard_normal((n, input_size)) for n in lengths]
    seq = [Tensor(a, requires_grad=True) for a in arrays]
    tseq = [torch.tensor(a, requires_grad=True) for a in arrays]
    initial = rng.standard_normal((len(lengths), hidden_size))
    ps, tps = pack_sequence(seq), torch.nn.utils.rnn.pack_sequence(tseq, enforce_sorted=False)
    h0 = Tensor(initial[ps.sorted_indices], requires_grad=True)
    th0 = torch.tensor(initial, requires_grad=True)
    (output, h_last), (toutput, th_n) = gru(ps, h0), tgru(tps, th0[None])
    np.testing.assert_allclose(output.data.data, toutput.data.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    th_sorted = th_n[0][tps.sorted_indices]
    np.testing.assert_allclose(h_last.data, th_sorted.detach().numpy(), rtol=1e-10, atol=1e-12)
    g, g_last = rng.standard_normal(output.data.shape), rng.standard_normal(h_last.shape)
    ((output.data * Tensor(g)).sum() + (h_last * Tensor(g_last)).sum()).backward()
    ((toutput.data * torch.tensor(g)).sum() + (th_sorted * torch.tensor(g_last)).sum()).backward()
    _compare_grads(gru.unit, tgru, suffix="_l0")
    for t, tt in zip(seq, tseq):
        np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h0.grad.data, th0.grad.numpy()[ps.sorted_indices], rtol=1e-10,
                               atol=1e-12)
