"""The library and the autograders use no NumPy API newer than 1.18 (Autolab's is 1.18.1).

CI grades under NumPy 1.23.5 and tests under the current NumPy, but 1.18.1 has no
wheels for Python 3.11, so no test can run on it.  Instead these tests read the
sources (mytorch/, autograder/, hw1/, hw2/, hw3/, sandbox.py, data/prepare.py) and
reject the NumPy names and keyword arguments that a contributor might reach for but that
arrived after 1.18, or that are gone from current NumPy.  The lists are not all of
NumPy's history: they hold what code like this library could plausibly use.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("mytorch/**/*.py"), *ROOT.glob("autograder/**/*.py"),
                  *ROOT.glob("hw1/*.py"), *ROOT.glob("hw2/*.py"), *ROOT.glob("hw3/*.py"),
                  ROOT / "sandbox.py", ROOT / "data" / "prepare.py"])

# numpy.<name> -> the version that added it.
ADDED = {
    "broadcast_shapes": "1.20", "lib.stride_tricks.sliding_window_view": "1.20",
    "typing": "1.20", "array_api": "1.22", "exceptions": "1.25", "dtypes": "1.25",
    "show_runtime": "1.24",
    "concat": "2.0", "permute_dims": "2.0", "matrix_transpose": "2.0", "vecdot": "2.0",
    "isdtype": "2.0", "trapezoid": "2.0", "pow": "2.0", "acos": "2.0", "asin": "2.0",
    "atan": "2.0", "atan2": "2.0", "acosh": "2.0", "asinh": "2.0", "atanh": "2.0",
    "bitwise_left_shift": "2.0", "bitwise_right_shift": "2.0", "bitwise_invert": "2.0",
    "bitwise_count": "2.0", "unique_values": "2.0", "unique_counts": "2.0",
    "unique_inverse": "2.0", "unique_all": "2.0", "strings": "2.0",
    "linalg.vecdot": "2.0", "linalg.matrix_transpose": "2.0", "linalg.vector_norm": "2.0",
    "linalg.matrix_norm": "2.0", "linalg.outer": "2.0", "linalg.diagonal": "2.0",
    "linalg.trace": "2.0", "linalg.svdvals": "2.0", "linalg.matmul": "2.0",
    "linalg.tensordot": "2.0", "linalg.cross": "2.0",
    "astype": "2.1", "unstack": "2.1", "cumulative_sum": "2.1", "cumulative_prod": "2.1",
    "matvec": "2.2", "vecmat": "2.2",
}
# numpy.<name> -> the version that removed it (or changed what it means).
REMOVED = {
    "float": "1.24", "int": "1.24", "object": "1.24", "str": "1.24", "long": "1.24",
    "bool": "1.24 (back in 2.0 as np.bool_)", "unicode": "1.24", "asscalar": "1.23",
    "float_": "2.0", "complex_": "2.0", "string_": "2.0", "unicode_": "2.0", "NaN": "2.0",
    "NAN": "2.0", "Inf": "2.0", "Infinity": "2.0", "PINF": "2.0", "NINF": "2.0",
    "infty": "2.0", "alltrue": "2.0", "sometrue": "2.0", "product": "2.0",
    "cumproduct": "2.0", "round_": "2.0", "msort": "2.0", "mat": "2.0", "cast": "2.0",
    "find_common_type": "2.0", "issubclass_": "2.0", "int0": "2.0", "uint0": "2.0",
    "bool8": "2.0", "trapz": "2.0", "in1d": "2.0", "row_stack": "2.0",
    "set_string_function": "2.0", "safe_eval": "2.0", "deprecate": "2.0",
}
# (function or ndarray method, keyword) -> the version that added the keyword.
KEYWORDS = {
    ("argmax", "keepdims"): "1.22", ("argmin", "keepdims"): "1.22",
    ("mean", "where"): "1.20", ("std", "where"): "1.20", ("var", "where"): "1.20",
    ("concatenate", "dtype"): "1.20", ("concatenate", "casting"): "1.20",
    ("quantile", "method"): "1.22", ("percentile", "method"): "1.22",
    ("unique", "equal_nan"): "1.24", ("assert_array_equal", "strict"): "1.24",
    ("sort", "stable"): "2.0", ("argsort", "stable"): "2.0", ("reshape", "copy"): "2.1",
    ("asarray", "copy"): "2.0", ("asarray", "device"): "2.0", ("zeros", "like"): "1.20",
    ("empty", "like"): "1.20", ("ones", "like"): "1.20", ("array", "like"): "1.20",
}


def newer_numpy(source):
    """[(line, what, why)] for each use in ``source`` of a NumPy API newer than 1.18
    or removed since."""
    tree = ast.parse(source)
    aliases = {alias.asname or alias.name for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names
               if alias.name == "numpy"}
    found = []

    def check(line, dotted):
        if dotted in ADDED:
            found.append((line, "numpy." + dotted, "added in NumPy " + ADDED[dotted]))
        elif dotted in REMOVED:
            found.append((line, "numpy." + dotted, "removed in NumPy " + REMOVED[dotted]))

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module \
                and node.module.split(".")[0] == "numpy":
            prefix = node.module[len("numpy."):] + "." if "." in node.module else ""
            for alias in node.names:
                check(node.lineno, prefix + alias.name)
        elif isinstance(node, ast.Attribute):
            parts, base = [], node
            while isinstance(base, ast.Attribute):
                parts.insert(0, base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                check(node.lineno, ".".join(parts))
        if isinstance(node, ast.Call):
            function = node.func
            name = function.attr if isinstance(function, ast.Attribute) else \
                function.id if isinstance(function, ast.Name) else None
            for keyword in node.keywords:
                version = KEYWORDS.get((name, keyword.arg))
                if version:
                    found.append((node.lineno, "{}({}=...)".format(name, keyword.arg),
                                  "keyword added in NumPy " + version))
    return found


def test_the_scanner_finds_newer_and_removed_numpy_names_and_keywords():
    source = "\n".join([
        "import numpy as np",
        "from numpy.lib.stride_tricks import sliding_window_view",
        "from numpy import broadcast_shapes",
        "a = np.linalg.vecdot(x, y)",
        "b = x.argmax(axis=1, keepdims=True)",
        "c = np.float_(1.0) + np.product([2, 3])",
        "d = np.mean(x, where=x > 0)",
    ])
    found = {(line, what) for line, what, _ in newer_numpy(source)}
    assert found == {(2, "numpy.lib.stride_tricks.sliding_window_view"),
                     (3, "numpy.broadcast_shapes"), (4, "numpy.linalg.vecdot"),
                     (5, "argmax(keepdims=...)"), (6, "numpy.float_"), (6, "numpy.product"),
                     (7, "mean(where=...)")}


def test_the_scanner_accepts_what_numpy_1_18_has():
    source = "\n".join([
        "import numpy",
        "import numpy as np",
        "rng = np.random.default_rng(0)",              # 1.17
        "s = np.sum(x, axis=0, keepdims=True, where=m)",  # sum's where: 1.17
        "t = numpy.matmul(a, b).astype(numpy.float64, copy=False)",
        "u = x.mean(axis=0, keepdims=True)",
        "v = np.bool_(True)",
    ])
    assert newer_numpy(source) == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_sources_use_no_numpy_api_newer_than_1_18(path):
    found = newer_numpy(path.read_text())
    assert found == [], "\n".join("{}:{}: {} ({})".format(path.relative_to(ROOT), line, what, why)
                                  for line, what, why in found)


def test_the_scan_covers_the_library_and_the_autograders():
    names = {str(p.relative_to(ROOT)) for p in SOURCES}
    assert {"mytorch/tensor.py", "mytorch/nn/functional.py", "mytorch/autograd_engine.py",
            "autograder/hw1_autograder/test_mnist.py", "hw1/mnist.py", "hw2/hw2.py",
            "hw2/mlp_scan.py"} <= names
