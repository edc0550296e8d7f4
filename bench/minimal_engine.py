"""The least bookkeeping a Python autograd can do on the handout's MLP, timed beside MyTorch.

    python bench/minimal_engine.py              # 20 rounds x 100 steps
    python bench/minimal_engine.py --rounds 5   # quicker

A reference point for the speed targets, not a library: a micrograd-style
engine where each op returns a node holding its parents and a closure that
maps the output's gradient (a bare ndarray) to its inputs' gradients.  It has
the same fused ops (Linear, BatchNorm, ReLU, cross-entropy) and runs the same
NumPy calls as MyTorch and the floor, and the same iterative topological
order, but none of the handout's interface: no Function.apply, ContextManager,
BackwardFunction or AccumulateGrad, no Tensors around gradients, no modules,
no checks.  The gap between it and MyTorch is what that interface (and the
checks) cost; the gap between it and the floor is what any autograd costs.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse

import numpy as np


class Node:
    """A value in the graph: data, grad, parents, and the closure that backpropagates."""
    __slots__ = ("data", "grad", "parents", "backward")

    def __init__(self, data, parents=(), backward=None):
        self.data, self.grad, self.parents, self.backward = data, None, parents, backward


def run_backward(root):
    """Topological order (iterative DFS over nodes with a backward), then one pass."""
    order, seen, stack = [], {id(root)}, [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent.backward is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append((parent, iter(parent.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    root.grad = np.ones(())
    for node in reversed(order):
        for parent, grad in zip(node.parents, node.backward(node.grad)):
            if grad is not None:
                parent.grad = grad if parent.grad is None else parent.grad + grad


def linear(x, weight, bias):
    def backward(g):
        return (g @ weight.data if x.backward is not None else None,
                g.T @ x.data, g.sum(axis=0))
    return Node(x.data @ weight.data.T + bias.data, (x, weight, bias), backward)


def batch_norm(x, gamma, beta, running):
    z, n, m = x.data, x.data.shape[0], benchlib.BN_MOMENTUM
    mean = z.sum(axis=0) / n
    centered = z - mean
    var = (centered * centered).sum(axis=0) / n
    running[0] = (1 - m) * running[0] + m * mean
    running[1] = (1 - m) * running[1] + m * var * (n / (n - 1))
    inv_std = 1.0 / np.sqrt(var + benchlib.BN_EPS)
    x_hat = centered * inv_std

    def backward(g):
        grad_beta, grad_gamma = g.sum(axis=0), (g * x_hat).sum(axis=0)
        return (gamma.data * inv_std / n) * (n * g - grad_beta - x_hat * grad_gamma), \
            grad_gamma, grad_beta
    return Node(gamma.data * x_hat + beta.data, (x, gamma, beta), backward)


def relu(x):
    mask = x.data > 0
    return Node(np.maximum(x.data, 0.0), (x,), lambda g: (g * mask,))


def cross_entropy(logits, labels):
    z = logits.data
    shifted = z - z.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    sums = exps.sum(axis=1, keepdims=True)
    rows = np.arange(z.shape[0])

    def backward(g):
        grad = exps / sums
        grad[rows, labels] -= 1.0
        grad *= float(g) / grad.shape[0]
        return (grad,)
    loss = (np.log(sums[:, 0]) - shifted[rows, labels]).sum() / z.shape[0]
    return Node(np.asarray(loss), (logits,), backward)


class MinimalImpl(benchlib.Impl):
    name = "minimal"

    def __init__(self, weights):
        self.p = {key: Node(value.copy()) for key, value in weights.items()}
        self.momentum = {key: np.zeros_like(value) for key, value in weights.items()}
        self.running = [np.zeros(benchlib.SIZES[1]), np.ones(benchlib.SIZES[1])]

    def batch(self, x, y):
        return Node(x), y

    def step(self, batch):
        x, y = batch
        p = self.p
        for param in p.values():
            param.grad = None
        hidden = relu(batch_norm(linear(x, p["W1"], p["b1"]), p["gamma"], p["beta"],
                                 self.running))
        loss = cross_entropy(linear(hidden, p["W2"], p["b2"]), y)
        run_backward(loss)
        for key, param in p.items():
            delta = self.momentum[key]
            delta *= benchlib.MOMENTUM
            delta -= benchlib.LR * param.grad
            param.data += delta
        return loss

    def loss(self, value):
        return float(value.data)

    def params(self):
        return dict({key: node.data for key, node in self.p.items()},
                    running_mean=self.running[0], running_var=self.running[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    benchlib.print_environment()
    weights = benchlib.initial_weights()
    classes = (benchlib.NumpyImpl, MinimalImpl, benchlib.MyTorchImpl)
    _, largest = benchlib.check_same_math([cls(weights) for cls in classes],
                                          benchlib.synthetic_batches(3, seed=2))
    print("same math: 3 steps agree within {:.1e}".format(largest))
    runners = benchlib.step_runners(classes, weights)
    samples = benchlib.interleaved(runners, args.rounds, args.steps)["cpu"]
    floor = benchlib.median(samples["numpy"])
    print("\n{} rounds x {} steps, CPU time, us per step (median; per-round ratio median):"
          .format(args.rounds, args.steps))
    for name, values in samples.items():
        paired = benchlib.median([a / b for a, b in zip(values, samples["numpy"])])
        print("  {:8s} {:7.1f}   x{:.3f} the floor [{:.3f}]".format(
            name, benchlib.median(values), benchlib.median(values) / floor, paired))


if __name__ == "__main__":
    main()
