"""The student's parts of HW1 Part 1: for each problem, the functions a student writes.

The autograder uses it to say whose code a failing test ran ("2.4 fails inside
your Mul: see 1.1.2") and to recognise a stub that is not implemented yet;
practice mode (make_handout.py) stubs exactly these bodies out.  Which problem
needs which other problem comes from the dependency table in problems.py.

Following the handout: Sub, Mul, Div and their Tensor operators (1.1.x);
Function.apply, backward() and Tensor.backward (1.2); Sequential.forward,
Linear.forward and broadcasting (2.1); ReLU (2.2); SGD.step (2.3); BatchNorm
(2.4); cross_entropy (2.5); momentum (2.6); mnist.py (3); and for the bonus,
Adam.step and Dropout.  The ops the handout
leaves to the student ("implement your OWN operations if you need them") go with
the first problem that needs them, and so do this library's own additions on the
student's route (the fused Linear, BatchNorm and CrossEntropy Functions and the
engine's helpers).  Given, and never stubbed: Add, Transpose, Reshape, Log, the
Tensor basics, ContextManager, AccumulateGrad, BackwardFunction, Module,
CrossEntropyLoss, the optimizers' constructors.
"""
import ast
import os
from collections import namedtuple

FUNCTIONAL = "mytorch/nn/functional.py"
TENSOR = "mytorch/tensor.py"
ENGINE = "mytorch/autograd_engine.py"

PARTS = {
    "1.1.1": {FUNCTIONAL: ["Sub.forward", "Sub.backward"],
              TENSOR: ["Tensor.__sub__", "Tensor.__rsub__"]},
    "1.1.2": {FUNCTIONAL: ["Mul.forward", "Mul.backward"],
              TENSOR: ["Tensor.__mul__", "Tensor.__rmul__"]},
    "1.1.3": {FUNCTIONAL: ["Div.forward", "Div.backward"],
              TENSOR: ["Tensor.__truediv__", "Tensor.__rtruediv__"]},
    "1.2": {ENGINE: ["Function.apply", "backward", "_node_of", "_topological_order",
                     "_one_per_input", "_gradient_array"],
            TENSOR: ["Tensor.backward"]},
    "2.1": {"mytorch/nn/sequential.py": ["Sequential.forward"],
            "mytorch/nn/linear.py": ["Linear.forward"],
            FUNCTIONAL: ["unbroadcast", "MatMul.forward", "MatMul.backward",
                         "Linear.forward", "Linear.backward"],
            TENSOR: ["Tensor.__matmul__", "Tensor.__rmatmul__"]},
    "2.2": {"mytorch/nn/activations.py": ["ReLU.forward", "Sigmoid.forward", "Tanh.forward"],
            FUNCTIONAL: ["ReLU.forward", "ReLU.backward", "Sigmoid.forward",
                         "Sigmoid.backward", "Tanh.forward", "Tanh.backward"],
            TENSOR: ["Tensor.relu"]},
    "2.3": {"mytorch/optim/sgd.py": ["SGD.step"]},
    "2.4": {"mytorch/nn/batchnorm.py": ["BatchNorm1d.forward"],
            FUNCTIONAL: ["Sum.forward", "Sum.backward", "Pow.forward", "Pow.backward",
                         "BatchNorm.forward", "BatchNorm.backward"],
            TENSOR: ["Tensor.sum", "Tensor.mean", "Tensor.__pow__"]},
    "2.5": {FUNCTIONAL: ["Exp.forward", "Exp.backward", "Neg.forward", "Neg.backward",
                         "CrossEntropy.forward", "CrossEntropy.backward", "cross_entropy"],
            TENSOR: ["Tensor.exp", "Tensor.__neg__"]},
    "2.6": {"mytorch/optim/sgd.py": ["SGD.momentum_step"]},
    "3": {"hw1/mnist.py": ["mnist", "train", "validate"]},
    # The HW1 bonus (./grade.sh 1b)
    "Adam": {"mytorch/optim/adam.py": ["Adam.step"]},
    "Dropout": {FUNCTIONAL: ["Dropout.forward", "Dropout.backward"],
                "mytorch/nn/dropout.py": ["Dropout.forward"]},
}
BONUS = ("Adam", "Dropout")

# Functions whose first statements (after the docstring) the handout gives as
# starting code: a stub keeps them and replaces only the rest.
KEEP = {
    ("1.2", "Function.apply"): 2,    # make the node, run forward (handout 1.2: "some starting code")
    ("2.1", "unbroadcast"): 1,       # equal shapes need no work: Add works before 2.1
}

# The handout section a stub sends the student to.
SECTIONS = {"3": "3.1-3.3"}

Part = namedtuple("Part", "problem path qualname keep")


def parts(problems=None):
    """Every Part (of the given problem numbers, or of all), in manifest order."""
    found = []
    for problem, files in PARTS.items():
        if problems is not None and problem not in problems:
            continue
        for path, names in files.items():
            for qualname in names:
                found.append(Part(problem, path, qualname, KEEP.get((problem, qualname), 0)))
    return found


def stub_message(part):
    """The NotImplementedError message a stub raises."""
    if part.problem in BONUS:
        return "Bonus {}: implement {} (./grade.sh 1b grades it)".format(part.problem,
                                                                        part.qualname)
    return "Problem {}: implement {} (handout section {})".format(
        part.problem, part.qualname, SECTIONS.get(part.problem, part.problem))


def display_name(qualname):
    """How a report names a part: the op for a Function's forward/backward ("Mul")."""
    owner, _, method = qualname.rpartition(".")
    return owner if owner and method in ("forward", "backward") and owner != "Tensor" else qualname


_PARSED = {}


def functions_in(path):
    """{qualname: ast node} of the functions and methods defined in the file at ``path``
    ({} if it is missing or does not parse)."""
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return {}
    if _PARSED.get(path, (None,))[0] != stamp:
        try:
            with open(path, encoding="utf-8") as source:
                tree = ast.parse(source.read(), path)
        except (SyntaxError, ValueError, UnicodeDecodeError):
            return {}
        _PARSED[path] = (stamp, functions_of(tree))
    return _PARSED[path][1]


def functions_of(tree):
    """{qualname: ast node} of the functions and methods in a parsed module."""
    found, todo = {}, [("", node) for node in tree.body]
    while todo:
        prefix, node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[prefix + node.name] = node
        elif isinstance(node, ast.ClassDef):
            todo.extend((prefix + node.name + ".", child) for child in node.body)
    return found
