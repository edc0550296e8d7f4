"""The cells and the time loop in NumPy, right and in the typical wrong ways.

The expected values are PyTorch's (fixtures/); these compute the wrong answers a
message names ("pattern: the r and z gates are swapped"), from a fixture's inputs and
parameters ({MyTorch name: array}).
"""
import numpy as np


def sigmoid(a):
    """1 / (1 + exp(-a)), without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def rnn_step(p, x, h, nonlinearity="tanh", without=()):
    """torch.nn.RNNCell's step; ``without``: parameter names left out (a forgotten bias)."""
    a = x @ p["weight_ih"].T + h @ p["weight_hh"].T
    for bias in ("bias_ih", "bias_hh"):
        if bias not in without:
            a = a + p[bias]
    return np.maximum(a, 0.0) if nonlinearity == "relu" else np.tanh(a)


def rnn_slope(p, x, h, nonlinearity="tanh"):
    """The activation's derivative at the step's pre-activation."""
    out = rnn_step(p, x, h, nonlinearity)
    if nonlinearity == "relu":
        a = x @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
        return (a > 0).astype(np.float64)
    return 1.0 - out * out


GRU_MISTAKES = {
    "swap_rz": "the r and z gates are swapped (r uses weight_iz/weight_hz, z weight_ir/weight_hr)",
    "b_hn_outside": "b_hn added outside the r * product: n = tanh(... + r * (h @ weight_hn.T) + "
                    "bias_hn); PyTorch keeps it inside, r * (h @ weight_hn.T + bias_hn)",
    "swap_z": "z and (1 - z) swapped: h' = (1 - z) * n + z * h, not z * n + (1 - z) * h",
    "no_h": "the hidden state h was ignored (the unit ran from zeros)",
}


def gru_step(p, x, h, mistake=None):
    """torch.nn.GRUCell's step, or with one of GRU_MISTAKES."""
    if mistake == "no_h":
        h = np.zeros_like(h)
    r_gate, z_gate = ("z", "r") if mistake == "swap_rz" else ("r", "z")

    def gate(name):
        return sigmoid(x @ p["weight_i" + name].T + p["bias_i" + name]
                       + h @ p["weight_h" + name].T + p["bias_h" + name])
    r, z = gate(r_gate), gate(z_gate)
    if mistake == "b_hn_outside":
        n = np.tanh(x @ p["weight_in"].T + p["bias_in"] + r * (h @ p["weight_hn"].T)
                    + p["bias_hn"])
    else:
        n = np.tanh(x @ p["weight_in"].T + p["bias_in"] + r * (h @ p["weight_hn"].T
                                                               + p["bias_hn"]))
    if mistake == "swap_z":
        return z * n + (1 - z) * h
    return (1 - z) * n + z * h


def steps(batch_sizes):
    """[(start, size)] of each time step's rows in packed data."""
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    return list(zip(starts.tolist(), np.asarray(batch_sizes).tolist()))


def last_rows(batch_sizes):
    """The rows of packed data where each sequence (in sorted order) takes its last step."""
    batch_sizes = np.asarray(batch_sizes)
    ranks = np.arange(batch_sizes[0])
    lengths = (batch_sizes[None, :] > ranks[:, None]).sum(axis=1)
    starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]])
    return starts[lengths - 1] + ranks


def run(step, data, batch_sizes, hidden, hidden_size, carry=True):
    """A cell ``step(x, h)`` over packed ``data``: (every step's states as packed rows,
    h_last in sorted order).  ``carry=False``: every step starts again from ``hidden``."""
    batch = int(batch_sizes[0])
    initial = np.zeros((batch, hidden_size)) if hidden is None else np.asarray(hidden)
    h, rows = initial, []
    for start, size in steps(batch_sizes):
        h = step(data[start:start + size], (h if carry else initial)[:size])
        rows.append(h)
    output = np.concatenate(rows)
    return output, output[last_rows(batch_sizes)]


def rnn_backward(p, data, batch_sizes, hidden, nonlinearity, grad_output, grad_last,
                 truncate=False):
    """Backpropagation through time of an RNN over packed data: {name: gradient} for
    "data", "hidden" and the four parameters.  ``truncate``: each step's new state passed
    on as a constant (the gradient stops between steps; the initial state still gets
    step 0's)."""
    hidden_size = p["weight_hh"].shape[0]
    batch = int(batch_sizes[0])
    h = np.zeros((batch, hidden_size)) if hidden is None else np.asarray(hidden)
    states, spans = [], steps(batch_sizes)
    for start, size in spans:
        states.append(h[:size])
        h = rnn_step(p, data[start:start + size], h[:size], nonlinearity)
    lengths = (np.asarray(batch_sizes)[None, :] > np.arange(batch)[:, None]).sum(axis=1)
    grads = {name: np.zeros_like(value) for name, value in p.items()}
    grads["data"] = np.zeros_like(data)
    carry = np.zeros((batch, hidden_size))
    for t in reversed(range(len(spans))):
        start, size = spans[t]
        x, h_prev = data[start:start + size], states[t]
        dh = grad_output[start:start + size] + carry[:size]
        ending = lengths[:size] - 1 == t
        dh[ending] += grad_last[:size][ending]
        da = dh * rnn_slope(p, x, h_prev, nonlinearity)
        grads["data"][start:start + size] = da @ p["weight_ih"]
        grads["weight_ih"] += da.T @ x
        grads["weight_hh"] += da.T @ h_prev
        grads["bias_ih"] += da.sum(axis=0)
        grads["bias_hh"] += da.sum(axis=0)
        carry = np.zeros((batch, hidden_size))
        if t == 0 or not truncate:
            carry[:size] = da @ p["weight_hh"]
    grads["hidden"] = carry
    return grads
