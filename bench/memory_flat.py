"""Memory stays flat over many MyTorch training steps: each step's graph is freed.

    python bench/memory_flat.py                 # 10,000 steps, RSS every 1,000
    python bench/memory_flat.py --steps 20000 --every 2000

Prints the resident set size (from /proc/self/statm) every ``--every`` steps
and its growth from the first sample to the last (should be ~0), then counts
the graph objects still alive: with the last loss still referenced its graph
(a few nodes) is alive; after ``del loss`` there should be no BackwardFunction
left at all.  It also checks that a step leaves no reference cycles behind
(garbage only the cyclic collector could free), since those would make memory
depend on when the collector happens to run.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import gc

MIB = 2.0 ** 20


def live_objects(type_name):
    """Number of objects tracked by the garbage collector whose class is named ``type_name``."""
    gc.collect()
    return sum(1 for obj in gc.get_objects() if type(obj).__name__ == type_name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--every", type=int, default=1000)
    args = parser.parse_args()
    benchlib.print_environment()

    impl = benchlib.MyTorchImpl(benchlib.initial_weights())
    batches = [impl.batch(x, y) for x, y in benchlib.synthetic_batches(10)]

    print("\n{:>7s} {:>9s}".format("step", "RSS MiB"))
    samples = []
    loss = None
    for step in range(1, args.steps + 1):
        loss = impl.step(batches[step % len(batches)])
        if step % args.every == 0:
            samples.append(benchlib.rss_bytes())
            print("{:7d} {:9.2f}".format(step, samples[-1] / MIB))
    growth = samples[-1] - samples[0]
    print("growth from step {} to {}: {:+.2f} MiB ({:+.1f} bytes per step)".format(
        args.every, args.steps, growth / MIB, growth / max(args.steps - args.every, 1)))

    print("\nlive after the loop, last loss still referenced: {} BackwardFunction, {} Tensor"
          .format(live_objects("BackwardFunction"), live_objects("Tensor")))
    del loss
    print("live after del loss:                          {} BackwardFunction, {} Tensor"
          .format(live_objects("BackwardFunction"), live_objects("Tensor")))
    params = impl.optimizer.params
    print("(expected Tensors: {} parameters + {} grads + 2 BatchNorm running statistics + {} "
          "prepared batch tensors = {})".format(len(params), len(params), 2 * len(batches),
                                                2 * len(params) + 2 + 2 * len(batches)))

    gc.collect()
    gc.disable()
    for step in range(100):
        impl.step(batches[step % len(batches)])
    cyclic = gc.collect()
    gc.enable()
    print("objects only the cyclic GC could free, after 100 steps with gc disabled: {}"
          .format(cyclic))


if __name__ == "__main__":
    main()
