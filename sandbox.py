"""Sandbox: the handout's worked example, and a place to try your own ops.

    python3 sandbox.py
"""
import numpy as np

from mytorch import Tensor, gradcheck


def worked_example():
    """Handout section 0.1: e = (a*b + a) + c + 3 with a, c requiring grad and b constant."""
    a = Tensor(1., requires_grad=True)
    b = Tensor(2.)
    c = Tensor(3., requires_grad=True)

    d = a * b + a
    e = (d + c) + 3
    e.backward()

    print("e      =", e)             # 9
    print("a.grad =", a.grad)        # de/da = b + 1 = 3
    print("b.grad =", b.grad)        # None: b is a constant
    print("c.grad =", c.grad)        # de/dc = 1
    print("d.grad =", d.grad)        # None: only leaves store gradients
    return e, a, b, c


def check_a_composite():
    """gradcheck compares backward with finite differences; use it on your own ops."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)

    def layer(x, w, b):
        return ((x @ w.T() + b).relu() ** 2 / 3 - x.sum(axis=1, keepdims=True).exp()).mean()

    print("gradcheck(layer) =", gradcheck(layer, (x, w, b)))


if __name__ == "__main__":
    worked_example()
    check_a_composite()
