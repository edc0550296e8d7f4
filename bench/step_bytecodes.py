"""Python bytecodes and calls per training step, by function: a noise-free view of overhead.

    python bench/step_bytecodes.py              # MyTorch and the NumPy floor, top 25 functions
    python bench/step_bytecodes.py --top 60

Wall time on a shared VM drifts by +-15 % from minute to minute; the number of
bytecodes the interpreter runs for one step does not.  The NumPy floor runs a
few hundred (its time is NumPy's); everything MyTorch runs beyond that is the
engine's bookkeeping (nodes, Tensors, checks), which is what an optimization of
mytorch/ can remove.  On this VM one bytecode of that bookkeeping costs about
30 ns, so 1,000 bytecodes are ~30 us per step (bench/train_step.py measures the
time itself).

Counted with sys.settrace opcode events over 10 steps, after 5 warm-up steps.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import collections
import os
import sys

STEPS = 10


def count(impl, batches):
    """({function: bytecodes per step}, {function: calls per step}) for ``impl``'s step."""
    benchlib.time_steps(impl, batches, 5)                        # warm-up
    bytecodes, calls = collections.Counter(), collections.Counter()

    def on_call(frame, event, arg):
        frame.f_trace_opcodes = True
        code = frame.f_code
        key = "{} ({}:{})".format(getattr(code, "co_qualname", code.co_name), os.path.relpath(code.co_filename, benchlib.REPO)
                                  if code.co_filename.startswith(benchlib.REPO)
                                  else os.path.basename(code.co_filename), code.co_firstlineno)
        calls[key] += 1

        def on_opcode(frame, event, arg):
            if event == "opcode":
                bytecodes[key] += 1
            return on_opcode
        return on_opcode

    sys.settrace(on_call)
    try:
        for i in range(STEPS):
            impl.step(batches[i % len(batches)])
    finally:
        sys.settrace(None)
    return ({k: v / STEPS for k, v in bytecodes.items()}, {k: v / STEPS for k, v in calls.items()})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    benchlib.print_environment()
    weights = benchlib.initial_weights()
    totals = {}
    for cls in (benchlib.NumpyImpl, benchlib.MyTorchImpl):
        impl = cls(weights)
        batches = [impl.batch(x, y) for x, y in benchlib.synthetic_batches(10)]
        bytecodes, calls = count(impl, batches)
        totals[impl.name] = sum(bytecodes.values())
        print("\n{}: {:.0f} bytecodes and {:.0f} Python calls per step".format(
            impl.name, totals[impl.name], sum(calls.values())))
        print("  {:>9s} {:>7s}  function".format("bytecodes", "calls"))
        for key, value in sorted(bytecodes.items(), key=lambda item: -item[1])[:args.top]:
            print("  {:9.0f} {:7.1f}  {}".format(value, calls[key], key))
    print("\nMyTorch runs {:.0f} bytecodes per step beyond the floor's {:.0f}.".format(
        totals["mytorch"] - totals["numpy"], totals["numpy"]))


if __name__ == "__main__":
    main()
