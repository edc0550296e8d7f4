"""See the computational graph: ``show`` (text), ``draw`` (PNG or SVG) and ``to_dot`` (Graphviz).

    from mytorch import viz
    viz.show(loss, params=model)                 # an indented tree on stdout
    viz.draw(loss, "graph.png", params=model)    # a picture (.png or .svg), matplotlib only
    print(viz.to_dot(loss))                      # DOT source, for Graphviz if you have it

What they show, in the handout's terms (section 0.1 and Appendix A):

- one node per ``BackwardFunction``: the op's name and the shape of its output
  (and the output's name, for a tensor named in a ``params`` dict);
- one node per leaf's ``AccumulateGrad``: the leaf's shape, its name when
  ``params`` names it (a Module: ``layers[0].weight``; or a dict such as
  ``{"a": a, "c": c}``), and, after ``backward()``, the norm of its ``.grad``;
- the ``None`` entries of an op's ``next_functions`` (constants, and arguments
  that are not tensors) as one dashed box labelled ``None`` under that op
  (``None x5`` when five of its inputs are None);
- an edge from each node to each node in its ``next_functions``, the way
  gradients flow in ``backward()``: the output's node on top, leaves below.

These functions only read the graph: they never create a node, run backward
or touch saved tensors, so they work before and after ``backward()`` (which
frees each node's ``ctx``) and with any ``Function.apply`` that builds the
handout's nodes (without ``BackwardFunction.shape`` an op's shape is left out).
Walks are iterative, so a graph 100,000 ops deep is fine for ``to_dot`` and
``show``.  A cycle, which only a broken ``Function.apply`` makes, is shown, not
followed: the edge that closes it is marked (``a cycle`` in ``show``, red in
``to_dot`` and ``draw``), with a note on what to fix.  ``draw`` needs matplotlib
(imported only there) and no Graphviz: it lays the graph out itself
(longest-path layers, barycentric ordering) and renders it with matplotlib's
Agg canvas, without a display.
"""
import bisect
import os

import numpy as np

from mytorch import autograd_engine
from mytorch.tensor import Tensor

MAX_DRAWN_NODES = 1000          # beyond this a picture is unreadable; use show() or to_dot()
_MAX_PNG_PIXELS = 8000          # a PNG's longest side
_MAX_PNG_DPI = 120
_MIN_PNG_DPI = 60               # 9-point labels 7.5 pixels tall: the least that reads
_MAX_INDENT = 40                # show(): deeper levels are not indented further


# --------------------------------------------------------------------------- #
# Reading the graph
# --------------------------------------------------------------------------- #
class _Node:
    """One box of the picture: an op, a leaf, the None slots of an op, or something else."""

    def __init__(self, kind, title, name=None, shape=None, notes=()):
        self.kind = kind            # "op", "leaf", "none" or "other"
        self.title = title
        self.name = name
        self.shape = shape
        self.notes = list(notes)
        self.parents = []           # indices of the nodes it sends gradients to, in slot order
        self.slots = 1              # for a "none" node: how many None entries it stands for

    def lines(self):
        """The label, one item per line (for DOT and pictures)."""
        lines = [self.title]
        if self.name:
            lines.append(self.name)
        if self.shape is not None:
            lines.append(str(self.shape))
        return lines + self.notes

    def text(self):
        """The label on one line (for show)."""
        shape = None if self.shape is None else str(self.shape)
        return "  ".join([" ".join(part for part in (self.title, self.name, shape) if part)]
                         + self.notes)


class _Graph:
    """The nodes reachable from a tensor's grad_fn, numbered in depth-first order (root is 0)."""

    def __init__(self, root, params=None):
        self.names = _parameter_names(params)
        # A named tensor that an op made names that op's node: {"e": e} labels e.grad_fn.
        self.node_names = {}
        if isinstance(params, dict):
            for name, t in params.items():
                if isinstance(t, Tensor) and t.grad_fn is not None and not t.is_leaf:
                    self.node_names.setdefault(id(t.grad_fn), str(name))
        self.nodes = []
        self._index = {}            # id(graph object) -> node index
        self._objects = []          # keeps the graph objects (and their ids) alive
        start = _start_of(root, self.names)
        if isinstance(start, _Node):
            self.nodes.append(start)
        else:
            self._walk(start)
        self.cycle_edges = self._edges_closing_cycles()

    def _walk(self, root):
        stack = [root]
        while stack:
            obj = stack.pop()
            if id(obj) in self._index:
                continue
            self._add(obj)
            parents = _next_functions(obj)
            stack.extend(p for p in reversed(parents)
                         if p is not None and id(p) not in self._index)
        for obj in self._objects:
            node, none = self.nodes[self._index[id(obj)]], None
            for parent in _next_functions(obj):
                if parent is not None:
                    node.parents.append(self._index[id(parent)])
                elif none is None:                 # an op's None entries share one box
                    none = _Node("none", "None")
                    node.parents.append(len(self.nodes))
                    self.nodes.append(none)
                else:
                    none.slots += 1
                    none.title = "None x{}".format(none.slots)

    def _edges_closing_cycles(self):
        """{(node, k)} for each edge ``node -> nodes[node].parents[k]`` that leads back to a node
        on its own path from the root: the edges that close cycles.

        A graph of ops has none; a broken ``Function.apply`` can make one (an op whose
        output is its own input lists its node in its own ``next_functions``).  Without
        these edges the rest is acyclic, so it can be laid out and printed as usual.
        """
        on_path, done, closing = {0}, set(), set()
        stack = [(0, iter(enumerate(self.nodes[0].parents)))]
        while stack:                               # iterative depth-first search
            index, edges = stack[-1]
            for k, parent in edges:
                if parent in on_path:
                    closing.add((index, k))
                elif parent not in done:
                    on_path.add(parent)
                    stack.append((parent, iter(enumerate(self.nodes[parent].parents))))
                    break
            else:
                stack.pop()
                on_path.discard(index)
                done.add(index)
        return closing

    def forward_parents(self, index):
        """``nodes[index].parents`` without the edges that close cycles."""
        return [parent for k, parent in enumerate(self.nodes[index].parents)
                if (index, k) not in self.cycle_edges]

    def _add(self, obj):
        self._index[id(obj)] = len(self.nodes)
        self._objects.append(obj)
        self.nodes.append(self._describe(obj))

    def _describe(self, obj):
        if isinstance(obj, autograd_engine.AccumulateGrad):
            return _leaf_node("AccumulateGrad", getattr(obj, "variable", None), self.names)
        if hasattr(obj, "next_functions"):
            title = getattr(obj, "function_name", None) or type(obj).__name__
            shape = getattr(obj, "shape", None)
            ctx = getattr(obj, "ctx", None)
            site = getattr(ctx, "_anomaly_site", None) if ctx is not None else None
            notes = ["at {}:{}".format(os.path.basename(site[0]), site[1])] if site else []
            return _Node("op", str(title), name=self.node_names.get(id(obj)),
                         shape=shape if isinstance(shape, tuple) else None, notes=notes)
        if isinstance(obj, Tensor):                 # a tensor where a node should be
            return _Node("other", "Tensor", shape=obj.shape)
        return _Node("other", type(obj).__name__)


def _start_of(root, names):
    """The graph object to start from, or a lone _Node when ``root`` has no graph."""
    if isinstance(root, Tensor):
        if root.grad_fn is not None:
            return root.grad_fn
        if root.requires_grad:              # a leaf no op has used yet: no AccumulateGrad
            return _leaf_node("leaf tensor", root, names)
        return _Node("none", "None", shape=root.shape, notes=["a constant: no graph"])
    if hasattr(root, "next_functions"):
        return root
    raise TypeError("expected a Tensor (or a graph node such as t.grad_fn), got {}"
                    .format(type(root).__name__))


def _next_functions(obj):
    """``obj.next_functions`` as a list; [] for leaves and for anything that has none."""
    if isinstance(obj, autograd_engine.AccumulateGrad):
        return []
    parents = getattr(obj, "next_functions", None)
    try:
        return list(parents) if parents is not None else []
    except TypeError:
        return []


def _leaf_node(title, variable, names):
    notes, shape = [], None
    if isinstance(variable, Tensor):
        shape = variable.shape
        grad = variable.grad
        if grad is not None:
            data = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
            notes.append("grad norm {:.4g}".format(float(np.sqrt(np.sum(data * data)))))
    return _Node("leaf", title, name=names.get(id(variable)), shape=shape, notes=notes)


def _parameter_names(params):
    """{id(tensor): name} for the tensors ``params`` names (a Module or a dict)."""
    if params is None:
        return {}
    if isinstance(params, dict):
        for name, t in params.items():
            if isinstance(name, Tensor):
                raise TypeError('params maps names to tensors, as in {{"a": a}}; this dict maps a '
                                "tensor to {!r}: keys and values are swapped (write "
                                "{{name: t for t, name in params.items()}})".format(t))
            if not isinstance(t, Tensor):
                raise TypeError("params[{!r}] is a {}, not a Tensor: params maps names to "
                                'tensors, as in {{"a": a}}'.format(name, type(t).__name__))
        return {id(t): str(name) for name, t in params.items()}
    from mytorch.nn.module import Module
    if not isinstance(params, Module):
        raise TypeError("params must be a Module or a dict of name -> Tensor, got {}"
                        .format(type(params).__name__))
    # Breadth first, so each tensor gets its shortest name; attributes that are Python names
    # first, so Sequential's layers read ``layers[0].weight`` rather than ``0.weight``.
    names, seen, queue = {}, {id(params)}, [("", params)]
    for prefix, module in queue:
        items = [(k, v) for k, v in vars(module).items() if not k.startswith("_")]
        items.sort(key=lambda item: not item[0].isidentifier())
        for key, value in items:
            path = prefix + key
            members = ([("{}[{}]".format(path, i), v) for i, v in enumerate(value)]
                       if isinstance(value, (list, tuple)) else [(path, value)])
            for member_path, member in members:
                if isinstance(member, Tensor):
                    names.setdefault(id(member), member_path)
                elif isinstance(member, Module) and id(member) not in seen:
                    seen.add(id(member))
                    queue.append((member_path + ".", member))
    return names


# --------------------------------------------------------------------------- #
# DOT and text
# --------------------------------------------------------------------------- #
_FILL = {"op": "#dae8fc", "leaf": "#d5e8d4", "none": "#ffffff", "other": "#f8cecc"}
_CYCLE_COLOUR = "#cc0000"
_CYCLE_NOTE = ["The graph has a cycle (marked): a node's next_functions lead back to a node "
               "on its own path, which a graph of ops never does.",
               "Look at Function.apply: it must return a new Tensor, not one of its inputs, "
               "and read its inputs' grad_fn before it sets the output's."]


def to_dot(tensor, params=None):
    """Graphviz DOT source of the graph behind ``tensor`` (see the module's docstring).

    Nodes are ``n0`` (the output's node), ``n1``, ... in depth-first order; each
    node's edges are listed in the order of its ``next_functions``, its None
    entries as one dashed edge to its dashed ``None`` box.

    >>> print(to_dot(e))          # then: dot -Tpng graph.dot -o graph.png
    """
    graph = _Graph(tensor, params)
    out = ["digraph mytorch {",
           '    node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];']
    for i, node in enumerate(graph.nodes):
        attrs = ['label="{}"'.format("\\n".join(_dot_escape(line) for line in node.lines())),
                 'fillcolor="{}"'.format(_FILL[node.kind])]
        if node.kind == "none":
            attrs.append('style="rounded,dashed", fontcolor="#666666"')
        if i == 0:
            attrs.append("penwidth=2")
        out.append("    n{} [{}];".format(i, ", ".join(attrs)))
    for i, node in enumerate(graph.nodes):
        for k, parent in enumerate(node.parents):
            if (i, k) in graph.cycle_edges:
                style = ' [color="{0}", fontcolor="{0}", label="cycle"]'.format(_CYCLE_COLOUR)
            else:
                style = " [style=dashed]" if graph.nodes[parent].kind == "none" else ""
            out.append("    n{} -> n{}{};".format(i, parent, style))
    if graph.cycle_edges:
        out += ["    // " + line for line in _CYCLE_NOTE]
    out.append("}")
    return "\n".join(out) + "\n"


def _dot_escape(text):
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def show(tensor, params=None):
    """Print the graph behind ``tensor`` as an indented tree, the output's node first.

    A node that several ops feed gradients to (a leaf used twice) is printed in
    full once, marked ``#1``, and as ``(#1, above)`` after that.  An edge back to
    a node on its own path (a cycle, which only a broken ``Function.apply`` makes)
    is printed as ``(#1, above: a cycle)``, and a note under the tree says so.

        Add ()
        +-- Add ()
        |   +-- Add ()
        |   |   +-- Mul ()
        |   |   |   +-- AccumulateGrad a ()  grad norm 3  #1
        |   |   |   `-- None
        |   |   `-- AccumulateGrad a ()  grad norm 3  (#1, above)
        ...
    """
    print("\n".join(_tree_lines(_Graph(tensor, params))))


def _tree_lines(graph):
    fed = [0] * len(graph.nodes)
    for node in graph.nodes:
        for parent in node.parents:
            fed[parent] += 1
    cycle_targets = {graph.nodes[i].parents[k] for i, k in graph.cycle_edges}
    marks, line_of, lines = {}, {}, []
    # (node, prefix of its line, of its children's, depth, whether its edge closes a cycle)
    stack = [(0, "", "", 0, False)]
    while stack:
        index, prefix, child_prefix, depth, closing = stack.pop()
        node = graph.nodes[index]
        if index in line_of:                  # printed in full above: each node is, once
            if index not in marks:            # a safety net: marked when printed, normally
                marks[index] = len(marks) + 1
                lines[line_of[index]] += "  #{}".format(marks[index])
            lines.append("{}{}  (#{}, above{})".format(prefix, node.text(), marks[index],
                                                       ": a cycle" if closing else ""))
            continue
        text = node.text()
        if fed[index] > 1 or index in cycle_targets:
            marks[index] = len(marks) + 1
            text += "  #{}".format(marks[index])
        if depth > _MAX_INDENT:
            text = "[depth {}] ".format(depth) + text
        line_of[index] = len(lines)
        lines.append(prefix + text)
        children = node.parents
        for k in range(len(children) - 1, -1, -1):
            last, closes = k == len(children) - 1, (index, k) in graph.cycle_edges
            if depth >= _MAX_INDENT:          # no deeper indentation: lines stay short
                stack.append((children[k], child_prefix, child_prefix, depth + 1, closes))
            else:
                stack.append((children[k], child_prefix + ("`-- " if last else "+-- "),
                              child_prefix + ("    " if last else "|   "), depth + 1, closes))
    return lines + (_CYCLE_NOTE if graph.cycle_edges else [])


# --------------------------------------------------------------------------- #
# Layout: layers from the top, an order within each layer, then x positions
# --------------------------------------------------------------------------- #
_CHAR_W = 0.6 * 9 / 72          # inches per character: DejaVu Sans Mono at 9 pt
_LINE_H = 1.3 * 9 / 72          # inches per line
_PAD_W, _PAD_H = 0.24, 0.14     # inside a box
_GAP_X, _GAP_Y = 0.3, 0.45      # between boxes, between layers
_DUMMY_W = 0.12                 # width kept free for an edge passing through a layer
_LOOP_W = 0.9                   # room right of the boxes for the edges that close cycles


class _Layout:
    """Boxes (centre x, centre y, width, height in inches, y downwards) and edge polylines."""

    def __init__(self, graph, sweeps=12):
        nodes = graph.nodes
        self.size = [(max(len(line) for line in node.lines()) * _CHAR_W + _PAD_W,
                      len(node.lines()) * _LINE_H + _PAD_H) for node in nodes]
        # Edges that close a cycle are left out of the layers; draw() adds them in red.
        parents = [graph.forward_parents(i) for i in range(len(nodes))]
        self.cycles = [(i, nodes[i].parents[k]) for i, k in sorted(graph.cycle_edges)]
        layer = self._layers(parents)
        # Edges that skip layers get a dummy vertex in each layer they cross.
        vertex_layer = list(layer)
        width = [w for w, _ in self.size]
        down = [[] for _ in nodes]                       # vertex -> vertices below it
        self.routes = []                                  # (node, parent, [vertices])
        for i in range(len(nodes)):
            for parent in parents[i]:
                chain = [i]
                for level in range(layer[i] + 1, layer[parent]):
                    vertex_layer.append(level)
                    width.append(_DUMMY_W)
                    down.append([])
                    chain.append(len(vertex_layer) - 1)
                chain.append(parent)
                for a, b in zip(chain, chain[1:]):
                    down[a].append(b)
                self.routes.append((i, parent, chain))
        up = [[] for _ in vertex_layer]
        for a, below in enumerate(down):
            for b in below:
                up[b].append(a)
        order = self._initial_order(vertex_layer, down)
        order = self._reduce_crossings(order, up, down, sweeps)
        x = self._positions(order, width, up, down)
        heights = [0.0] * len(order)
        for i, (_, h) in enumerate(self.size):
            heights[layer[i]] = max(heights[layer[i]], h)
        top, y_of_layer = _GAP_Y / 2, []
        for h in heights:
            y_of_layer.append(top + h / 2)
            top += h + _GAP_Y
        self.x = x
        self.y = [y_of_layer[level] for level in vertex_layer]
        self.order = order
        self.boxes = [(x[i], self.y[i], w, h) for i, (w, h) in enumerate(self.size)]
        self.width = max(x[v] + width[v] / 2 for v in range(len(x))) + _GAP_X / 2
        if self.cycles:                                   # room for the loops on the right
            self.width += _LOOP_W
        self.height = top - _GAP_Y / 2

    @staticmethod
    def _layers(parents):
        """Longest path from the root: each node one layer below its lowest user."""
        fed = [0] * len(parents)
        for above in parents:
            for parent in above:
                fed[parent] += 1
        layer, ready = [0] * len(parents), [0]
        while ready:                                     # Kahn's topological order
            i = ready.pop()
            for parent in parents[i]:
                layer[parent] = max(layer[parent], layer[i] + 1)
                fed[parent] -= 1
                if fed[parent] == 0:
                    ready.append(parent)
        return layer

    @staticmethod
    def _initial_order(vertex_layer, down):
        """Each layer in the order its vertices are first reached from the layer above."""
        order = [[] for _ in range(max(vertex_layer) + 1)]
        placed = {0}
        order[0].append(0)
        for level in range(len(order) - 1):
            for v in order[level]:
                for w in down[v]:
                    if w not in placed:
                        placed.add(w)
                        order[level + 1].append(w)
        return order

    @staticmethod
    def _crossings(order, down):
        """How many pairs of edges cross: inversions between each pair of adjacent layers."""
        total = 0
        for level in range(len(order) - 1):
            below = {v: i for i, v in enumerate(order[level + 1])}
            seen = []
            for v in order[level]:
                ends = sorted(below[w] for w in down[v])
                for end in ends:                         # edges already seen that end right of it
                    total += len(seen) - bisect.bisect_right(seen, end)
                for end in ends:
                    bisect.insort(seen, end)
        return total

    def _reduce_crossings(self, order, up, down, sweeps):
        """Barycentric sweeps, down then up, keeping the order with the fewest crossings."""
        best, best_count = [list(level) for level in order], self._crossings(order, down)
        for sweep in range(sweeps):
            if best_count == 0:
                break
            levels = range(1, len(order)) if sweep % 2 == 0 else range(len(order) - 2, -1, -1)
            for level in levels:
                neighbours = up if sweep % 2 == 0 else down
                other = order[level - 1] if sweep % 2 == 0 else order[level + 1]
                position = {v: i for i, v in enumerate(other)}
                current = {v: i for i, v in enumerate(order[level])}
                barycentre = {}
                for v in order[level]:
                    near = [position[w] for w in neighbours[v] if w in position]
                    barycentre[v] = sum(near) / len(near) if near else current[v]
                order[level].sort(key=lambda v: (barycentre[v], current[v]))
            count = self._crossings(order, down)
            if count < best_count:
                best, best_count = [list(level) for level in order], count
        return best

    @staticmethod
    def _positions(order, width, up, down, rounds=8):
        """x of every vertex: near the mean of its neighbours', in order, never overlapping."""
        x = [0.0] * len(width)
        for level in order:
            left = 0.0
            for v in level:
                x[v] = left + width[v] / 2
                left += width[v] + _GAP_X
        for r in range(2 * rounds):
            neighbours = up if r % 2 == 0 else down
            levels = order if r % 2 == 0 else order[::-1]
            for level in levels:
                wanted = [sum(x[w] for w in neighbours[v]) / len(neighbours[v])
                          if neighbours[v] else x[v] for v in level]
                for v, new in zip(level, _pack(wanted, [width[v] for v in level])):
                    x[v] = new
        shift = min(x[v] - width[v] / 2 for v in range(len(x))) - _GAP_X / 2
        return [value - shift for value in x]


def _pack(wanted, widths):
    """Positions closest (least squares) to ``wanted`` that keep order and ``_GAP_X`` apart.

    With offsets o_i (the least distance from the first centre), y_i = x_i - o_i
    must not decrease: an isotonic regression, solved by pooling adjacent violators.
    """
    offsets, total = [], 0.0
    for i, w in enumerate(widths):
        if i:
            total += (widths[i - 1] + w) / 2 + _GAP_X
        offsets.append(total)
    blocks = []                                  # [mean, count]
    for target in (w - o for w, o in zip(wanted, offsets)):
        blocks.append([target, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            previous = blocks[-1]
            previous[0] = (previous[0] * previous[1] + mean * count) / (previous[1] + count)
            previous[1] += count
    fitted = [mean for mean, count in blocks for _ in range(count)]
    return [y + o for y, o in zip(fitted, offsets)]


# --------------------------------------------------------------------------- #
# Drawing
# --------------------------------------------------------------------------- #
def draw(tensor, path, params=None, max_nodes=MAX_DRAWN_NODES):
    """Save a picture of the graph behind ``tensor`` to ``path`` (.png or .svg); return ``path``.

    Top to bottom like the handout's figures: the output's node (bold) at the
    top, leaves' AccumulateGrad nodes (green) and None boxes (dashed) below the
    ops (blue) that use them.  Needs matplotlib, not Graphviz or a display.

    A PNG has at most 8000 pixels a side: a graph whose labels would then be too
    small to read (a chain of 150 ops or more) is refused with a ValueError that
    says so; an SVG has no such limit, and ``show()`` prints any graph.

    >>> draw(loss, "mlp.png", params=model)
    """
    extension = os.path.splitext(str(path))[1].lower()
    if extension not in (".png", ".svg"):
        raise ValueError("draw: path must end in .png or .svg, got {!r}".format(path))
    graph = _Graph(tensor, params)
    if len(graph.nodes) > max_nodes:
        raise ValueError("draw: the graph has {} nodes, more than max_nodes={} can show "
                         "readably; use show() or to_dot(), or pass a larger max_nodes"
                         .format(len(graph.nodes), max_nodes))
    layout = _Layout(graph)
    too_big = _png_too_big(layout) if extension == ".png" else None
    if too_big:
        raise ValueError(too_big)
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
        from matplotlib.path import Path
    except ImportError:
        raise ImportError("draw() needs matplotlib (pip install matplotlib); show() and "
                          "to_dot() need only NumPy") from None
    figure = Figure(figsize=(layout.width, layout.height))
    FigureCanvasAgg(figure)             # file output only: no display, no pyplot state
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, layout.width)
    axes.set_ylim(layout.height, 0)     # inches, y downwards
    axes.axis("off")
    # add_artist, not add_patch: the limits are set, and add_patch's update of the data
    # limits took a third of the time of a big graph's picture.
    for i, node in enumerate(graph.nodes):
        cx, cy, w, h = layout.boxes[i]
        dashed = node.kind == "none"
        axes.add_artist(FancyBboxPatch(
            (cx - w / 2, cy - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=_FILL[node.kind], edgecolor="#888888" if dashed else "#333333",
            linestyle="--" if dashed else "-", linewidth=2.0 if i == 0 else 0.9, zorder=2))
        axes.text(cx, cy, "\n".join(node.lines()), ha="center", va="center",
                  fontsize=9, family="monospace", linespacing=1.3, zorder=3,
                  color="#666666" if dashed else "#000000")
    for start, end, points in _edge_paths(graph, layout):
        axes.add_artist(FancyArrowPatch(
            path=_rounded(Path, points), arrowstyle="-|>", mutation_scale=9, linewidth=0.9,
            color="#888888" if graph.nodes[end].kind == "none" else "#444444",
            linestyle="--" if graph.nodes[end].kind == "none" else "-", zorder=1))
    for start, end in layout.cycles:
        points, label_at = _cycle_curve(layout, start, end)
        axes.add_artist(FancyArrowPatch(
            path=Path(points, [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4]),
            arrowstyle="-|>", mutation_scale=9, linewidth=1.2, color=_CYCLE_COLOUR, zorder=4))
        axes.text(label_at[0], label_at[1], "cycle", ha="left", va="center", fontsize=9,
                  family="monospace", color=_CYCLE_COLOUR, zorder=4)
    with matplotlib.rc_context({"svg.fonttype": "none"}):      # SVG keeps text as text
        figure.savefig(str(path), format=extension[1:], dpi=_png_dpi(layout))
    return path


def _png_dpi(layout):
    """Dots per inch that keep the picture within ``_MAX_PNG_PIXELS`` a side."""
    return min(_MAX_PNG_DPI, _MAX_PNG_PIXELS / max(layout.width, layout.height))


def _png_too_big(layout):
    """Why a PNG of ``layout`` would not be readable (its labels too small), or None."""
    dpi = _png_dpi(layout)
    if dpi >= _MIN_PNG_DPI:
        return None
    return ("draw: a PNG of this graph would be {:.0f} x {:.0f} inches; in at most {} pixels a "
            "side its labels would be {:.1f} pixels tall, too small to read. Save it as .svg "
            "instead (its text stays text, sharp at any size), or print the graph with show() "
            "or to_dot()".format(layout.width, layout.height, _MAX_PNG_PIXELS, dpi * 9 / 72))


def _cycle_curve(layout, start, end):
    """(Bezier points, label position) of an edge that closes a cycle: out of the right side
    of ``start``, bulging right, into the right side of ``end`` (the same box, for a loop)."""
    sx, sy, sw, sh = layout.boxes[start]
    ex, ey, ew, eh = layout.boxes[end]
    leave, enter = (sx + sw / 2, sy + sh / 4), (ex + ew / 2, ey - eh / 4)
    reach = max(leave[0], enter[0]) + 0.4
    points = [leave, (reach, leave[1]), (reach, enter[1]), enter]
    return points, (reach - 0.05, (leave[1] + enter[1]) / 2)


def _rounded(Path, points):
    """A matplotlib Path through ``points`` with each inner corner rounded off (a Bezier)."""
    vertices, codes = [points[0]], [Path.MOVETO]
    for before, corner, after in zip(points, points[1:], points[2:]):
        vertices += [((before[0] + corner[0]) / 2, (before[1] + corner[1]) / 2), corner,
                     ((corner[0] + after[0]) / 2, (corner[1] + after[1]) / 2)]
        codes += [Path.LINETO, Path.CURVE3, Path.CURVE3]
    vertices.append(points[-1])
    codes.append(Path.LINETO)
    return Path(vertices, codes)


def _edge_paths(graph, layout):
    """(node, parent, [(x, y), ...]) per edge: from the bottom of a box to the top of another.

    A box's outgoing edges leave from points spread along its bottom, in the
    order of where they go, so they do not cross right under it.
    """
    by_start = {}
    for start, end, chain in layout.routes:
        by_start.setdefault(start, []).append((end, chain))
    for start, edges in by_start.items():
        cx, cy, w, h = layout.boxes[start]
        edges.sort(key=lambda edge: layout.x[edge[1][1]])
        spread = min(w * 0.7, 0.3 * (len(edges) - 1))
        for k, (end, chain) in enumerate(edges):
            offset = 0.0 if len(edges) == 1 else spread * (k / (len(edges) - 1) - 0.5)
            points = [(cx + offset, cy + h / 2)]
            for vertex in chain[1:-1]:
                points.append((layout.x[vertex], layout.y[vertex]))
            ex, ey, _, eh = layout.boxes[end]
            points.append((ex, ey - eh / 2))
            yield start, end, points
