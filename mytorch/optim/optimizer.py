"""Optimizer: the base class of parameter-update rules."""
from mytorch.tensor import Tensor


class Optimizer:
    """Holds the parameters to update; subclasses implement ``step``."""

    def __init__(self, params):
        self.params = list(params)
        if not self.params:
            raise ValueError("{} got an empty parameter list (did the model register its "
                             "layers as attributes?)".format(type(self).__name__))
        for index, param in enumerate(self.params):
            if not (isinstance(param, Tensor) and param.requires_grad):
                raise TypeError("{}: parameter {} is not a Tensor that requires grad"
                                .format(type(self).__name__, index))

    def step(self):
        raise NotImplementedError("{} must implement step".format(type(self).__name__))

    def zero_grad(self):
        """Forget the gradients of the last backward (they would accumulate otherwise)."""
        for param in self.params:
            param.grad = None
