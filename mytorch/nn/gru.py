"""The GRU: its cell, and a GRU layer that runs the cell over a PackedSequence.

    unit = GRUUnit(input_size, hidden_size)
    h = unit(x, h)                                    # x (B, input_size), h (B, H) -> (B, H)
    gru = GRU(input_size, hidden_size)                # TimeIterator(GRUUnit, ...)
    output, h_last = gru(pack_sequence([x1, x2]))
"""
import numpy as np

import mytorch.nn.functional as F
from mytorch.nn.module import Module
from mytorch.nn.rnn import TimeIterator, _check_sizes, _parameter, initial_hidden

__all__ = ["GRUUnit", "GRU"]


class GRUUnit(Module):
    """One step of a GRU, with torch.nn.GRUCell's equations:

        r  = sigmoid(x @ weight_ir.T + bias_ir + h @ weight_hr.T + bias_hr)     reset gate
        z  = sigmoid(x @ weight_iz.T + bias_iz + h @ weight_hz.T + bias_hz)     update gate
        n  = tanh(x @ weight_in.T + bias_in + r * (h @ weight_hn.T + bias_hn))  candidate
        h' = (1 - z) * n + z * h

    (``bias_hn`` sits inside the ``r *`` product, as in PyTorch.)  Parameters:
    weight_ir, weight_iz, weight_in (H, input_size); weight_hr, weight_hz,
    weight_hn (H, H); bias_ir, bias_iz, bias_in, bias_hr, bias_hz, bias_hn (H,);
    the weights drawn from N(0, 1) and the biases zero (the course's convention).

    ``unit(x, h=None)`` takes x (B, input_size) and h (B, H) and returns h' (B, H);
    a missing h means zeros.  The third constructor argument is accepted and
    ignored (TimeIterator passes a nonlinearity to every cell).  Forward is one
    ``F.GRUCell`` node (the equations above with a closed-form backward), fed the
    parameter Tensors on every call, so ``unit.weight_ir.data = array`` takes
    effect at once.
    """

    def __init__(self, input_size, hidden_size, nonlinearity=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        for gate in "rzn":
            setattr(self, "weight_i" + gate, _parameter(np.random.randn(hidden_size, input_size)))
        for gate in "rzn":
            setattr(self, "weight_h" + gate, _parameter(np.random.randn(hidden_size, hidden_size)))
        for name in ("bias_ir", "bias_iz", "bias_in", "bias_hr", "bias_hz", "bias_hn"):
            setattr(self, name, _parameter(np.zeros(hidden_size)))

    def __repr__(self):
        return "GRUUnit({}, {})".format(self.input_size, self.hidden_size)

    def forward(self, x, h=None):
        h = initial_hidden(self, x, h)
        return F.GRUCell.apply(x, h, self.weight_ir, self.weight_iz, self.weight_in,
                               self.weight_hr, self.weight_hz, self.weight_hn,
                               self.bias_ir, self.bias_iz, self.bias_in,
                               self.bias_hr, self.bias_hz, self.bias_hn)


class GRU(TimeIterator):
    """A GRU layer: a TimeIterator over a GRUUnit.  ``gru(packed, hidden=None)`` returns
    (a PackedSequence of the hidden states, h_last (B, H) in sorted order)."""

    def __init__(self, input_size, hidden_size):
        super().__init__(GRUUnit, input_size, hidden_size)
