"""Problem 3: a CNN for input (N, 24, 60), and the width its convolutions leave.

    from hw2 import CNN          # with hw2/ on sys.path, as the course's code does

    model = CNN()
    logits = model(Tensor(x))    # x (N, 24, 60) -> logits (N, 10)
"""
from mytorch.nn.activations import ReLU, Sigmoid, Tanh
from mytorch.nn.conv import Conv1d, Flatten
from mytorch.nn.functional import get_conv1d_output_size
from mytorch.nn.linear import Linear
from mytorch.nn.module import Module
from mytorch.nn.sequential import Sequential

INPUT_WIDTH = 60        # time steps of the input (N, 24, 60)


class CNN(Module):
    """Conv1d(24, 56, 5, 1) -> Tanh -> Conv1d(56, 28, 6, 2) -> ReLU -> Conv1d(28, 14, 2, 2)
    -> Sigmoid -> Flatten -> Linear(14 * 13, 10), for input (N, 24, 60).

    The layers are in ``self.layers``, a Sequential (so ``self.layers.layers`` is their
    list).  The 13 is the width the three convolutions leave of the input's 60,
    computed by ``get_final_conv_output_size``.
    """

    def __init__(self):
        super().__init__()
        convolutions = [Conv1d(24, 56, 5, 1), Tanh(),
                        Conv1d(56, 28, 6, 2), ReLU(),
                        Conv1d(28, 14, 2, 2), Sigmoid()]
        width = get_final_conv_output_size(convolutions, INPUT_WIDTH)
        self.layers = Sequential(*convolutions, Flatten(), Linear(14 * width, 10))

    def forward(self, x):
        """x (N, 24, 60) -> logits (N, 10)."""
        return self.layers(x)


def get_final_conv_output_size(layers, input_size):
    """The width of the data after ``layers`` (before a Flatten), for input width
    ``input_size``: each layer with a kernel (a Conv1d, or a pooling layer) maps the
    width w to ``get_conv1d_output_size(w, kernel_size, stride)``; the others (the
    activations) keep it.

    >>> get_final_conv_output_size([Conv1d(24, 56, 5, 1), Tanh(), Conv1d(56, 28, 6, 2)], 60)
    26
    """
    width = input_size
    for layer in layers:
        if hasattr(layer, "kernel_size") and hasattr(layer, "stride"):
            width = get_conv1d_output_size(width, layer.kernel_size, layer.stride)
    return width
