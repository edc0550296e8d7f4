"""BatchNorm1d: normalize each feature over the batch (handout 2.4 and Appendix C)."""
import numpy as np

import mytorch.nn.functional as F
from mytorch.nn.module import Module, check_input
from mytorch.tensor import Tensor


class BatchNorm1d(Module):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta for x of shape (N, num_features).

    Training (``is_train``): mean and the biased variance come from the batch,
    and the running statistics move towards the batch mean and the unbiased
    variance by ``momentum`` (= 1 - alpha in the handout's eqs. 8-9).
    Evaluation: the running statistics are used instead.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) \
                or num_features < 1:
            raise ValueError("BatchNorm1d: num_features must be a positive integer, got {!r}"
                             .format(num_features))
        if not eps > 0:
            raise ValueError("BatchNorm1d: eps must be positive, got {!r}".format(eps))
        if not 0 <= momentum <= 1:
            raise ValueError("BatchNorm1d: momentum must lie in [0, 1], got {!r}"
                             .format(momentum))
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.gamma = Tensor(np.ones(num_features), requires_grad=True, is_parameter=True)
        self.beta = Tensor(np.zeros(num_features), requires_grad=True, is_parameter=True)
        self.running_mean = Tensor(np.zeros(num_features))      # buffers, not parameters
        self.running_var = Tensor(np.ones(num_features))

    def __repr__(self):
        return "BatchNorm1d({})".format(self.num_features)

    def forward(self, x):
        check_input(self, x, self.num_features)
        if self.is_train and x.shape[0] < 2:
            raise ValueError("{}: training needs more than one sample per batch to estimate a "
                             "variance, got input of shape {} (call model.eval() to use the "
                             "running statistics)".format(self, x.shape))
        return F.BatchNorm.apply(x, self.gamma, self.beta, self.running_mean, self.running_var,
                                 self.is_train, self.momentum, self.eps)
