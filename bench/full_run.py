"""A handout-size training run: wall time, peak memory and accuracy, MyTorch beside PyTorch.

    python bench/full_run.py                    # 3 epochs of 55,000 samples, both libraries
    python bench/full_run.py --epochs 1 --impls mytorch
    python bench/full_run.py --worker mytorch   # one library in this process (used internally)

Data: Fashion-MNIST (Debian package dataset-fashion-mnist, read from its IDX
files) when installed, else synthetic data from a fixed seed: 55,000 training
and 5,000 validation samples, pixels scaled to [0, 1], float64.  Training:
batch 100 (550 steps per epoch), a fresh shuffle per epoch (same seed for
both), and every 100 batches the accuracy on the 5,000 validation samples in
evaluation mode without a graph.  Both libraries start from the same weights.

Each library runs in its own subprocess, one after the other, so each peak
RSS is its own.  Memory columns: RSS after set-up (imports, data, model),
and the peak RSS during training (the peak is reset after set-up through
/proc/self/clear_refs, so loading the data does not count).
"""
import benchlib                  # first: pins BLAS to one thread before NumPy is loaded
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np

MIB = 2.0 ** 20
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"       # Debian's dataset-fashion-mnist


def mnist_sized_data(n_train=55000, n_val=5000, seed=11785):
    """(source, x_train, y_train, x_val, y_val): Fashion-MNIST if installed, else synthetic.

    Pixels become float64 in [0, 1]; the split is a fixed-seed shuffle.
    """
    rng = np.random.default_rng(seed)
    if os.path.exists(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz")):
        # data/prepare.py's IDX reader (it checks the files as it reads them)
        spec = importlib.util.spec_from_file_location(
            "prepare", os.path.join(benchlib.REPO, "data", "prepare.py"))
        prepare = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(prepare)
        x, y = prepare.load_idx_dir(FASHION_MNIST)
        order = rng.permutation(len(x))[:n_train + n_val]
        x, y = x[order] / 255.0, y[order]
        source = "Fashion-MNIST ({})".format(FASHION_MNIST)
    else:
        # Learnable synthetic data: each class is a noisy copy of its own random prototype.
        prototypes = rng.uniform(0, 1, (benchlib.SIZES[2], benchlib.SIZES[0]))
        y = rng.integers(0, benchlib.SIZES[2], n_train + n_val)
        x = np.clip(prototypes[y] + rng.normal(0, 0.5, (len(y), benchlib.SIZES[0])), 0, 1)
        source = "synthetic (seed {}; Fashion-MNIST not installed)".format(seed)
    return source, x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def reset_peak_rss():
    """Make the peak RSS start again from the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(name, epochs, seed):
    """Train ``name`` and print one JSON line of results."""
    if name == "torch" and benchlib.load_torch() is None:
        print(json.dumps({"impl": name, "skipped": benchlib.TORCH_MISSING}))
        return
    source, x_train, y_train, x_val, y_val = mnist_sized_data()
    impl = benchlib.IMPLS[name](benchlib.initial_weights(seed))
    setup_peak = benchlib.peak_rss_bytes()
    reset = reset_peak_rss()
    setup_rss = benchlib.rss_bytes()

    rng = np.random.default_rng(seed)
    batches = len(x_train) // benchlib.BATCH
    accuracies, validation, step = [], 0.0, 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(x_train))
        for b in range(batches):
            rows = order[b * benchlib.BATCH:(b + 1) * benchlib.BATCH]
            impl.step(impl.batch(x_train[rows], y_train[rows]))
            step += 1
            if step % 100 == 0:
                begin = time.perf_counter()
                accuracies.append(impl.accuracy(x_val, y_val))
                validation += time.perf_counter() - begin
    wall = time.perf_counter() - start
    print(json.dumps({
        "impl": name, "source": source, "steps": epochs * batches, "wall_s": wall,
        "validation_s": validation, "validations": len(accuracies),
        "final_accuracy": impl.accuracy(x_val, y_val), "best_accuracy": max(accuracies),
        "setup_rss": setup_rss, "setup_peak": setup_peak,
        "train_peak": benchlib.peak_rss_bytes() if reset else None,
        "environment": benchlib.environment_lines()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--impls", default="mytorch,torch",
                        help="comma-separated, from mytorch, torch, numpy")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.epochs, args.seed)

    results = []
    for name in args.impls.split(","):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--worker", name, "--epochs",
                              str(args.epochs), "--seed", str(args.seed)],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
        results[-1]["process_s"] = time.perf_counter() - start
    ran = [r for r in results if "skipped" not in r]
    described = [r for r in ran if r["impl"] == "torch"] or ran      # torch's names its version
    for line in described[0]["environment"] if ran else benchlib.environment_lines():
        print("# " + line)
    for r in results:
        if "skipped" in r:
            print("# {}: {}".format(r["impl"], r["skipped"]))
    if not ran:
        return
    print("# data: {}; {} epochs = {} steps of batch {}, {} validations on {} samples".format(
        ran[0]["source"], args.epochs, ran[0]["steps"], benchlib.BATCH,
        ran[0]["validations"], 5000))
    print("\n{:8s} {:>7s} {:>8s} {:>7s} {:>7s} {:>10s} {:>9s} {:>9s} {:>9s} {:>9s}".format(
        "impl", "wall s", "us/step", "val s", "proc s", "setup MiB", "train MiB", "peak MiB",
        "final acc", "best acc"))
    for r in ran:
        train_peak = r["train_peak"] / MIB if r["train_peak"] else float("nan")
        print("{:8s} {:7.2f} {:8.0f} {:7.2f} {:7.1f} {:10.0f} {:9.0f} {:9.0f} {:9.4f} {:9.4f}"
              .format(r["impl"], r["wall_s"],
                      (r["wall_s"] - r["validation_s"]) / r["steps"] * 1e6, r["validation_s"],
                      r["process_s"], r["setup_rss"] / MIB, train_peak,
                      max(r["setup_peak"], r["train_peak"] or 0) / MIB,
                      r["final_accuracy"], r["best_accuracy"]))
    print("\nwall s: training and validation; us/step: training only (gathering the shuffled "
          "batch and wrapping it included)")
    print("proc s: the whole subprocess (start-up, imports, data loading too)")
    print("setup MiB: RSS after imports, data and model; train MiB: peak RSS while training;"
          " peak MiB: peak RSS of the whole process (data loading included)")
    if len(ran) == 2:
        a, b = ran
        print("{}/{} wall time: {:.2f}".format(b["impl"], a["impl"], b["wall_s"] / a["wall_s"]))


if __name__ == "__main__":
    main()
