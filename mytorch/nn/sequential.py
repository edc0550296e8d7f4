"""Sequential: layers applied one after another."""
from mytorch.nn.module import Module


class Sequential(Module):
    """Passes the input through each layer in turn.

    >>> model = Sequential(Linear(784, 20), ReLU(), Linear(20, 10))
    >>> logits = model(x)
    """

    def __init__(self, *layers):
        super().__init__()
        for index, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError("Sequential: layer {} is a {}, not a Module"
                                .format(index, type(layer).__name__))
            self.add_module(str(index), layer)
        self.layers = layers

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
