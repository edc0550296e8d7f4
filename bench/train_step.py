"""Microseconds per training step of the handout's MNIST MLP: MyTorch vs NumPy by hand vs PyTorch.

    python bench/train_step.py                  # 20 rounds x 50 steps per implementation
    python bench/train_step.py --rounds 21 --steps 200
    python bench/train_step.py --quick          # 3 rounds x 30 steps (a smoke run)

Model: Linear(784, 20) -> BatchNorm1d(20) -> ReLU -> Linear(20, 10), CrossEntropyLoss,
SGD(lr=0.1, momentum=0.9), batch 100, float64.  One step is
``optimizer.zero_grad(); loss = criterion(model(x), y); loss.backward(); optimizer.step()``.

Before timing, the three implementations start from the same weights and must
produce the same losses and parameters (within 1e-10) for a few steps.  Timing
is interleaved: each round runs every implementation once, in rotated order.
Figures are medians (and minima) over rounds, in wall time and in CPU time
(which leaves out waiting for a core on a shared machine).  Ratios are the
ratio of medians and, in brackets, the median of the per-round ratios.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse

TARGET_VS_NUMPY = 1.25           # mytorch / numpy: at most
TARGET_VS_TORCH = 1.8            # torch / mytorch: at least


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
    ratio, paired = ratios(samples, "mytorch", "numpy")
    print("  mytorch/numpy = {:.3f} [{:.3f}]   target <= {}: {}".format(
        ratio, paired, TARGET_VS_NUMPY, benchlib.verdict(ratio, TARGET_VS_NUMPY, False)))
    if "torch" in samples:
        ratio, paired = ratios(samples, "torch", "mytorch")
        print("  torch/mytorch = {:.3f} [{:.3f}]   target >= {}: {}".format(
            ratio, paired, TARGET_VS_TORCH, benchlib.verdict(ratio, TARGET_VS_TORCH, True)))
        # An engine built on NumPy does at least the floor's work, so torch/numpy bounds
        # torch/mytorch from above; the torch target then caps mytorch/numpy.
        ceiling, paired = ratios(samples, "torch", "numpy")
        print("  torch/numpy   = {:.3f} [{:.3f}]   the most torch/mytorch can be here; "
              "torch/mytorch >= {} needs mytorch/numpy <= {:.3f}".format(
                  ceiling, paired, TARGET_VS_TORCH, ceiling / TARGET_VS_TORCH))
    else:
        print("  torch/mytorch = n/a   ({})".format(benchlib.TORCH_MISSING))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--steps", type=int, default=50, help="steps per round per impl")
    parser.add_argument("--quick", action="store_true", help="3 rounds x 30 steps")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.steps = 3, 30

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
