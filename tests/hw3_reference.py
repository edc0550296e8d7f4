"""References for the Homework 3 tests, written independently of the library.

- NumPy: the RNN and GRU cells' equations, packing by hand (a loop over time steps
  and sequences), and the gradient of an index by an explicit loop over elements.
- PyTorch (float64), optional: ``oracle()`` imports it or skips the test, saying
  what to install; ``torch_gru_cell`` / ``torch_rnn_cell`` copy a unit's parameters.

Every torch test in these files has a NumPy-only twin that runs without torch.
"""
import numpy as np
import pytest

TORCH_REASON = ("PyTorch is this test's oracle (pip install -r requirements-oracle.txt); "
                "its NumPy-only twin runs without it")
GRU_INPUT_WEIGHTS = ("weight_ir", "weight_iz", "weight_in")
GRU_HIDDEN_WEIGHTS = ("weight_hr", "weight_hz", "weight_hn")
GRU_INPUT_BIASES = ("bias_ir", "bias_iz", "bias_in")
GRU_HIDDEN_BIASES = ("bias_hr", "bias_hz", "bias_hn")
GRU_PARAMETERS = GRU_INPUT_WEIGHTS + GRU_HIDDEN_WEIGHTS + GRU_INPUT_BIASES + GRU_HIDDEN_BIASES
RNN_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def oracle():
    """torch, with float64 as its default dtype; skips the calling test without it."""
    torch = pytest.importorskip("torch", reason=TORCH_REASON)
    torch.set_default_dtype(torch.float64)
    return torch


# --------------------------------------------------------------------------- #
# Indexing
# --------------------------------------------------------------------------- #
def index_gradient(shape, key, grad_output):
    """d sum(g * x[key]) / dx by a loop over the output's elements: each adds its
    gradient where it was read from (positions come from indexing an array of
    flat element numbers the same way)."""
    positions = np.arange(int(np.prod(shape))).reshape(shape)[key]
    grad = np.zeros(int(np.prod(shape)))
    for position, g in zip(np.ravel(positions), np.ravel(grad_output)):
        grad[position] += g
    return grad.reshape(shape)


# --------------------------------------------------------------------------- #
# Packing
# --------------------------------------------------------------------------- #
def pack_by_hand(arrays):
    """(data, sorted_indices, batch_sizes) of PyTorch's layout, by loops:
    longest first (ties in input order), then time step by time step."""
    order = sorted(range(len(arrays)), key=lambda i: (-len(arrays[i]), i))
    rows, batch_sizes = [], []
    for t in range(len(arrays[order[0]])):
        running = [i for i in order if len(arrays[i]) > t]
        batch_sizes.append(len(running))
        rows.extend(arrays[i][t] for i in running)
    return np.array(rows), np.array(order), np.array(batch_sizes)


# --------------------------------------------------------------------------- #
# Cells
# --------------------------------------------------------------------------- #
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def rnn_cell(params, x, h, nonlinearity="tanh"):
    """torch.nn.RNNCell's step from a dict of arrays."""
    a = x @ params["weight_ih"].T + params["bias_ih"] + h @ params["weight_hh"].T \
        + params["bias_hh"]
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def gru_cell(params, x, h):
    """torch.nn.GRUCell's step from a dict of arrays (b_hn inside the r * product)."""
    p = params
    r = _sigmoid(x @ p["weight_ir"].T + p["bias_ir"] + h @ p["weight_hr"].T + p["bias_hr"])
    z = _sigmoid(x @ p["weight_iz"].T + p["bias_iz"] + h @ p["weight_hz"].T + p["bias_hz"])
    n = np.tanh(x @ p["weight_in"].T + p["bias_in"] + r * (h @ p["weight_hn"].T + p["bias_hn"]))
    return (1 - z) * n + z * h


def run_sequences(cell, params, arrays, hidden_size, initial=None):
    """Each sequence run through ``cell`` on its own: (its hidden states, its last state)."""
    results = []
    for i, x in enumerate(arrays):
        h = np.zeros(hidden_size) if initial is None else initial[i]
        states = []
        for row in x:
            h = cell(params, row[None, :], h[None, :])[0]
            states.append(h)
        results.append((np.array(states), h))
    return results


def parameters_of(unit, names):
    """{name: the unit's array} for the given parameter names."""
    return {name: getattr(unit, name).data for name in names}


def randomize(unit, names, rng, scale=1.0):
    """Give the unit's parameters fresh random values (biases too: they start at zero)."""
    for name in names:
        getattr(unit, name).data = scale * rng.standard_normal(getattr(unit, name).shape)


# --------------------------------------------------------------------------- #
# PyTorch counterparts
# --------------------------------------------------------------------------- #
def torch_gru_weights(unit):
    """(weight_ih, weight_hh, bias_ih, bias_hh) as torch stacks them: gates r, z, n."""
    stack = lambda names: np.concatenate([getattr(unit, n).data for n in names])  # noqa: E731
    return (stack(GRU_INPUT_WEIGHTS), stack(GRU_HIDDEN_WEIGHTS), stack(GRU_INPUT_BIASES),
            stack(GRU_HIDDEN_BIASES))


def load_torch_module(torch_module, weights, suffix=""):
    """Copy (weight_ih, weight_hh, bias_ih, bias_hh) into a torch RNNCell/GRUCell (suffix
    "") or an nn.RNN/nn.GRU (suffix "_l0")."""
    torch = oracle()
    with torch.no_grad():
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), weights):
            getattr(torch_module, name + suffix).copy_(torch.tensor(value))
    return torch_module


def torch_gradients_by_gate(weight_ih_grad, weight_hh_grad, bias_ih_grad, bias_hh_grad):
    """torch's stacked GRU gradients, split into {our parameter name: array}."""
    grads = {}
    for names, stacked in ((GRU_INPUT_WEIGHTS, weight_ih_grad), (GRU_HIDDEN_WEIGHTS, weight_hh_grad),
                           (GRU_INPUT_BIASES, bias_ih_grad), (GRU_HIDDEN_BIASES, bias_hh_grad)):
        for name, piece in zip(names, np.split(stacked, 3)):
            grads[name] = piece
    return grads
