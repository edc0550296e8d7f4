"""HW2 Part 1 (``./grade.sh 2``): Conv1d, Flatten, the scanning MLPs and the CNN.

The course's table and Autolab names: 1.1.1 Conv1D Forward (20), 1.1.2 Conv1D Backward
(30), 1.2 Flatten (10), 2.1 SimpleScanningMLP (10), 2.2 DistributedScanningMLP (10),
3 CNN (15): 95 points.

Isolation: 1.1.1 calls ``get_conv1d_output_size`` and ``F.Conv1d.forward`` directly;
1.1.2 calls ``F.Conv1d.backward`` directly, on a ctx filled the way the given first
statements of forward fill it; 1.2 calls the Flatten layer.  2.1, 2.2 and 3 run on
the grader's own Conv1d Function, Flatten and output size (grader_layers.py), so a
1.x mistake costs none of them.  The one dependency: the library's backward reuses
forward's window helpers (``im2col``, ``_columns``, which count on
``get_conv1d_output_size``), so 1.1.2's tests may run 1.1.1's code.  A test of 1.1.2
that runs stacked layers forward and backward counts only when 1.1.1 passes
(``@builds_on``).  Everything runs on the student's HW1 engine and layers (Linear,
the activations, SGD, CrossEntropyLoss): ./grade.sh 1 is graded silently first, so a
failure inside one of its parts is named.

The student's parts follow issue 18's table; the library's own helpers on the way
(``im2col``, ``_columns``, ``_conv_forward`` for 1.1.1; ``col2im``, ``_conv_backward``
for 1.1.2) go with them.  Given, and never stubbed: the Conv1d layer (its
``__init__`` draws the course's weights), the input checks (``_check_conv``,
``_check_windows``), the scanning classes' ``forward`` and their helpers
``_mlp_weights`` and ``_load``, and ``CNN.forward``.
"""
from autograder.specs import Homework, Part, Problem

FUNCTIONAL = "mytorch/nn/functional.py"
SCAN = "hw2/mlp_scan.py"
CNN = "hw2/hw2.py"


def _parts(problem, path, names, section, keep=None):
    return [Part(problem, path, name, (keep or {}).get(name, 0), section) for name in names]


PARTS = (
    _parts("1.1.1", FUNCTIONAL, ["get_conv1d_output_size"], "shapes")
    # Conv1d.forward keeps the handout's first statements: what backward needs, saved.
    + _parts("1.1.1", FUNCTIONAL, ["im2col", "_columns", "_conv_forward", "Conv1d.forward"],
             "conv1d-forward", keep={"Conv1d.forward": 3})
    + _parts("1.1.2", FUNCTIONAL, ["col2im", "_conv_backward", "Conv1d.backward"],
             "conv1d-backward")
    + _parts("1.2", "mytorch/nn/conv.py", ["Flatten.forward"], "flatten")
    + _parts("2.1", SCAN, ["CNN_SimpleScanningMLP.__init__", "CNN_SimpleScanningMLP.init_weights"],
             "simple-scanning-mlp")
    + _parts("2.2", SCAN, ["CNN_DistributedScanningMLP.__init__",
                           "CNN_DistributedScanningMLP.init_weights"], "distributed-scanning-mlp")
    + _parts("3", CNN, ["CNN.__init__", "get_final_conv_output_size"], "cnn")
)

GUIDE = """\
Read `docs/hw2p1.md` first: it states every question with its shapes and formulas,
and each `NotImplementedError` names the section to read. 1.1.1 and 1.1.2 are the
`Conv1d` Function (write forward and backward as sums over the kernel taps; the given
first statements of forward save what backward needs), 1.2 is `Flatten`; 2.1, 2.2 and
3 are graded on the grader's own convolution, so you can do them in any order. HW1 is
done in this copy: your layers build on it. `./create_tarball.sh 2` packs `handin.tar`.

The reference solution builds its convolution on a few helpers of its own (`im2col`,
`_columns`, `_conv_forward` for 1.1.1; `col2im`, `_conv_backward` for 1.1.2); they are
listed so you can write them too, but nothing requires them.
"""

SPEC = Homework(
    command="2",
    title="HW2 Part 1",
    homework=2,
    problems=[
        Problem("1.1.1", "Conv1D Forward", 20, ("test_conv1d", "test_conv1d_forward_"),
                key="Conv1D Forward"),
        Problem("1.1.2", "Conv1D Backward", 30, ("test_conv1d", "test_conv1d_backward_"),
                key="Conv1D Backward"),
        Problem("1.2", "Flatten", 10, ("test_flatten", "test_flatten_"), key="Flatten"),
        Problem("2.1", "CNN as a Simple Scanning MLP", 10,
                ("test_scanning", "test_simple_scanning_"), key="SimpleScanningMLP"),
        Problem("2.2", "CNN as a Distributed Scanning MLP", 10,
                ("test_scanning", "test_distributed_scanning_"), key="DistributedScanningMLP"),
        Problem("3", "CNN", 15, ("test_cnn", "test_cnn_"), key="CNN"),
    ],
    depends_on={"1.1.2": ("1.1.1",)},
    parts=PARTS,
    requires=("1",),
    sheet="docs/hw2p1.md",
    paths=["hw2"],
    handin=["mytorch/**/*.py", "hw2/*.py"],
    guide=GUIDE,
    footer="The bonus (Conv2d, MaxPool2d, AvgPool2d and a small CNN) is ./grade.sh 2b.",
)
