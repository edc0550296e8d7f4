"""Sequential: layers applied one after another."""
from mytorch.nn.module import Module


class Sequential(Module):
    """Passes the input through each layer in turn.

    >>> model = Sequential(Linear(784, 20), ReLU(), Linear(20, 10))
    >>> logits = model(x)

    As in PyTorch, a module added later (``model.add_module("head", layer)``
    or ``model.head = layer``) runs after the others, and giving a new module
    an existing name replaces that layer where it stands.
    """

    def __init__(self, *layers):
        super().__init__()
        self.layers = []
        for index, layer in enumerate(layers):
            self.add_module(str(index), layer)

    def add_module(self, name, module):
        """Register ``module`` under ``name`` and append it to ``self.layers``."""
        if not isinstance(module, Module):
            raise TypeError("Sequential: layer {} is a {}, not a Module"
                            .format(name, type(module).__name__))
        super().add_module(name, module)

    def __setattr__(self, name, value):
        was_layer = name in self.__dict__.get("_submodules", ())
        super().__setattr__(name, value)
        if (was_layer or isinstance(value, Module)) and "layers" in self.__dict__:
            # The layers are the submodules, in registration order (a replaced one keeps
            # its place), however they were added: a registered layer always runs.
            self.layers[:] = self._submodules.values()

    def __getitem__(self, index):
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
