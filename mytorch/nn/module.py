"""Module: the base class of layers, losses and models."""
from mytorch.tensor import Tensor


class Module:
    """A layer or a model: holds parameters and submodules, and runs ``forward`` when called.

    Assigning a parameter Tensor (``is_parameter=True``) or a Module to an
    attribute registers it, so ``parameters()`` finds it.  A parameter can be
    replaced by another parameter, or by a constant (no grad) or None, which
    unregisters it; replacing it by a Tensor that requires grad but is not a
    parameter is a TypeError (the optimizer would silently skip it):

    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Tensor([2.0], requires_grad=True, is_parameter=True)
    ...     def forward(self, x):
    ...         return x * self.w
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_submodules", {})
        self.is_train = True

    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError("{}.__init__ must call super().__init__() before it sets "
                                 "attributes".format(type(self).__name__))
        is_parameter = isinstance(value, Tensor) and value.is_parameter
        if not is_parameter and name in self._parameters:
            if isinstance(value, Tensor) and value.requires_grad:
                # Silently unregistering it would leave the weight out of parameters(),
                # so the optimizer would never train it.
                raise TypeError(
                    "{0}.{1} is a parameter; the new Tensor requires grad but is not one, so "
                    "the optimizer would never update it: create it with Tensor(..., "
                    "requires_grad=True, is_parameter=True), or set the values with "
                    "{0}.{1}.data = ...".format(type(self).__name__, name))
            del self._parameters[name]
        if not isinstance(value, Module):
            self._submodules.pop(name, None)
        if is_parameter:
            self._parameters[name] = value         # a replaced one keeps its place
        elif isinstance(value, Module):
            self._submodules[name] = value
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: explain the usual cause.
        if name in ("_parameters", "_submodules", "is_train"):
            raise AttributeError("{}.__init__ must call super().__init__() (the Module's {!r} "
                                 "is missing)".format(type(self).__name__, name))
        raise AttributeError("{!r} object has no attribute {!r}"
                             .format(type(self).__name__, name))

    def add_module(self, name, module):
        """Register ``module`` as a submodule under ``name``."""
        setattr(self, name, module)

    def register_parameter(self, name, param):
        """Register ``param`` (a Tensor with is_parameter=True) under ``name``."""
        if not (isinstance(param, Tensor) and param.is_parameter):
            raise TypeError("register_parameter: {!r} is not a parameter Tensor".format(name))
        setattr(self, name, param)

    def parameters(self):
        """Every parameter of this module and its submodules, in registration order, once each."""
        params, seen = [], set()
        for module in self._modules_in_order():
            for param in module._parameters.values():
                if id(param) not in seen:
                    seen.add(id(param))
                    params.append(param)
        return params

    def _modules_in_order(self):
        """This module, then its submodules depth-first (iteratively: no recursion limit)."""
        order, stack = [], [self]
        while stack:
            module = stack.pop()
            order.append(module)
            stack.extend(reversed(list(module._submodules.values())))
        return order

    def train(self):
        """Training mode for this module and every submodule (BatchNorm uses batch statistics)."""
        for module in self._modules_in_order():
            module.is_train = True
        return self

    def eval(self):
        """Evaluation mode for this module and every submodule (BatchNorm uses running statistics)."""
        for module in self._modules_in_order():
            module.is_train = False
        return self

    def forward(self, *args):
        raise NotImplementedError("{} must implement forward".format(type(self).__name__))

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


def check_input(layer, x, features, leading_dims=False):
    """Raise a clear error, naming ``layer``, unless ``x`` is a Tensor of shape (N, features),
    or with ``leading_dims`` of shape (*, features): any number of leading axes, as
    torch.nn.Linear takes."""
    if isinstance(x, Tensor) and x.data.ndim == 2 and x.shape[1] == features:
        return
    if not isinstance(x, Tensor):
        raise TypeError("{} expects a Tensor, got {} (wrap data with Tensor(...))"
                        .format(layer, type(x).__name__))
    if leading_dims:
        if x.data.ndim == 0 or x.shape[-1] != features:
            raise ValueError("{} expects input of shape (*, {}), got {}"
                             .format(layer, features, x.shape))
    elif x.data.ndim != 2 or x.shape[1] != features:
        raise ValueError("{} expects input of shape (N, {}), got {}"
                         .format(layer, features, x.shape))
