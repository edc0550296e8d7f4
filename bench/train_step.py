"""Microseconds per training step of the handout's MNIST MLP: MyTorch vs NumPy by hand vs PyTorch.

    python bench/train_step.py                  # 20 rounds x 50 steps per implementation
    python bench/train_step.py --rounds 21 --steps 200
    python bench/train_step.py --quick          # 3 rounds x 30 steps (a smoke run)
    python bench/train_step.py --profile        # where MyTorch's step spends its time
    python bench/train_step.py --bytecodes      # Python bytecodes per step (exact, noise-free)

Model: Linear(784, 20) -> BatchNorm1d(20) -> ReLU -> Linear(20, 10), CrossEntropyLoss,
SGD(lr=0.1, momentum=0.9), batch 100, float64.  One step is
``optimizer.zero_grad(); loss = criterion(model(x), y); loss.backward(); optimizer.step()``.

Before timing, the three implementations start from the same weights and must
produce the same losses and parameters (within 1e-10) for a few steps.  Timing
is interleaved: each round runs every implementation once, in rotated order.
Figures are medians (and minima) over rounds, in wall time and in CPU time
(which leaves out waiting for a core on a shared machine).  Ratios are the
ratio of medians and, in brackets, the median of the per-round ratios.

--profile runs cProfile over MyTorch's step and prints the functions with the
most time of their own.  --bytecodes counts the Python bytecodes one step runs,
by function, for MyTorch and the NumPy floor: the count is the same on every
run, where time drifts, so it shows what a change to the engine's bookkeeping
saves.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import ast
import collections
import cProfile
import functools
import os
import pstats
import sys


def ratios(samples, top, bottom):
    """(ratio of the medians, median of the per-round ratios) of two implementations."""
    med = benchlib.median
    return (med(samples[top]) / med(samples[bottom]),
            med([a / b for a, b in zip(samples[top], samples[bottom])]))


def report(samples, clock):
    print("\n{} time, us per step:".format(clock))
    print("  {:8s} {:>9s} {:>9s}   rounds".format("impl", "median", "min"))
    for name, values in samples.items():
        print("  {:8s} {:9.1f} {:9.1f}   {}".format(
            name, benchlib.median(values), min(values),
            " ".join("{:.0f}".format(v) for v in values)))
    print("  mytorch/numpy = {:.3f} [{:.3f}]   MyTorch's cost over the same math by hand"
          .format(*ratios(samples, "mytorch", "numpy")))
    if "torch" in samples:
        print("  torch/mytorch = {:.3f} [{:.3f}]   above 1: MyTorch is the faster"
              .format(*ratios(samples, "torch", "mytorch")))
        print("  torch/numpy   = {:.3f} [{:.3f}]   an engine on NumPy does at least the floor's "
              "work, so torch/mytorch cannot exceed this".format(*ratios(samples, "torch", "numpy")))
    else:
        print("  torch/mytorch = n/a   ({})".format(benchlib.TORCH_MISSING))


def prepared(cls, weights, warmup=30):
    """An implementation from ``weights`` with 10 prepared batches, warmed up."""
    impl = cls(weights)
    batches = [impl.batch(x, y) for x, y in benchlib.synthetic_batches(10)]
    benchlib.time_steps(impl, batches, warmup)
    return impl, batches


def profile(steps, top):
    """cProfile of MyTorch's step: the functions with the most time of their own."""
    impl, batches = prepared(benchlib.MyTorchImpl, benchlib.initial_weights())
    profiler = cProfile.Profile()
    profiler.enable()
    benchlib.time_steps(impl, batches, steps)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print("\n{} steps under cProfile: {:.0f} us per step (the profiler inflates Python "
          "calls; the timing run gives the real figure)\n".format(
              steps, stats.total_tt / steps * 1e6))
    print("{:>9s} {:>10s} {:>10s}  function".format("calls/st", "own us/st", "cum us/st"))
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]
    for (filename, line, name), (_, calls, own, cumulative, _) in rows:
        where = os.path.relpath(filename, benchlib.REPO) if filename.startswith(benchlib.REPO) \
            else os.path.basename(filename)
        print("{:9.1f} {:10.1f} {:10.1f}  {} ({}:{})".format(
            calls / steps, own / steps * 1e6, cumulative / steps * 1e6,
            _methods(filename).get(line, name), where, line))
    print("\n(NumPy's operators are not calls: the products' time counts in the function "
          "that runs them, e.g. Linear.forward/backward, and the NumPy floor pays it too.)")


@functools.lru_cache(maxsize=None)
def _methods(path):
    """{first line: "Class.method"} in the Python file ``path`` (cProfile names only the
    function, and every op has a ``forward``)."""
    try:
        with open(path) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    names = {}
    for cls in ast.walk(tree):
        for node in cls.body if isinstance(cls, ast.ClassDef) else ():
            if isinstance(node, ast.FunctionDef):          # code starts at the 1st decorator
                first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
                names[first] = names[node.lineno] = "{}.{}".format(cls.name, node.name)
    return names


def bytecodes(steps, top):
    """Python bytecodes and calls per step, by function, for the NumPy floor and MyTorch."""
    weights, totals = benchlib.initial_weights(), {}
    for cls in (benchlib.NumpyImpl, benchlib.MyTorchImpl):
        impl, batches = prepared(cls, weights, warmup=5)
        counts, calls = collections.Counter(), collections.Counter()

        def on_call(frame, event, arg):
            frame.f_trace_opcodes = True
            code = frame.f_code
            where = os.path.relpath(code.co_filename, benchlib.REPO) \
                if code.co_filename.startswith(benchlib.REPO) \
                else os.path.basename(code.co_filename)
            key = "{} ({}:{})".format(getattr(code, "co_qualname", code.co_name), where,
                                      code.co_firstlineno)
            calls[key] += 1

            def on_opcode(frame, event, arg):
                if event == "opcode":
                    counts[key] += 1
                return on_opcode
            return on_opcode

        sys.settrace(on_call)
        try:
            for i in range(steps):
                impl.step(batches[i % len(batches)])
        finally:
            sys.settrace(None)
        totals[impl.name] = sum(counts.values()) / steps
        print("\n{}: {:.0f} bytecodes and {:.0f} Python calls per step".format(
            impl.name, totals[impl.name], sum(calls.values()) / steps))
        print("  {:>9s} {:>7s}  function".format("bytecodes", "calls"))
        for key, count in counts.most_common(top):
            print("  {:9.0f} {:7.1f}  {}".format(count / steps, calls[key] / steps, key))
    print("\nMyTorch runs {:.0f} bytecodes per step beyond the floor's {:.0f}.".format(
        totals["mytorch"] - totals["numpy"], totals["numpy"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50, help="steps per round per impl")
    parser.add_argument("--quick", action="store_true", help="3 rounds x 30 steps")
    parser.add_argument("--profile", action="store_true",
                        help="profile MyTorch's step (2,000 steps) instead of timing")
    parser.add_argument("--bytecodes", action="store_true",
                        help="count the bytecodes of a step (10 steps) instead of timing")
    parser.add_argument("--top", type=int, default=25, help="functions shown by "
                        "--profile and --bytecodes")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.steps = 3, 30

    if args.profile or args.bytecodes:
        benchlib.print_environment()
        return profile(2000, args.top) if args.profile else bytecodes(10, args.top)

    classes = benchlib.available_impls()
    benchlib.print_environment()
    if benchlib.torch is None:
        print("# " + benchlib.TORCH_MISSING)

    weights = benchlib.initial_weights(seed=0)
    check = [cls(weights) for cls in classes]
    losses, largest = benchlib.check_same_math(check, benchlib.synthetic_batches(3, seed=2))
    print("same math: from the same weights, 3 steps' losses, parameters and running statistics "
          "agree (largest difference {:.1e} <= 1e-10):".format(largest))
    for name, values in losses.items():
        print("  {:8s} {}".format(name, "  ".join("{:.12f}".format(v) for v in values)))

    runners = benchlib.step_runners(classes, weights)
    samples = benchlib.interleaved(runners, args.rounds, args.steps)

    print("\n{} rounds x {} steps per implementation, batch {}, float64".format(
        args.rounds, args.steps, benchlib.BATCH))
    report(samples["wall"], "wall")
    report(samples["cpu"], "CPU")


if __name__ == "__main__":
    main()
