"""Activation layers, each a Module over one op of nn/functional.py."""
import mytorch.nn.functional as F
from mytorch.nn.module import Module

__all__ = ["ReLU", "Sigmoid", "Tanh"]


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x):
        return F.ReLU.apply(x)


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        return F.Sigmoid.apply(x)


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x):
        return F.Tanh.apply(x)
