"""Sandbox: the handout's worked example, and a place to try your own ops.

    python3 sandbox.py

prints the worked example's results and its graph as a tree, and draws the
graph to worked_example.png next to this file (when matplotlib is installed).
"""
import os

import numpy as np

from mytorch import Tensor, gradcheck, viz

GRAPH_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worked_example.png")


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
    return e, a, b, c, d


def see_the_graph(e, a, c, d):
    """The graph behind e, as in the handout's figures: as text, and as a picture."""
    names = {"e": e, "d": d, "a": a, "c": c}     # b and 3 are constants: None in the graph
    print("\nThe graph of e (each node, then the nodes in its next_functions):")
    viz.show(e, params=names)
    try:
        viz.draw(e, GRAPH_PATH, params=names)
    except ImportError as error:
        print("No picture:", error)
    else:
        print("Drew it to", os.path.basename(GRAPH_PATH))


def check_a_composite():
    """gradcheck compares backward with finite differences; use it on your own ops."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)

    def layer(x, w, b):
        return ((x @ w.T() + b).relu() ** 2 / 3 - x.sum(axis=1, keepdims=True).exp()).mean()

    print("gradcheck(layer) =", gradcheck(layer, (x, w, b)))


def main():
    """Run each part that the code written so far can run; in a practice-mode starter, say
    which part waits for which problem instead of stopping at the first one."""
    missing = []

    def attempt(title, part, *args):
        try:
            return part(*args)
        except NotImplementedError as error:      # practice mode: a part not written yet
            missing.append("{}: needs {}".format(title, error))
            return None

    example = attempt("the worked example", worked_example)
    if example is not None:
        e, a, b, c, d = example
        attempt("its graph", see_the_graph, e, a, c, d)
    else:
        missing.append("its graph: needs the worked example")
    attempt("gradcheck of a layer", check_a_composite)
    if missing:
        print("\nNot run yet (practice mode: the code they need is not written yet):")
        for line in missing:
            print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
