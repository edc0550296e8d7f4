"""Backward time of long op chains (linear in graph size?) and of a doubling graph.

    python bench/backward_scaling.py            # chains of 1e3, 1e4, 1e5 ops, 3 repeats
    python bench/backward_scaling.py --repeats 5 --max-exp 4

Chains: y = y * c (c a constant Tensor) and y = y + 1 on a 3-element tensor,
then y.sum().backward().  If backward is linear in the number of nodes, the
microseconds per node stay roughly constant from 1e3 to 1e5.  What still
grows with size is Python's cyclic garbage collector rescanning the ever
larger live graph, which is why backward is also timed with the collector
paused (gc.disable() around backward() only), and why the forward column
(for context) grows too.  Doubling graph:
y = y + y twenty times; there are 2**20 paths to x but only 21 nodes, so a
correct engine visits each node once and takes well under a second
(x.grad = 2**20).  Everything runs at Python's default recursion limit, so
the 1e5-op chain would fail if the engine (or graph teardown) recursed.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import gc
import sys
import time

import numpy as np

from mytorch.tensor import Tensor


def graph_nodes(root):
    """Number of distinct graph nodes reachable from ``root`` (a grad_fn)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in stack.pop().next_functions:
            if parent is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def build_chain(kind, length):
    """(x, y): y made from x by ``length`` ops of ``kind`` ('mul' or 'add')."""
    x = Tensor(np.full(3, 0.5), requires_grad=True)
    c = Tensor(np.full(3, 1.0001))
    y = x
    for _ in range(length):
        y = y * c if kind == "mul" else y + 1
    return x, y


def time_chain(kind, length, collector=True):
    """(forward seconds, backward seconds, nodes) for one chain; checks the gradient.

    ``collector``: leave Python's cyclic garbage collector on during backward."""
    start = time.perf_counter()
    x, y = build_chain(kind, length)
    loss = y.sum()
    built = time.perf_counter()
    nodes = graph_nodes(loss.grad_fn)
    if not collector:
        gc.disable()
    begin = time.perf_counter()
    loss.backward()
    done = time.perf_counter()
    gc.enable()
    expected = 1.0001 ** length if kind == "mul" else 1.0
    if not np.allclose(x.grad.data, expected, rtol=1e-9):
        raise AssertionError("{} chain of {}: x.grad {} != {}".format(
            kind, length, x.grad.data, expected))
    return built - start, done - begin, nodes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-exp", type=int, default=5, help="longest chain is 10**max_exp")
    args = parser.parse_args()
    benchlib.print_environment()
    print("# recursion limit: {} (Python's default, not raised)".format(sys.getrecursionlimit()))

    lengths = [10 ** e for e in range(3, args.max_exp + 1)]
    print("\nchains (median of {} repeats, interleaved; 10x more for 1e3 ops)".format(args.repeats))
    print("  {:4s} {:>7s} {:>7s} {:>12s} {:>17s} {:>17s} {:>14s}".format(
        "op", "ops", "nodes", "backward ms", "backward us/node", "same, GC paused", "forward us/op"))
    for kind in ("mul", "add"):
        results = {(length, on): [] for length in lengths for on in (True, False)}
        for _ in range(args.repeats):                # interleave sizes within each repeat
            for length in lengths:
                for on in (True, False):
                    for _ in range(max(1, 10 ** 4 // length)):   # short chains: more samples
                        results[length, on].append(time_chain(kind, length, collector=on))
        for length in lengths:
            forward = benchlib.median([r[0] for r in results[length, True]])
            backward = benchlib.median([r[1] for r in results[length, True]])
            paused = benchlib.median([r[1] for r in results[length, False]])
            nodes = results[length, True][0][2]
            print("  {:4s} {:7d} {:7d} {:12.2f} {:17.2f} {:17.2f} {:14.2f}".format(
                kind, length, nodes, backward * 1e3, backward / nodes * 1e6,
                paused / nodes * 1e6, forward / length * 1e6))

    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(20):
        y = y + y
    loss = y.sum()
    nodes = graph_nodes(loss.grad_fn)
    start = time.perf_counter()
    loss.backward()
    elapsed = time.perf_counter() - start
    assert np.all(x.grad.data == 2.0 ** 20), x.grad
    print("\ndoubling graph y = y + y x 20: {} nodes (incl. sum and x's AccumulateGrad), "
          "2**20 paths, backward {:.3f} ms, x.grad = 2**20 OK".format(nodes, elapsed * 1e3))


if __name__ == "__main__":
    main()
