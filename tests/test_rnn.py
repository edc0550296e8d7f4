"""mytorch/nn/rnn.py: RNNUnit, TimeIterator, RNN.

Expected values come from the cell's equations in NumPy, run on each sequence
on its own (tests/hw3_reference.py); gradients from finite differences; and,
with PyTorch installed, both from torch.nn.RNNCell and torch.nn.RNN (float64).
"""
import numpy as np
import pytest

import hw3_reference as ref
from hw3_reference import RNN_PARAMETERS, oracle
from mytorch import Tensor, gradcheck
from mytorch.nn.rnn import RNN, RNNUnit, TimeIterator
from mytorch.nn.util import PackedSequence, pack_sequence, unpack_sequence
from mytorch.tensor import cat

SIZES = [(1, 1), (1, 5), (5, 1), (3, 4), (5, 5), (4, 2)]        # (input_size, hidden_size)
LENGTHS = [[1], [10], [3, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5, 2, 5, 1],
           [4, 1, 4, 1, 4], [7, 3, 9]]


def _unit(rng, input_size, hidden_size, nonlinearity="tanh"):
    unit = RNNUnit(input_size, hidden_size, nonlinearity)
    ref.randomize(unit, RNN_PARAMETERS, rng, scale=0.5)
    return unit


def _rnn(rng, input_size, hidden_size, nonlinearity="tanh"):
    rnn = RNN(input_size, hidden_size, nonlinearity)
    ref.randomize(rnn.unit, RNN_PARAMETERS, rng, scale=0.5)
    return rnn


def _cell(nonlinearity):
    return lambda params, x, h: ref.rnn_cell(params, x, h, nonlinearity)


# --------------------------------------------------------------------------- #
# RNNUnit (NumPy)
# --------------------------------------------------------------------------- #
def test_unit_parameters_have_the_courses_names_shapes_and_initialisation():
    np.random.seed(3)
    unit = RNNUnit(4, 3)
    np.random.seed(3)
    weight_ih, weight_hh = np.random.randn(3, 4), np.random.randn(3, 3)
    np.testing.assert_array_equal(unit.weight_ih.data, weight_ih)
    np.testing.assert_array_equal(unit.weight_hh.data, weight_hh)
    np.testing.assert_array_equal(unit.bias_ih.data, np.zeros(3))
    np.testing.assert_array_equal(unit.bias_hh.data, np.zeros(3))
    assert unit.parameters() == [getattr(unit, name) for name in RNN_PARAMETERS]
    assert all(p.is_parameter and p.requires_grad for p in unit.parameters())


@pytest.mark.parametrize("input_size, hidden_size", SIZES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch", [1, 4])
def test_unit_forward_follows_the_equation(rng, input_size, hidden_size, nonlinearity, batch):
    unit = _unit(rng, input_size, hidden_size, nonlinearity)
    x, h = rng.standard_normal((batch, input_size)), rng.standard_normal((batch, hidden_size))
    params = ref.parameters_of(unit, RNN_PARAMETERS)
    out = unit(Tensor(x), Tensor(h))
    assert out.shape == (batch, hidden_size)
    np.testing.assert_allclose(out.data, ref.rnn_cell(params, x, h, nonlinearity), rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(unit(Tensor(x)).data,
                               ref.rnn_cell(params, x, np.zeros_like(h), nonlinearity),
                               rtol=1e-12, atol=1e-14)


def test_unit_reads_its_parameters_on_every_call(rng):
    unit = _unit(rng, 3, 2)
    x = Tensor(rng.standard_normal((2, 3)))
    before = unit(x).data
    unit.weight_ih.data = rng.standard_normal((2, 3))
    unit.bias_hh.data = np.ones(2)
    after = unit(x).data
    np.testing.assert_allclose(after, ref.rnn_cell(ref.parameters_of(unit, RNN_PARAMETERS),
                                                   x.data, np.zeros((2, 2))), rtol=1e-12)
    assert not np.allclose(before, after)


@pytest.mark.parametrize("input_size, hidden_size", [(1, 1), (3, 4), (5, 2)])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_unit_gradients_match_finite_differences(rng, input_size, hidden_size, nonlinearity):
    unit = _unit(rng, input_size, hidden_size, nonlinearity)
    x = Tensor(rng.standard_normal((3, input_size)), requires_grad=True)
    h = Tensor(rng.standard_normal((3, hidden_size)), requires_grad=True)
    assert gradcheck(lambda x, h, *params: unit(x, h), [x, h, *unit.parameters()])


@pytest.mark.parametrize("make, error, words", [
    (lambda: RNNUnit(3, 2, "sigmoid"), ValueError, "unknown nonlinearity 'sigmoid'"),
    (lambda: RNNUnit(0, 2), ValueError, "input_size must be a positive integer"),
    (lambda: RNNUnit(3, 2.5), ValueError, "hidden_size must be a positive integer"),
    (lambda: RNNUnit(3, 2)(Tensor(np.zeros((4, 3))), Tensor(np.zeros((4, 3)))), ValueError,
     r"hidden state must be a Tensor of shape \(batch, hidden_size\) = \(4, 2\).*\(4, 3\)"),
    (lambda: RNNUnit(3, 2)(Tensor(np.zeros((4, 3))), Tensor(np.zeros((3, 2)))), ValueError,
     r"\(4, 2\)"),
    (lambda: RNNUnit(3, 2)(Tensor(np.zeros((4, 3))), np.zeros((4, 2))), ValueError, "ndarray"),
    (lambda: RNNUnit(3, 2)(Tensor(np.zeros((4, 2)))), ValueError, r"\(N, 3\)"),
    (lambda: RNN(3, 2, "gelu"), ValueError, "'tanh' or 'relu'"),
])
def test_bad_sizes_nonlinearities_and_hidden_states_get_clear_errors(make, error, words):
    with pytest.raises(error, match=words):
        make()


# --------------------------------------------------------------------------- #
# TimeIterator and RNN (NumPy)
# --------------------------------------------------------------------------- #
def _check_against_reference(layer, cell, lengths, input_size, rng, initial=None):
    """Run ``layer`` on packed random sequences and compare every output with ``cell`` run
    on each sequence alone."""
    arrays = [rng.standard_normal((n, input_size)) for n in lengths]
    ps = pack_sequence([Tensor(a) for a in arrays])
    hidden = None if initial is None else Tensor(initial[ps.sorted_indices])
    output, h_last = layer(ps, hidden)
    hidden_size = layer.unit.hidden_size
    expected = ref.run_sequences(cell, ref.parameters_of(layer.unit, ref.RNN_PARAMETERS
                                                         if isinstance(layer.unit, RNNUnit)
                                                         else ref.GRU_PARAMETERS),
                                 arrays, hidden_size, initial)
    assert isinstance(output, PackedSequence)
    np.testing.assert_array_equal(output.sorted_indices, ps.sorted_indices)
    np.testing.assert_array_equal(output.batch_sizes, ps.batch_sizes)
    assert output.data.shape == (sum(lengths), hidden_size)
    for states, (expected_states, _) in zip(unpack_sequence(output), expected):
        np.testing.assert_allclose(states.data, expected_states, rtol=1e-11, atol=1e-13)
    assert h_last.shape == (len(lengths), hidden_size)
    for row, index in enumerate(ps.sorted_indices):            # sorted order
        np.testing.assert_allclose(h_last.data[row], expected[index][1], rtol=1e-11, atol=1e-13)
    return ps, output, h_last


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("input_size, hidden_size", SIZES)
def test_rnn_runs_each_sequence_through_the_cell_and_returns_sorted_last_states(
        rng, lengths, input_size, hidden_size):
    _check_against_reference(_rnn(rng, input_size, hidden_size), _cell("tanh"), lengths,
                             input_size, rng)


@pytest.mark.parametrize("lengths", [[1], [3, 1, 2], [4, 4]], ids=str)
def test_rnn_relu_and_an_initial_hidden_state_in_sorted_order(rng, lengths):
    initial = rng.standard_normal((len(lengths), 3))        # in the input's order
    _check_against_reference(_rnn(rng, 2, 3, "relu"), _cell("relu"), lengths, 2, rng, initial)


def test_time_iterator_builds_its_unit_from_the_class_and_sizes_given():
    layer = TimeIterator(RNNUnit, 4, 3, "relu")
    assert isinstance(layer.unit, RNNUnit) and layer.unit.weight_ih.shape == (3, 4)
    assert layer.unit.nonlinearity == "relu"
    assert layer.parameters() == layer.unit.parameters()
    assert isinstance(RNN(4, 3), TimeIterator)


class _RecordingUnit(RNNUnit):
    """An RNNUnit that records the batch size of each call."""
    calls = None

    def forward(self, x, h=None):
        type(self).calls.append((x.shape[0], None if h is None else h.shape[0]))
        return super().forward(x, h)


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
def test_the_unit_runs_once_per_step_on_the_sequences_still_running(rng, lengths):
    _RecordingUnit.calls = []
    layer = TimeIterator(_RecordingUnit, 2, 3)
    ps = pack_sequence([Tensor(rng.standard_normal((n, 2))) for n in lengths])
    layer(ps)
    sizes = ps.batch_sizes.tolist()
    assert [x for x, _ in _RecordingUnit.calls] == sizes
    assert [h for _, h in _RecordingUnit.calls[1:]] == sizes[1:]


@pytest.mark.parametrize("lengths", [[1], [2, 3, 1], [2, 2]], ids=str)
def test_rnn_gradients_match_finite_differences(rng, lengths):
    rnn = _rnn(rng, 2, 3)
    arrays = [rng.standard_normal((n, 2)) for n in lengths]
    ps = pack_sequence([Tensor(a) for a in arrays])
    data = Tensor(ps.data.data.copy(), requires_grad=True)
    hidden = Tensor(rng.standard_normal((len(lengths), 3)), requires_grad=True)

    def run(data, hidden, *params):
        output, h_last = rnn(PackedSequence(data, ps.sorted_indices, ps.batch_sizes), hidden)
        return cat([output.data, h_last * 2.0])
    assert gradcheck(run, [data, hidden, *rnn.parameters()])


def test_rnn_rejects_a_hidden_state_of_the_wrong_shape_and_what_is_not_packed(rng):
    rnn = RNN(2, 3)
    ps = pack_sequence([Tensor(np.zeros((2, 2))), Tensor(np.zeros((1, 2)))])
    with pytest.raises(ValueError, match=r"\(2, 3\), got \(3, 3\)"):
        rnn(ps, Tensor(np.zeros((3, 3))))
    with pytest.raises(ValueError, match=r"\(2, 3\), got \(2, 2\)"):
        rnn(ps, Tensor(np.zeros((2, 2))))
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        rnn(Tensor(np.zeros((3, 2))))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        RNN(2, 3)(pack_sequence([Tensor(np.zeros((2, 4)))]))


# --------------------------------------------------------------------------- #
# The same against PyTorch (float64)
# --------------------------------------------------------------------------- #
def _torch_weights(unit):
    return [getattr(unit, name).data for name in RNN_PARAMETERS]


@pytest.mark.parametrize("input_size, hidden_size", SIZES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_unit_matches_torch_rnn_cell(rng, input_size, hidden_size, nonlinearity):
    torch = oracle()
    unit = _unit(rng, input_size, hidden_size, nonlinearity)
    cell = ref.load_torch_module(torch.nn.RNNCell(input_size, hidden_size,
                                                  nonlinearity=nonlinearity), _torch_weights(unit))
    x, h = rng.standard_normal((4, input_size)), rng.standard_normal((4, hidden_size))
    mx, mh = Tensor(x, requires_grad=True), Tensor(h, requires_grad=True)
    tx, th = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    out, tout = unit(mx, mh), cell(tx, th)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for mine, theirs in [(mx, tx), (mh, th)] + [(getattr(unit, n), getattr(cell, n))
                                                for n in RNN_PARAMETERS]:
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
@pytest.mark.parametrize("input_size, hidden_size", [(1, 1), (3, 4), (5, 2)])
def test_rnn_matches_torch_rnn_on_a_packed_batch(rng, lengths, input_size, hidden_size):
    torch = oracle()
    rnn = _rnn(rng, input_size, hidden_size)
    trnn = ref.load_torch_module(torch.nn.RNN(input_size, hidden_size), _torch_weights(rnn.unit),
                                 suffix="_l0")
    arrays = [rng.standard_normal((n, input_size)) for n in lengths]
    seq = [Tensor(a, requires_grad=True) for a in arrays]
    tseq = [torch.tensor(a, requires_grad=True) for a in arrays]
    initial = rng.standard_normal((len(lengths), hidden_size))     # in the input's order
    tps = torch.nn.utils.rnn.pack_sequence(tseq, enforce_sorted=False)
    th0 = torch.tensor(initial, requires_grad=True)
    ps = pack_sequence(seq)
    h0 = Tensor(initial[ps.sorted_indices], requires_grad=True)
    (output, h_last), (toutput, th_n) = rnn(ps, h0), trnn(tps, th0[None])
    np.testing.assert_allclose(output.data.data, toutput.data.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    sorted_indices = tps.sorted_indices
    np.testing.assert_allclose(h_last.data, th_n[0][sorted_indices].detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    g, g_last = rng.standard_normal(output.data.shape), rng.standard_normal(h_last.shape)
    ((output.data * Tensor(g)).sum() + (h_last * Tensor(g_last)).sum()).backward()
    ((toutput.data * torch.tensor(g)).sum()
     + (th_n[0][sorted_indices] * torch.tensor(g_last)).sum()).backward()
    for name in RNN_PARAMETERS:
        np.testing.assert_allclose(getattr(rnn.unit, name).grad.data,
                                   getattr(trnn, name + "_l0").grad.numpy(), rtol=1e-10,
                                   atol=1e-12)
    for t, tt in zip(seq, tseq):
        np.testing.assert_allclose(t.grad.data, tt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h0.grad.data, th0.grad.numpy()[ps.sorted_indices], rtol=1e-10,
                               atol=1e-12)
