"""Draw docs/scanning_mlp.png: which inputs each neuron of the HW2 scanning MLP reads.

    python3 docs/scanning_mlp.py          # writes docs/scanning_mlp.png (matplotlib, no display)

Left, 2.1: the MLP at one scan position, every neuron reading every input of the layer
below (the 8 time steps of 24 channels each, then 8, then 16 neurons).  Right, 2.2:
the same MLP with shared neurons; an edge's colour says which copy of a shared block
it belongs to, and the copies of one block have the same weights.
"""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = [("time steps\n(24 channels each)", 8), ("layer 1\n8 neurons", 8),
          ("layer 2\n16 neurons", 16), ("layer 3\n4 outputs", 4)]
COPIES = ["tab:blue", "tab:orange", "tab:green", "tab:red"]


def positions(count, x):
    """(x, y) of ``count`` nodes in a column, centred on y = 0."""
    return [(x, (count - 1) / 2 - i) for i in range(count)]


def edges(distributed):
    """[(layer, from, to, colour)]: the connections from layer ``layer`` to ``layer + 1``."""
    result = []
    for layer, (_, below), (_, above) in zip(range(3), LAYERS, LAYERS[1:]):
        for to in range(above):
            if not distributed or layer == 2:
                reads, colour = range(below), "0.55"
            elif layer == 0:                  # neurons 2j, 2j+1 read time steps 2j, 2j+1
                j = to // 2
                reads, colour = range(2 * j, 2 * j + 2), COPIES[j]
            else:                             # neurons 8j..8j+7 read layer-1 neurons 4j..4j+3
                j = to // 8
                reads, colour = range(4 * j, 4 * j + 4), COPIES[j]
            result += [(layer, source, to, colour) for source in reads]
    return result


def draw(ax, distributed, title):
    columns = [positions(count, 3 * i) for i, (_, count) in enumerate(LAYERS)]
    for layer, source, to, colour in edges(distributed):
        (x0, y0), (x1, y1) = columns[layer][source], columns[layer + 1][to]
        ax.plot([x0, x1], [y0, y1], color=colour, linewidth=0.8, alpha=0.8, zorder=1)
    for (label, _), column in zip(LAYERS, columns):
        xs, ys = zip(*column)
        ax.scatter(xs, ys, s=60, color="white", edgecolor="black", zorder=2)
        ax.text(xs[0], -9.3, label, ha="center", va="top", fontsize=9)
    for t, (x, y) in enumerate(columns[0]):
        ax.text(x - 0.4, y, "t{}".format(t), ha="right", va="center", fontsize=8)
    ax.set_title(title, fontsize=11)
    ax.set_xlim(-1.5, 10)
    ax.set_ylim(-11.5, 8.5)
    ax.set_xlabel("layer (inputs at the left)")
    ax.set_ylabel("neuron (index 0 at the top)")
    ax.set_xticks([])
    ax.set_yticks([])


def main():
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 6.2))
    draw(left, False, "2.1 Simple scanning MLP: every neuron reads all below\n"
                      "CNN: Conv1d(24, 8, 8, 4), Conv1d(8, 16, 1, 1), Conv1d(16, 4, 1, 1)")
    draw(right, True, "2.2 Distributed scanning MLP: shared blocks\n"
                      "CNN: Conv1d(24, 2, 2, 2), Conv1d(2, 8, 2, 2), Conv1d(8, 4, 2, 1)")
    handles = [plt.Line2D([], [], color=c, label="copy {}".format(j)) for j, c in enumerate(COPIES)]
    handles.append(plt.Line2D([], [], color="0.55", label="not shared"))
    right.legend(handles=handles, loc="upper right", fontsize=8, title="block copy")
    fig.suptitle("Which inputs each neuron reads, at one scan position (8 time steps; "
                 "the MLP moves by 4 steps: 31 positions over 128)", fontsize=11)
    fig.tight_layout()
    path = os.path.join(HERE, "scanning_mlp.png")
    fig.savefig(path, dpi=100)
    print("saved", os.path.relpath(path))


if __name__ == "__main__":
    main()
