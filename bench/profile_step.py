"""cProfile of MyTorch's training step on the handout's MNIST MLP (for whoever optimizes).

    python bench/profile_step.py                    # 2,000 steps, top 30 by tottime
    python bench/profile_step.py --steps 5000 --top 40 --sort cumulative
    python bench/profile_step.py --callers          # also: who calls the top functions

Prints the functions where the time is spent (tottime: time inside the
function itself, excluding what it calls), with calls and microseconds per
training step, so a change in mytorch/ can be aimed at the biggest numbers.
Profiling inflates Python-level overheads (each call costs extra), so use
bench/train_step.py for the real figures.
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import ast
import cProfile
import functools
import pstats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"])
    parser.add_argument("--callers", action="store_true", help="print callers of the top functions")
    args = parser.parse_args()

    benchlib.print_environment()
    impl = benchlib.MyTorchImpl(benchlib.initial_weights())
    batches = [impl.batch(x, y) for x, y in benchlib.synthetic_batches(10)]
    benchlib.time_steps(impl, batches, 100)                      # warm-up

    profiler = cProfile.Profile()
    profiler.enable()
    benchlib.time_steps(impl, batches, args.steps)
    profiler.disable()

    stats = pstats.Stats(profiler)
    stats.sort_stats(args.sort)
    rows = sorted(stats.stats.items(), key=lambda item: -{
        "tottime": item[1][2], "cumulative": item[1][3], "ncalls": item[1][1]}[args.sort])
    total = stats.total_tt / args.steps * 1e6
    print("\n{} steps profiled: {:.1f} us per step under the profiler\n".format(args.steps, total))
    print("{:>9s} {:>9s} {:>9s} {:>6s}  function".format(
        "calls/st", "tot us/st", "cum us/st", "tot %"))
    for (filename, line, name), (_, ncalls, tottime, cumtime, _) in rows[:args.top]:
        where = "{}:{}".format(_short(filename), line) if line else filename
        print("{:9.1f} {:9.1f} {:9.1f} {:5.1f}%  {} ({})".format(
            ncalls / args.steps, tottime / args.steps * 1e6, cumtime / args.steps * 1e6,
            100 * tottime / stats.total_tt, _methods(filename).get(line, name), where))
    print("\n(NumPy operators such as @ and * are not function calls, so their time counts in the "
          "tottime of the function that uses them: the Linear forward/backward rows hold the "
          "matrix products, which the NumPy floor pays too.  Compare with bench/train_step.py's "
          "numpy row to see the overhead.)")
    if args.callers:
        print()
        stats.print_callers(args.top)


@functools.lru_cache(maxsize=None)
def _methods(path):
    """{line: "Class.method"} for the methods defined in the Python file ``path``."""
    try:
        with open(path) as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return {}
    methods = {}
    for cls in ast.walk(tree):
        for node in cls.body if isinstance(cls, ast.ClassDef) else ():
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # a decorated function's code starts at its first decorator
                for line in [node.lineno] + [d.lineno for d in node.decorator_list[:1]]:
                    methods[line] = "{}.{}".format(cls.name, node.name)
    return methods


def _short(path):
    """mytorch/... or the file name, instead of a long absolute path."""
    for marker in ("/mytorch/", "/bench/"):
        if marker in path:
            return path[path.index(marker) + 1:]
    return path.rsplit("/", 1)[-1]


if __name__ == "__main__":
    main()
