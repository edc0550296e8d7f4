"""SGD with momentum (handout 2.3 and 2.6)."""
import numpy as np

from mytorch.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with momentum.

    For each parameter W with gradient g (handout 2.6):
        delta_k = momentum * delta_{k-1} - lr * g        (self.momentums)
        W_k     = W_{k-1} + delta_k
    With momentum 0 this is W_k = W_{k-1} - lr * g (handout 2.3).  The update
    edits ``.data`` in place, so it is not recorded in the graph and the
    parameters stay leaves.
    """

    def __init__(self, params, lr=0.001, momentum=0.0):
        super().__init__(params)
        if not lr >= 0:
            raise ValueError("SGD: lr must be >= 0, got {!r}".format(lr))
        if not 0 <= momentum < 1:
            raise ValueError("SGD: momentum must lie in [0, 1), got {!r}".format(momentum))
        self.lr = lr
        self.momentum = momentum
        self.momentums = [np.zeros(param.shape) for param in self.params]

    def step(self):
        """Update every parameter that has a gradient (handout 2.3); skip the others."""
        for param, delta in zip(self.params, self.momentums):
            grad = param.grad
            if grad is None:
                continue
            if grad._data.shape != delta.shape:          # a .grad set by hand, say
                raise self._wrong_shape(param, delta.shape)
            if self.momentum:
                self.momentum_step(param, delta)
            else:
                param.data -= self.lr * param.grad.data   # in place: the setter bumps the version

    def momentum_step(self, param, delta):
        """One momentum update of ``param`` (handout 2.6), in place:
        delta = momentum * delta - lr * grad, then W = W + delta."""
        delta *= self.momentum
        delta -= self.lr * param.grad.data
        param.data += delta
