"""Convolution and pooling layers (HW2P1 and its bonus), and Flatten.

Each layer checks its arguments and calls one Function of nn/functional.py
(``F.Conv1d``, ``F.Conv2d``, ``F.MaxPool2d``, ``F.AvgPool2d``); Flatten is a
reshape.  As in PyTorch, convolution is cross-correlation and there is no
padding; unlike PyTorch, kernels are square and one int stride serves every axis.
"""
import numpy as np

import mytorch.nn.functional as F
from mytorch.nn.module import Module
from mytorch.tensor import Tensor

__all__ = ["Conv1d", "Conv2d", "Flatten", "MaxPool2d", "AvgPool2d"]


def _positive_int(layer, name, value):
    """``value`` as an int, or a ValueError naming ``layer`` and ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("{}: {} must be a positive integer, got {!r}".format(layer, name, value))
    return int(value)


def _check_layer_input(layer, x, dims, channels=None):
    """Raise a clear error naming ``layer`` (its repr) unless ``x`` is a Tensor of
    rank 2 + dims with ``channels`` channels (any, if None)."""
    layout = "(N, {}, W)" if dims == 1 else "(N, {}, H, W)"
    layout = layout.format("C" if channels is None else channels)
    if not isinstance(x, Tensor):
        raise TypeError("{} expects a Tensor {}, got {} (wrap data with Tensor(...))"
                        .format(layer, layout, type(x).__name__))
    if x.data.ndim != 2 + dims:
        raise ValueError("{} expects an input of shape {}, got {} ({}-D)"
                         .format(layer, layout, x.shape, x.data.ndim))
    if channels is not None and x.shape[1] != channels:
        raise ValueError("{} expects an input of shape {}: {} input channels, got {} "
                         "(shape {})".format(layer, layout, channels, x.shape[1], x.shape))


class _ConvNd(Module):
    """What Conv1d and Conv2d share: arguments, the course's initialisation, checks."""

    dims = None
    function = None

    def __init__(self, in_channel, out_channel, kernel_size, stride=1):
        super().__init__()
        name = type(self).__name__
        self.in_channel = _positive_int(name, "in_channel", in_channel)
        self.out_channel = _positive_int(name, "out_channel", out_channel)
        self.kernel_size = _positive_int(name, "kernel_size", kernel_size)
        self.stride = _positive_int(name, "stride", stride)
        # The course's given code: weights from N(0, 1), zero biases.
        shape = (self.out_channel, self.in_channel) + (self.kernel_size,) * self.dims
        self.weight = Tensor(np.random.normal(0, 1, shape), requires_grad=True,
                             is_parameter=True)
        self.bias = Tensor(np.zeros(self.out_channel), requires_grad=True, is_parameter=True)

    def __repr__(self):
        return "{}({}, {}, kernel_size={}, stride={})".format(
            type(self).__name__, self.in_channel, self.out_channel, self.kernel_size,
            self.stride)

    def forward(self, x):
        _check_layer_input(self, x, self.dims, self.in_channel)
        return self.function.apply(x, self.weight, self.bias, self.stride)


class Conv1d(_ConvNd):
    """1-D convolution over x of shape (N, in_channel, W): the output is
    (N, out_channel, W_out), W_out = (W - kernel_size) // stride + 1.

    weight (out_channel, in_channel, kernel_size) and bias (out_channel,).

    >>> conv = Conv1d(24, 56, 5)            # in_channel, out_channel, kernel_size, stride=1
    >>> conv(Tensor.randn(2, 24, 60)).shape
    (2, 56, 56)
    """

    dims = 1
    function = F.Conv1d


class Conv2d(_ConvNd):
    """2-D convolution with a square kernel over x of shape (N, in_channel, H, W): the
    output is (N, out_channel, H_out, W_out), each size (n - kernel_size) // stride + 1.

    weight (out_channel, in_channel, kernel_size, kernel_size) and bias (out_channel,).

    >>> conv = Conv2d(1, 8, 5)
    >>> conv(Tensor.randn(2, 1, 28, 28)).shape
    (2, 8, 24, 24)
    """

    dims = 2
    function = F.Conv2d


class _Pool2d(Module):
    """What MaxPool2d and AvgPool2d share: kernel size, stride (default: the kernel size)."""

    function = None

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = _positive_int(name, "kernel_size", kernel_size)
        self.stride = self.kernel_size if stride is None else _positive_int(name, "stride",
                                                                           stride)

    def __repr__(self):
        return "{}(kernel_size={}, stride={})".format(type(self).__name__, self.kernel_size,
                                                      self.stride)

    def forward(self, x):
        _check_layer_input(self, x, 2)
        return self.function.apply(x, self.kernel_size, self.stride)


class MaxPool2d(_Pool2d):
    """The maximum of each kernel_size x kernel_size window of x (N, C, H, W), moving by
    ``stride`` (default: kernel_size, so windows do not overlap), as torch.nn.MaxPool2d.
    The gradient goes to each window's first maximum in row-major order."""

    function = F.MaxPool2d


class AvgPool2d(_Pool2d):
    """The mean of each kernel_size x kernel_size window of x (N, C, H, W), moving by
    ``stride`` (default: kernel_size), as torch.nn.AvgPool2d."""

    function = F.AvgPool2d


class Flatten(Module):
    """(N, d1, d2, ...) -> (N, d1 * d2 * ...), in C order (the last axis varies fastest),
    as torch.nn.Flatten: a reshape, so backward restores the shape.

    >>> Flatten()(Tensor.zeros(2, 4, 31)).shape
    (2, 124)
    """

    def __repr__(self):
        return "Flatten()"

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError("Flatten expects a Tensor, got {}".format(type(x).__name__))
        if x.data.ndim < 2:
            raise ValueError("Flatten expects an input of shape (N, d1, ...) with a batch axis, "
                             "got {}".format(x.shape))
        return x.reshape(x.shape[0], -1)
