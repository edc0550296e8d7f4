"""Dropout (HW1 bonus): randomly zero activations while training, as a regularizer."""
import mytorch.nn.functional as F
from mytorch.nn.module import Module
from mytorch.tensor import Tensor


class Dropout(Module):
    """Zero each element with probability ``p`` in training; the identity in evaluation.

    Training (``is_train``): ``F.Dropout.apply(x, p, True)`` draws a fresh mask
    each forward with ``np.random.binomial(1, 1 - p, size=x.shape)`` and scales
    the survivors by 1 / (1 - p), so every element keeps its expected value and
    evaluation needs no rescaling.  ``np.random.seed`` reproduces the masks.
    Evaluation (after ``model.eval()``): returns ``x`` itself, with no copy and
    no graph node.  (``F.Dropout.apply(x, p, False)`` called directly is an
    identity node instead, which backward passes the gradient through.)

    >>> model = Sequential(Linear(784, 20), ReLU(), Dropout(0.2), Linear(20, 10))
    """

    def __init__(self, p=0.5):
        super().__init__()
        F.check_probability("Dropout", p)
        self.p = float(p)

    def __repr__(self):
        return "Dropout(p={})".format(self.p)

    def forward(self, x):
        if self.is_train:
            return F.Dropout.apply(x, self.p, self.is_train)
        if not isinstance(x, Tensor):
            raise TypeError("Dropout expects a Tensor, got {} (wrap data with Tensor(...))"
                            .format(type(x).__name__))
        return x
