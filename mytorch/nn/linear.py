"""Linear: the fully connected layer y = x W^T + b."""
import numpy as np

import mytorch.nn.functional as F
from mytorch.nn.module import Module, check_input
from mytorch.tensor import Tensor


class Linear(Module):
    """y = x @ weight.T + bias, for x of shape (N, in_features), or (*, in_features) with
    any number of leading axes, as in torch.nn.Linear.

    weight (out_features, in_features) and bias (out_features,) start uniform
    in [-1/sqrt(in_features), 1/sqrt(in_features)], as in torch.nn.Linear.
    """

    def __init__(self, in_features, out_features):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError("Linear: {} must be a positive integer, got {!r}"
                                 .format(name, value))
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Tensor(np.random.uniform(-bound, bound, (out_features, in_features)),
                             requires_grad=True, is_parameter=True)
        self.bias = Tensor(np.random.uniform(-bound, bound, out_features),
                           requires_grad=True, is_parameter=True)

    def __repr__(self):
        return "Linear({}, {})".format(self.in_features, self.out_features)

    def forward(self, x):
        check_input(self, x, self.in_features, leading_dims=True)
        # One node for x @ weight.T() + bias: same values and gradients, less overhead.
        return F.Linear.apply(x, self.weight, self.bias)
