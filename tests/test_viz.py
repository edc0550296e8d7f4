"""mytorch.viz: the graph as DOT, as a text tree and as a picture, read-only, any size."""
import contextlib
import re
import signal
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import mytorch
from mytorch import Tensor, viz
from mytorch.autograd_engine import AccumulateGrad, BackwardFunction, Function
from mytorch.nn.activations import ReLU
from mytorch.nn.batchnorm import BatchNorm1d
from mytorch.nn.linear import Linear
from mytorch.nn.loss import CrossEntropyLoss
from mytorch.nn.module import Module
from mytorch.nn.sequential import Sequential

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def worked_example():
    """Handout section 0.1: d = a*b + a; e = (d + c) + 3."""
    a, b, c = Tensor(1., requires_grad=True), Tensor(2.), Tensor(3., requires_grad=True)
    d = a * b + a
    e = (d + c) + 3
    return e, a, c


def mlp_loss(seed=0):
    """The handout's MNIST MLP on one batch of random data, and its loss."""
    np.random.seed(seed)
    model = Sequential(Linear(784, 20), BatchNorm1d(20), ReLU(), Linear(20, 10))
    x = Tensor(np.random.rand(100, 784))
    loss = CrossEntropyLoss()(model(x), Tensor(np.random.randint(0, 10, 100)))
    return loss, model


def parse_dot(source):
    """({node id: [label lines]}, {node id: attribute text}, [(from, to, attribute text)])."""
    nodes, attrs = {}, {}
    for ident, label, rest in re.findall(r'^\s*(n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$',
                                         source, re.MULTILINE):
        nodes[ident] = [line.replace('\\"', '"') for line in label.split("\\n")]
        attrs[ident] = rest
    edges = re.findall(r"^\s*(n\d+) -> (n\d+)(.*);$", source, re.MULTILINE)
    return nodes, attrs, edges


def dot_tree(source):
    """The DOT graph unfolded from n0 into nested (label lines, [children]) in edge order."""
    nodes, _, edges = parse_dot(source)
    out = {}
    for start, end, _ in edges:
        out.setdefault(start, []).append(end)

    def unfold(ident):
        return (nodes[ident], [unfold(child) for child in out.get(ident, [])])
    return unfold("n0")


def graph_tree(node, names):
    """The same nesting read straight from next_functions: what the DOT must say."""
    if node is None:
        return ["None"], []
    if isinstance(node, AccumulateGrad):
        lines = ["AccumulateGrad", names[id(node.variable)], str(node.variable.shape)]
        if node.variable.grad is not None:
            lines.append("grad norm {:.4g}".format(np.linalg.norm(node.variable.grad.data)))
        return lines, []
    return [node.function_name, str(node.shape)], [graph_tree(p, names)
                                                    for p in node.next_functions]


# --------------------------------------------------------------------------- #
# to_dot
# --------------------------------------------------------------------------- #
def test_dot_of_worked_example_has_exactly_its_nodes():
    e, a, c = worked_example()
    nodes, attrs, _ = parse_dot(viz.to_dot(e))
    titles = sorted(lines[0] for lines in nodes.values())
    assert titles == ["AccumulateGrad"] * 2 + ["Add"] * 3 + ["Mul"] + ["None"] * 2
    for ident, lines in nodes.items():
        assert ("dashed" in attrs[ident]) == (lines[0] == "None"), "constants, and only they, dashed"
    assert nodes["n0"] == ["Add", "()"], "n0 is the output's node"


def test_dot_edges_match_next_functions():
    e, a, c = worked_example()
    names = {id(a): "a", id(c): "c"}
    source = viz.to_dot(e, params={"a": a, "c": c})
    assert dot_tree(source) == graph_tree(e.grad_fn, names)
    # ... which is the handout's figure: e -> (Add, 3); Add -> (d, c); d -> (Mul, a); Mul -> (a, b)
    leaf_a, leaf_c = (["AccumulateGrad", "a", "()"], []), (["AccumulateGrad", "c", "()"], [])
    const = (["None"], [])
    mul = (["Mul", "()"], [leaf_a, const])
    assert dot_tree(source) == (["Add", "()"], [(["Add", "()"], [(["Add", "()"], [mul, leaf_a]),
                                                                  leaf_c]), const])


def test_dot_has_one_node_per_leaf_however_often_it_is_used():
    e, a, c = worked_example()
    nodes, _, edges = parse_dot(viz.to_dot(e, params={"a": a, "c": c}))
    (node_a,) = [i for i, lines in nodes.items() if lines[:2] == ["AccumulateGrad", "a"]]
    users = sorted(nodes[start][0] for start, end, _ in edges if end == node_a)
    assert users == ["Add", "Mul"]
    dashed = [(start, end) for start, end, rest in edges if "dashed" in rest]
    assert len(dashed) == 2 and all(nodes[end] == ["None"] for _, end in dashed)


def test_dot_merges_an_ops_none_slots_into_one_box():
    x = Tensor(np.random.rand(4, 3), requires_grad=True)
    bn = BatchNorm1d(3)
    nodes, _, edges = parse_dot(viz.to_dot(bn(x)))
    # BatchNorm's 8 inputs: x, gamma, beta, then 5 Nones (running stats, training, momentum, eps)
    assert sorted(lines[0] for lines in nodes.values()) == \
        ["AccumulateGrad"] * 3 + ["BatchNorm", "None x5"]
    assert len(edges) == 4


def test_leaves_show_the_norm_of_their_grad_after_backward():
    e, a, c = worked_example()
    assert "grad norm" not in viz.to_dot(e)
    e.backward()
    nodes, _, _ = parse_dot(viz.to_dot(e, params={"a": a, "c": c}))
    leaves = sorted(lines for lines in nodes.values() if lines[0] == "AccumulateGrad")
    assert leaves == [["AccumulateGrad", "a", "()", "grad norm 3"],      # de/da = b + 1
                      ["AccumulateGrad", "c", "()", "grad norm 1"]]      # de/dc = 1


def test_grad_norm_is_the_frobenius_norm():
    w = Tensor(np.zeros((2, 2)), requires_grad=True)
    loss = (w * Tensor([[3., 0.], [0., 4.]])).sum()
    loss.backward()                                   # w.grad = [[3, 0], [0, 4]]: norm 5
    assert re.search(r'\\ngrad norm 5"', viz.to_dot(loss))


def test_mlp_graph_has_its_five_ops_and_named_parameters():
    loss, model = mlp_loss()
    nodes, _, edges = parse_dot(viz.to_dot(loss, params=model))
    ops = sorted(lines[0] for lines in nodes.values()
                 if lines[0] not in ("AccumulateGrad", "None") and not lines[0].startswith("None "))
    assert ops == ["BatchNorm", "CrossEntropy", "Linear", "Linear", "ReLU"]
    leaves = sorted(lines[1:3] for lines in nodes.values() if lines[0] == "AccumulateGrad")
    assert leaves == [["layers[0].bias", "(20,)"], ["layers[0].weight", "(20, 784)"],
                      ["layers[1].beta", "(20,)"], ["layers[1].gamma", "(20,)"],
                      ["layers[3].bias", "(10,)"], ["layers[3].weight", "(10, 20)"]]
    assert nodes["n0"] == ["CrossEntropy", "()"]
    assert ["Linear", "(100, 20)"] in nodes.values() and ["ReLU", "(100, 20)"] in nodes.values()


def test_parameter_names_follow_attributes_of_nested_modules():
    class Net(Module):
        def __init__(self):
            super().__init__()
            self.encoder = Sequential(Linear(3, 2), ReLU())
            self.scale = Tensor(np.ones(2), requires_grad=True, is_parameter=True)

        def forward(self, x):
            return self.encoder(x) * self.scale

    net = Net()
    source = viz.to_dot(net(Tensor(np.ones((4, 3)))), params=net)
    for name in ("encoder.layers[0].weight", "encoder.layers[0].bias", "scale"):
        assert '\\n{}\\n'.format(name) in source


def test_params_of_the_wrong_type_are_rejected():
    e, a, c = worked_example()
    with pytest.raises(TypeError, match="params must be a Module or a dict"):
        viz.to_dot(e, params=[a, c])


def test_a_tensor_without_a_graph_is_one_node():
    leaf = Tensor(np.ones(3), requires_grad=True)
    nodes, _, edges = parse_dot(viz.to_dot(leaf))
    assert list(nodes.values()) == [["leaf tensor", "(3,)"]] and edges == []
    assert leaf.grad_fn is None, "viz must not create the leaf's AccumulateGrad"
    nodes, _, _ = parse_dot(viz.to_dot(Tensor(2.)))
    assert list(nodes.values()) == [["None", "()", "a constant: no graph"]]
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.to_dot(np.ones(3))


def test_a_node_can_be_passed_instead_of_a_tensor():
    e, a, c = worked_example()
    assert viz.to_dot(e.grad_fn) == viz.to_dot(e)


def test_ops_created_in_anomaly_mode_show_where():
    x = Tensor(np.ones(2), requires_grad=True)
    with mytorch.detect_anomaly():
        y = x.exp()
    line = sys._getframe().f_lineno - 1
    assert "at test_viz.py:{}".format(line) in viz.to_dot(y)


# --------------------------------------------------------------------------- #
# Read-only, before and after backward, any depth
# --------------------------------------------------------------------------- #
def snapshot(tensor):
    """Everything about a graph that viz could change, node by node."""
    state, stack, seen = [], [tensor.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            grad = node.variable.grad
            state.append((id(node), id(node.variable.grad_fn), None if grad is None
                          else grad.data.tolist(), node.variable._version[0]))
            continue
        ctx = node.ctx
        saved = None if ctx is None else ([id(t) for t in ctx._saved], list(ctx._versions),
                                          sorted(vars(ctx)))
        state.append((id(node), [id(p) for p in node.next_functions], id(ctx), saved))
        stack.extend(node.next_functions)
    return state


def run_every_tool(tensor, params, tmp_path, capsys):
    viz.to_dot(tensor, params=params)
    viz.show(tensor, params=params)
    capsys.readouterr()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return
    viz.draw(tensor, str(tmp_path / "g.png"), params=params)


def test_tools_change_nothing_before_or_after_backward(tmp_path, capsys):
    loss, model = mlp_loss()
    unused = Tensor(np.ones(2), requires_grad=True)
    before = snapshot(loss)
    run_every_tool(loss, model, tmp_path, capsys)
    run_every_tool(unused, None, tmp_path, capsys)
    assert snapshot(loss) == before
    assert all(p.grad is None for p in model.parameters()), "no backward was run"
    assert unused.grad_fn is None
    loss.backward()
    after = snapshot(loss)
    run_every_tool(loss, model, tmp_path, capsys)
    assert snapshot(loss) == after


def test_graph_with_freed_saved_tensors_draws_the_same_nodes():
    e, a, c = worked_example()
    nodes_before, _, edges_before = parse_dot(viz.to_dot(e))
    e.backward()
    assert e.grad_fn.ctx is None                              # freed by backward()
    nodes_after, _, edges_after = parse_dot(viz.to_dot(e))
    assert edges_after == edges_before
    assert nodes_after != nodes_before                        # the leaves' grad norms
    assert {k: [line for line in v if not line.startswith("grad norm")]
            for k, v in nodes_after.items()} == nodes_before


def test_a_graph_deeper_than_the_recursion_limit(capsys):
    depth = 3 * sys.getrecursionlimit()
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * 1.0
    nodes, _, edges = parse_dot(viz.to_dot(y))
    assert len(nodes) == 2 * depth + 1 and len(edges) == 2 * depth
    viz.show(y)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 * depth + 1
    assert max(len(line) for line in lines) < 250, "indentation is capped"
    (leaf,) = [line for line in lines if "AccumulateGrad" in line]
    assert leaf.endswith("[depth {}] AccumulateGrad (2,)".format(depth))


# --------------------------------------------------------------------------- #
# show
# --------------------------------------------------------------------------- #
def test_show_prints_the_tree(capsys):
    e, a, c = worked_example()
    e.backward()
    viz.show(e, params={"a": a, "c": c})
    assert capsys.readouterr().out == (
        "Add ()\n"
        "+-- Add ()\n"
        "|   +-- Add ()\n"
        "|   |   +-- Mul ()\n"
        "|   |   |   +-- AccumulateGrad a ()  grad norm 3  #1\n"
        "|   |   |   `-- None\n"
        "|   |   `-- AccumulateGrad a ()  grad norm 3  (#1, above)\n"
        "|   `-- AccumulateGrad c ()  grad norm 1\n"
        "`-- None\n")


def test_show_prints_a_shared_subgraph_once(capsys):
    x = Tensor(np.ones(2), requires_grad=True)
    h = (x * 3).exp()
    viz.show((h + h.log()).sum())
    out = capsys.readouterr().out
    assert out.count("Exp (2,)") == 2 and out.count("Mul (2,)") == 1
    assert "Exp (2,)  #1" in out and "Exp (2,)  (#1, above)" in out


# --------------------------------------------------------------------------- #
# Layout
# --------------------------------------------------------------------------- #
def few_dozen_ops():
    """An MLP built from primitive ops (~50 nodes), with shared subexpressions."""
    rng = np.random.default_rng(0)
    w1, b1 = Tensor(rng.normal(size=(5, 4)), requires_grad=True), Tensor(np.zeros(5), requires_grad=True)
    w2, b2 = Tensor(rng.normal(size=(3, 5)), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    h = (Tensor(rng.normal(size=(8, 4))) @ w1.T() + b1).relu()
    mu = h.mean(axis=0)
    h = (h - mu) / (((h - mu) ** 2).mean(axis=0) + 1e-5) ** 0.5
    o = h @ w2.T() + b2
    return (o.exp().sum(axis=1).log() - o.sum(axis=1) / 3).mean() + (w1 * w1).sum() * 0.01


def check_layout(layout, graph):
    for i, (x, y, w, h) in enumerate(layout.boxes):
        assert 0 <= x - w / 2 and x + w / 2 <= layout.width
        assert 0 <= y - h / 2 and y + h / 2 <= layout.height
        for j, (x2, y2, w2, h2) in enumerate(layout.boxes[:i]):
            apart = abs(x - x2) >= (w + w2) / 2 or abs(y - y2) >= (h + h2) / 2
            assert apart, "boxes {} and {} overlap".format(j, i)
    for start, end, chain in layout.routes:
        ys = [layout.y[v] for v in chain]
        assert all(a < b for a, b in zip(ys, ys[1:])), "edges run top to bottom"
    assert len(layout.routes) == sum(len(node.parents) for node in graph.nodes)


def test_layout_of_worked_example_is_layered_without_crossings():
    e, a, c = worked_example()
    graph = viz._Graph(e)
    layout = viz._Layout(graph)
    check_layout(layout, graph)
    assert viz._Layout._crossings(layout.order, layout_down(layout)) == 0
    titles = [node.title for node in graph.nodes]
    assert layout.boxes[titles.index("Mul")][1] > layout.boxes[0][1]


def layout_down(layout):
    down = [[] for _ in layout.x]
    for _, _, chain in layout.routes:
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
    return down


def test_layout_of_a_few_dozen_nodes_keeps_boxes_apart():
    graph = viz._Graph(few_dozen_ops())
    assert 30 <= len(graph.nodes) <= 80
    check_layout(viz._Layout(graph), graph)


def test_crossing_count_counts_crossing_edges():
    # Layer 0: u0 u1; layer 1: v0 v1.  u0->v1 and u1->v0 cross once; u0->v0 crosses nothing.
    down = [[3], [2], [], []]
    assert viz._Layout._crossings([[0, 1], [2, 3]], down) == 1
    assert viz._Layout._crossings([[0, 1], [3, 2]], down) == 0


def test_pack_keeps_order_and_gaps_and_wanted_places_when_free():
    assert viz._pack([0.0, 5.0], [1.0, 1.0]) == [0.0, 5.0]
    x = viz._pack([1.0, 1.0, 1.0], [1.0, 1.0, 1.0])          # all want the same spot
    gap = 1.0 + viz._GAP_X
    assert x == pytest.approx([1.0 - gap, 1.0, 1.0 + gap])


# --------------------------------------------------------------------------- #
# draw (needs matplotlib)
# --------------------------------------------------------------------------- #
def test_draw_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    import matplotlib.image
    e, a, c = worked_example()
    path = tmp_path / "graph.png"
    assert viz.draw(e, str(path), params={"a": a, "c": c}) == str(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    height, width = matplotlib.image.imread(str(path)).shape[:2]
    assert height > width > 100, "a top-to-bottom picture"


def test_draw_writes_an_svg_with_the_labels_as_text(tmp_path):
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    e, a, c = worked_example()
    e.backward()
    path = tmp_path / "graph.SVG"
    viz.draw(e, str(path), params={"a": a, "c": c})
    root = ElementTree.parse(str(path)).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t for element in root.iter() if element.tag.endswith("text")
                    for t in element.itertext())
    for label in ("Mul", "Add", "AccumulateGrad", "grad norm 3", "grad norm 1", "None"):
        assert label in text
    assert text.count("AccumulateGrad") == 2 and text.count("Add") == 3


def test_draw_renders_the_mlp_and_a_few_dozen_ops(tmp_path):
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    loss, model = mlp_loss()
    loss.backward()
    viz.draw(loss, str(tmp_path / "mlp.png"), params=model)
    viz.draw(few_dozen_ops(), str(tmp_path / "ops.png"))
    for name in ("mlp.png", "ops.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG_SIGNATURE


def test_draw_refuses_other_formats_and_huge_graphs(tmp_path):
    e, a, c = worked_example()
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        viz.draw(e, str(tmp_path / "graph.pdf"))
    with pytest.raises(ValueError, match="8 nodes, more than max_nodes=5"):
        viz.draw(e, str(tmp_path / "graph.png"), max_nodes=5)
    assert list(tmp_path.iterdir()) == []


def test_importing_viz_does_not_import_matplotlib():
    code = "import sys, mytorch.viz; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]))
    assert out.stdout.strip() == "False", out.stderr


def test_draw_leaves_the_matplotlib_backend_alone(tmp_path):
    matplotlib = pytest.importorskip("matplotlib", reason="draw() needs matplotlib")
    before = matplotlib.get_backend()
    e, a, c = worked_example()
    viz.draw(e, str(tmp_path / "g.png"))
    assert matplotlib.get_backend() == before


# --------------------------------------------------------------------------- #
# Bad input: a graph with a cycle, a graph too big to draw, params the wrong way round
# --------------------------------------------------------------------------- #
@contextlib.contextmanager
def time_limit(seconds):
    """Fail the test, rather than hang the suite, if the block runs longer than ``seconds``."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise AssertionError("still running after {} s: the graph tool does not end"
                             .format(seconds))
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def broken_apply(cls, *args):
    """An apply that sets the output's grad_fn before it reads its inputs' nodes, and returns
    its input as the output: the op's node then lists itself in its own next_functions."""
    node = BackwardFunction(cls)
    output = args[0]
    output.requires_grad, output.is_leaf, output.grad_fn = True, False, node
    for arg in args:
        if isinstance(arg, Tensor) and arg.requires_grad:
            if arg.grad_fn is None:
                arg.grad_fn = AccumulateGrad(arg)
            node.next_functions.append(arg.grad_fn)
        else:
            node.next_functions.append(None)
    return output


@pytest.fixture
def self_loop(monkeypatch):
    """``x * w`` built by ``broken_apply``: Mul's node is its own first input."""
    x, w = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    with monkeypatch.context() as patch:
        patch.setattr(Function, "apply", classmethod(broken_apply))
        y = x * w
    assert y is x and y.grad_fn.next_functions[0] is y.grad_fn
    return y


def two_node_cycle():
    """Exp -> Log -> back to Exp, below an Add that also uses a leaf."""
    x = Tensor(np.ones(2), requires_grad=True)
    h = x.exp()
    y = h.log() + x
    log_node = y.grad_fn.next_functions[0]
    h.grad_fn.next_functions = [log_node]              # Exp's input is now Log's output
    return y


def test_show_marks_a_self_loop_and_ends(self_loop, capsys):
    with time_limit(5):
        viz.show(self_loop)
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["Mul  #1",
                         "+-- Mul  (#1, above: a cycle)",
                         "`-- AccumulateGrad (2,)"]
    assert "cycle" in lines[3] and "Function.apply" in " ".join(lines[3:])


def test_show_marks_a_longer_cycle_and_ends(capsys):
    with time_limit(5):
        viz.show(two_node_cycle())
    out = capsys.readouterr().out
    assert out.splitlines()[:5] == ["Add (2,)",
                                    "+-- Log (2,)  #1",
                                    "|   `-- Exp (2,)",
                                    "|       `-- Log (2,)  (#1, above: a cycle)",
                                    "`-- AccumulateGrad (2,)"]


def test_to_dot_marks_the_edge_that_closes_a_cycle(self_loop):
    nodes, _, edges = parse_dot(viz.to_dot(self_loop))
    assert ("n0", "n0") in [(start, end) for start, end, _ in edges]
    (closing,) = [rest for start, end, rest in edges if "cycle" in rest]
    assert 'label="cycle"' in closing and "color" in closing
    nodes, _, edges = parse_dot(viz.to_dot(two_node_cycle()))
    assert len([rest for _, _, rest in edges if "cycle" in rest]) == 1
    assert not [rest for _, _, rest in parse_dot(viz.to_dot(worked_example()[0]))[2]
                if "cycle" in rest]


def test_draw_shows_a_cycle_in_red(self_loop, tmp_path):
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    for name, y in (("loop.svg", self_loop), ("two.svg", two_node_cycle())):
        with time_limit(20):
            viz.draw(y, str(tmp_path / name))
        svg = (tmp_path / name).read_text()
        assert ">cycle<" in svg and viz._CYCLE_COLOUR in svg
    viz.draw(two_node_cycle(), str(tmp_path / "two.png"))
    assert (tmp_path / "two.png").read_bytes()[:8] == PNG_SIGNATURE


def test_layout_of_a_cycle_keeps_the_other_edges_downwards():
    graph = viz._Graph(two_node_cycle())
    layout = viz._Layout(graph)
    assert len(layout.cycles) == 1
    for start, end, chain in layout.routes:
        ys = [layout.y[v] for v in chain]
        assert all(a < b for a, b in zip(ys, ys[1:]))
    assert len(layout.routes) + len(layout.cycles) == sum(len(n.parents) for n in graph.nodes)


def long_chain(ops):
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(ops):
        y = y * 1.0
    return y


def test_draw_refuses_a_png_too_big_to_read_and_its_advice_works(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    for ops in (2500, 400):          # what max_nodes' advice led to; a chain just too long
        y = long_chain(ops)
        path = tmp_path / "chain{}.png".format(ops)
        with pytest.raises(ValueError) as info:
            viz.draw(y, str(path), max_nodes=10000)
        message = str(info.value)
        assert "inches" in message and "too small to read" in message
        assert ".svg" in message and "show()" in message
        assert not path.exists()
    # The advice (the 2,500-op chain takes a few seconds more, and works the same):
    viz.draw(y, str(tmp_path / "chain.svg"))          # an SVG keeps its text as text
    assert (tmp_path / "chain.svg").read_text().count(">Mul<") == 400
    viz.show(y)
    assert len(capsys.readouterr().out.splitlines()) == 2 * 400 + 1


def test_the_largest_png_draw_accepts_stays_readable():
    pytest.importorskip("matplotlib", reason="draw() needs matplotlib; the library does not")
    for ops in (10, 100, 400):
        layout = viz._Layout(viz._Graph(long_chain(ops)))
        dpi = viz._png_dpi(layout)
        too_big = viz._png_too_big(layout)
        assert (dpi < viz._MIN_PNG_DPI) == (too_big is not None)
        if too_big is None:
            assert dpi * 9 / 72 >= 7, "9-point labels at least 7 pixels tall"


def test_params_with_keys_and_values_swapped_say_so():
    e, a, c = worked_example()
    with pytest.raises(TypeError) as info:
        viz.to_dot(e, params={a: "a", c: "c"})
    message = str(info.value)
    assert "swapped" in message and '{"a": a}' in message
    with pytest.raises(TypeError, match=r"params\['b'\] is a float, not a Tensor"):
        viz.show(e, params={"a": a, "b": 2.0})
