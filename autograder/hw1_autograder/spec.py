"""HW1 Part 1 (``./grade.sh 1``): Problems 1.1-2.6, graded; Problem 3 (MNIST), by hand.

The dependency table: the 1.1.x tests call each op's forward and backward directly
(and its Tensor operator through a grader-owned ``apply``), so they run nothing else
of the student's; 1.2 tests the engine with the given ops and grader-owned Functions;
every layer, loss and optimizer (2.x) needs the engine; momentum (2.6) is SGD's update
with one more term.  A whole-model test that also runs another problem's code says so
with ``@builds_on`` (autograder/helpers.py) and counts only when that problem passes.

The student's parts follow the handout: Sub, Mul, Div and their operators (1.1.x);
Function.apply, backward() and Tensor.backward (1.2); Sequential.forward,
Linear.forward and broadcasting (2.1); ReLU (2.2); SGD.step (2.3); BatchNorm (2.4);
cross_entropy (2.5); momentum (2.6); mnist.py (3).  The ops the handout leaves to the
student ("implement your OWN operations if you need them") go with the first problem
that needs them, and so do this library's own additions on the student's route (the
fused Linear, BatchNorm and CrossEntropy Functions, the engine's helpers).  Given, and
never stubbed: Add, Transpose, Reshape, Log, the Tensor basics, ContextManager,
AccumulateGrad, BackwardFunction, Module, CrossEntropyLoss, the optimizers' constructors.
"""
from autograder.specs import Homework, Part, Practice, Problem

FUNCTIONAL = "mytorch/nn/functional.py"
TENSOR = "mytorch/tensor.py"
ENGINE = "mytorch/autograd_engine.py"


# Each problem's section of the problem sheet, docs/hw1p1.md (its anchors).
SECTIONS = {"1.1.1": "sub", "1.1.2": "mul", "1.1.3": "div", "1.2": "autograd", "2.1": "linear",
            "2.2": "relu", "2.3": "sgd", "2.4": "batchnorm", "2.5": "cross-entropy",
            "2.6": "momentum", "3": "mnist"}


def _parts(problem, files, keep=None, helpers=()):
    """The Parts of ``problem``: {file: [qualname, ...]}; ``keep``: {qualname: statements
    of given starting code}; ``helpers``: the reference's helpers, left out of a starter."""
    return [Part(problem, path, name, (keep or {}).get(name, 0), section=SECTIONS[problem],
                 helper=name in helpers)
            for path, names in files.items() for name in names]


PARTS = (
    _parts("1.1.1", {FUNCTIONAL: ["Sub.forward", "Sub.backward"],
                     TENSOR: ["Tensor.__sub__", "Tensor.__rsub__"]})
    + _parts("1.1.2", {FUNCTIONAL: ["Mul.forward", "Mul.backward"],
                       TENSOR: ["Tensor.__mul__", "Tensor.__rmul__"]})
    + _parts("1.1.3", {FUNCTIONAL: ["Div.forward", "Div.backward"],
                       TENSOR: ["Tensor.__truediv__", "Tensor.__rtruediv__"]})
    # Function.apply keeps the handout's starting code: make the node, run forward.  The
    # engine's helpers are the reference's own way: a starter leaves them out.
    + _parts("1.2", {ENGINE: ["Function.apply", "backward", "_node_of", "_topological_order",
                              "_one_per_input", "_gradient_array"],
                     TENSOR: ["Tensor.backward"]}, keep={"Function.apply": 2},
             helpers=("_node_of", "_topological_order", "_one_per_input", "_gradient_array"))
    # unbroadcast keeps its equal-shape case, so the given Add works before 2.1.
    + _parts("2.1", {"mytorch/nn/sequential.py": ["Sequential.forward"],
                     "mytorch/nn/linear.py": ["Linear.forward"],
                     FUNCTIONAL: ["unbroadcast", "MatMul.forward", "MatMul.backward",
                                  "Linear.forward", "Linear.backward"],
                     TENSOR: ["Tensor.__matmul__", "Tensor.__rmatmul__"]},
             keep={"unbroadcast": 1})
    + _parts("2.2", {"mytorch/nn/activations.py": ["ReLU.forward", "Sigmoid.forward",
                                                   "Tanh.forward"],
                     FUNCTIONAL: ["ReLU.forward", "ReLU.backward", "Sigmoid.forward",
                                  "Sigmoid.backward", "Tanh.forward", "Tanh.backward"],
                     TENSOR: ["Tensor.relu"]})
    + _parts("2.3", {"mytorch/optim/sgd.py": ["SGD.step"]})
    + _parts("2.4", {"mytorch/nn/batchnorm.py": ["BatchNorm1d.forward"],
                     FUNCTIONAL: ["Sum.forward", "Sum.backward", "Pow.forward", "Pow.backward",
                                  "BatchNorm.forward", "BatchNorm.backward"],
                     TENSOR: ["Tensor.sum", "Tensor.mean", "Tensor.__pow__"]})
    + _parts("2.5", {FUNCTIONAL: ["Exp.forward", "Exp.backward", "Neg.forward",
                                  "Neg.backward", "CrossEntropy.forward",
                                  "CrossEntropy.backward", "cross_entropy"],
                     TENSOR: ["Tensor.exp", "Tensor.__neg__"]})
    + _parts("2.6", {"mytorch/optim/sgd.py": ["SGD.momentum_step"]})
    + _parts("3", {"hw1/mnist.py": ["mnist", "train", "validate"]})
)

GUIDE = """\
Read the problem sheet, `docs/hw1p1.md`, through its worked example first (the
sections `tensor-attributes` and `worked-example`), and run `python3 sandbox.py` once you
have done 1.1 and 1.2: it rebuilds the worked example and draws its graph. The
practice checks at the end of `./grade.sh 1` (0 points; `./grade.sh 1 practice` runs
them alone) try the other ops and broadcasting in Sub, Mul and Div, which you need once
you build BatchNorm or cross-entropy from Tensor ops. Problem 3: write `hw1/mnist.py`;
`./grade.sh m` trains it and saves `hw1/validation_accuracy.png`, and
`./create_tarball.sh` packs `handin.tar`.

Ops the handout leaves to you ("implement your OWN operations if you need them") are
listed with the first problem that needs them: you can build Linear as `x @ W.T() + b`
from MatMul, the given Transpose and a broadcasting Add, and BatchNorm and
cross-entropy from Tensor ops. The reference solution also has fused Linear,
BatchNorm and CrossEntropy Functions (one graph node each); they are listed so you can
write them too, but nothing requires them.
"""

SPEC = Homework(
    command="1",
    title="HW1 Part 1",
    bare_numbers=True,            # the handout's numbers: "Problem 2.4" needs no grader named
    sheet="docs/hw1p1.md",
    homework=1,
    problems=[
        Problem("1.1.0", "Addition", 0, ("test_autograd", "test_add_")),   # given: shown, not scored
        Problem("1.1.1", "Subtraction", 5, ("test_autograd", "test_sub_")),
        Problem("1.1.2", "Multiplication", 5, ("test_autograd", "test_mul_")),
        Problem("1.1.3", "Division", 5, ("test_autograd", "test_div_")),
        Problem("1.2", "Autograd", 25, ("test_autograd", "test_autograd_")),
        Problem("2.1", "Linear", 5, ("test_mlp", "test_linear_")),
        Problem("2.2", "ReLU", 10, ("test_mlp", "test_relu_")),
        Problem("2.3", "SGD", 10, ("test_mlp", "test_sgd_")),
        Problem("2.4", "BatchNorm", 10, ("test_mlp", "test_batchnorm_")),
        Problem("2.5", "Cross-entropy", 15, ("test_mlp", "test_cross_entropy_")),
        Problem("2.6", "Momentum", 10, ("test_mlp", "test_momentum_")),
        Problem("3", "MNIST", 10),            # graded by hand from the plot ./grade.sh m draws
    ],
    depends_on={
        "2.1": ("1.2",), "2.2": ("1.2",), "2.3": ("1.2",), "2.4": ("1.2",), "2.5": ("1.2",),
        "2.6": ("1.2", "2.3"),
        "3": ("2.1", "2.2", "2.3", "2.4", "2.5", "2.6"),
    },
    parts=PARTS,
    practice=Practice("test_practice", "test_practice_",
                      "the library's other ops, and broadcasting in Sub, Mul and Div"),
    handin=["mytorch/**/*.py", "hw1/*.py", "hw1/validation_accuracy.png"],
    handin_notes={"hw1/validation_accuracy.png":
                  "Problem 3 (MNIST) is graded from it: run ./grade.sh m to make it, then "
                  "pack again"},
    footer="Problem 3 (MNIST, 10 points) is graded by hand from hw1/validation_accuracy.png "
           "(made by ./grade.sh m): 100/110 is a full local score.",
    guide=GUIDE,
    scripts={"m": ("test_mnist.py", "Problem 3: train hw1/mnist.py on data/ and save "
                                    "hw1/validation_accuracy.png (--help: the options)")},
)
