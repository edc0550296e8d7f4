"""Draw docs/packed_sequence.png: how pack_sequence lays out a batch, and its batch_sizes.

    python3 docs/packed_sequence_figure.py [--out PATH]

Four sequences of lengths 3, 5, 1 and 3 go through mytorch's own pack_sequence;
the figure shows (top) the batch sorted by length, each step numbered with the
row of ``data`` it lands in, (middle) ``batch_sizes``, one bar per time step, and
(bottom) the rows of ``data`` in order, grouped by time step.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from mytorch.nn.util import pack_sequence  # noqa: E402
from mytorch.tensor import Tensor  # noqa: E402

LENGTHS = (3, 5, 1, 3)
OUT = os.path.join(ROOT, "docs", "packed_sequence.png")


def layout(lengths=LENGTHS):
    """(sorted_indices, batch_sizes, rows) from pack_sequence; rows[k] = (sequence, step) of
    data row k, read back from the packed values (sequence i's step t holds 100 i + t)."""
    sequences = [Tensor(100.0 * i + np.arange(n)[:, None]) for i, n in enumerate(lengths)]
    data, sorted_indices, batch_sizes = pack_sequence(sequences)
    rows = [(int(v) // 100, int(v) % 100) for v in data.data[:, 0]]
    return sorted_indices, batch_sizes, rows


def draw(path=OUT, lengths=LENGTHS):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle
    sorted_indices, batch_sizes, rows = layout(lengths)
    colors = plt.get_cmap("tab10").colors
    steps = len(batch_sizes)
    figure, (top, middle, bottom) = plt.subplots(
        3, 1, figsize=(8, 7.2), gridspec_kw={"height_ratios": [len(lengths), 2.2, 1.6]})

    # The batch, longest first: one row per sequence, one column per step.
    where = {row: k for k, row in enumerate(rows)}
    for rank, index in enumerate(sorted_indices):
        y = len(lengths) - 1 - rank
        for t in range(lengths[index]):
            top.add_patch(Rectangle((t, y), 0.94, 0.9, color=colors[index], alpha=0.85))
            top.text(t + 0.47, y + 0.45, "data[{}]".format(where[(index, t)]), ha="center",
                     va="center", fontsize=8, color="white")
    top.set_xlim(0, steps)
    top.set_ylim(0, len(lengths))
    top.set_yticks([len(lengths) - 0.55 - r for r in range(len(lengths))])
    top.set_yticklabels(["sequence {} ({} step{})".format(i, lengths[i], "s" * (lengths[i] != 1))
                        for i in sorted_indices])
    top.set_xticks([t + 0.47 for t in range(steps)])
    top.set_xticklabels(["t = {}".format(t) for t in range(steps)])
    top.set_title("pack_sequence(lengths {}): sorted_indices = {}"
                  .format(list(lengths), sorted_indices.tolist()), fontsize=11)
    for side in ("top", "right", "left", "bottom"):
        top.spines[side].set_visible(False)

    # batch_sizes: how many sequences have a step t.
    middle.bar([t + 0.47 for t in range(steps)], batch_sizes, width=0.8, color="0.55")
    for t, size in enumerate(batch_sizes):
        middle.text(t + 0.47, size + 0.1, str(size), ha="center", fontsize=10)
    middle.set_xlim(0, steps)
    middle.set_ylim(0, max(batch_sizes) + 1)
    middle.set_xticks([t + 0.47 for t in range(steps)])
    middle.set_xticklabels(["t = {}".format(t) for t in range(steps)])
    middle.set_ylabel("batch_sizes[t]")
    middle.set_title("batch_sizes = {}: the RNN runs on the first batch_sizes[t] sequences "
                     "at step t".format(batch_sizes.tolist()), fontsize=10)

    # data, row by row: each time step's block is batch_sizes[t] rows long.
    for k, (index, t) in enumerate(rows):
        bottom.add_patch(Rectangle((k, 0), 0.94, 1, color=colors[index], alpha=0.85))
        bottom.text(k + 0.47, 0.5, "{},{}".format(index, t), ha="center", va="center",
                    fontsize=8, color="white")
    start = 0
    for t, size in enumerate(batch_sizes):
        bottom.annotate("", xy=(start, -0.25), xytext=(start + size - 0.06, -0.25),
                        arrowprops={"arrowstyle": "-", "color": "0.3"})
        bottom.text(start + size / 2, -0.6, "t = {}".format(t), ha="center", fontsize=9)
        start += size
    bottom.set_xlim(0, len(rows))
    bottom.set_ylim(-0.9, 1.1)
    bottom.set_yticks([])
    bottom.set_xticks([k + 0.47 for k in range(len(rows))])
    bottom.set_xticklabels(range(len(rows)), fontsize=8)
    bottom.set_xlabel("row of data (each cell: sequence, step)")
    for side in ("top", "right", "left"):
        bottom.spines[side].set_visible(False)

    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT, help="default: docs/packed_sequence.png")
    args = parser.parse_args(argv)
    print("Saved", draw(args.out))


if __name__ == "__main__":
    main()
