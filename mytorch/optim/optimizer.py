"""Optimizer: the base class of parameter-update rules."""
from mytorch.tensor import Tensor


class Optimizer:
    """Holds the parameters to update, each once; subclasses implement ``step``.

    A parameter listed twice is a ValueError (each step would update it twice), and
    so is, in ``step``, a ``.grad`` whose shape is not its parameter's.
    """

    def __init__(self, params):
        self.params = list(params)
        name = type(self).__name__
        if not self.params:
            raise ValueError("{} got an empty parameter list (did the model register its "
                             "layers as attributes?)".format(name))
        first = {}                                  # id(param) -> its first index
        for index, param in enumerate(self.params):
            if not (isinstance(param, Tensor) and param.requires_grad):
                raise TypeError("{}: parameter {} is not a Tensor that requires grad"
                                .format(name, index))
            if id(param) in first:
                # torch 2.13 warns, then updates it twice per step; its warning says this
                # will become an error.
                raise ValueError("{}: parameter {} is the same Tensor as parameter {}, so each "
                                 "step would update it twice; pass each parameter once"
                                 .format(name, index, first[id(param)]))
            first[id(param)] = index

    def step(self):
        raise NotImplementedError("{} must implement step".format(type(self).__name__))

    def _wrong_shape(self, param, state_shape):
        """The error for a parameter whose ``.grad`` (set by hand, say) or whose own shape
        differs from the shape its optimizer state (``state_shape``) was made for: NumPy
        would broadcast one into the other without a word."""
        index = next(i for i, p in enumerate(self.params) if p is param)
        shape, grad_shape = param.data.shape, param.grad.data.shape
        if shape != state_shape:
            return ValueError("{}.step: parameter {} has shape {}, but it had shape {} when the "
                              "optimizer was made; make a new optimizer after changing the "
                              "shape of a parameter".format(type(self).__name__, index, shape,
                                                            state_shape))
        return ValueError("{}.step: parameter {} has shape {}, but its .grad has shape {}; a "
                          "gradient must have its parameter's shape"
                          .format(type(self).__name__, index, shape, grad_shape))

    def zero_grad(self):
        """Forget the gradients of the last backward (they would accumulate otherwise)."""
        for param in self.params:
            param.grad = None
