"""The index keys of the slicing tests (1.2.2), shared by cases.py and test_tensor_ops.py.

A key is a Python object (ints, slices, lists, None, Ellipsis, tuples of these), which an
.npz file cannot hold without pickle, so the keys live here: cases.py computes PyTorch's
values for them, the tests give them to the student's Slice.  Each entry is
(x's shape, key, as_tensor): with ``as_tensor`` the test passes the list of indices as a
MyTorch Tensor, as course code may.  Every key means the same in NumPy and in PyTorch
(none mixes ints and index lists separated by a slice, where the two disagree); PyTorch
has no negative steps, so cases.py reads those axis by axis.
"""
import numpy as np

S = slice
SLICES = [
    # 1-D: ints, negative ints, slices with steps, index lists with repeats
    ((6,), 2, False),
    ((6,), -1, False),
    ((6,), S(1, 5), False),
    ((7,), S(None, None, -1), False),
    ((7,), S(5, 0, -2), False),
    ((6,), [0, 0, 3, 5, 3], False),
    ((6,), np.array([-1, 2, -1]), False),
    ((5,), [4, 1, 4], True),
    # 2-D: a time step's rows (TimeIterator), one element, rows and columns
    ((6, 3), S(2, 5), False),
    ((4, 5), (1, 3), False),
    ((4, 5), (S(None), -2), False),
    ((4, 5), (S(1, None), [0, 2, 2]), False),
    ((4, 5), (S(None, None, -1), S(0, 5, 2)), False),
    ((4, 5), ([0, 3, 3], [1, 1, -1]), False),
    ((4, 5), (None, 2), False),
    ((5, 2), [3, 0, 3, 3], True),
    # 3-D
    ((3, 4, 5), (Ellipsis, -1), False),
    ((3, 4, 5), (1, S(None, None, -2), S(1, 4)), False),
    ((3, 4, 5), (S(None), [2, 0, 2], S(None, None, 2)), False),
    ((3, 4, 5), ([0, 2, 2],), False),
    # 4-D
    ((2, 3, 4, 5), (-1, S(None), 2, S(4, 0, -1)), False),
    ((2, 3, 4, 5), (Ellipsis, [1, 1]), False),
    ((2, 3, 4, 5), (S(None, None, -1), 0, S(1, 3), None), False),
]


def describe(key):
    """How a message writes a key: ``x[1:, [0, 2, 2]]``."""
    parts = key if type(key) is tuple else (key,)
    text = ", ".join(_part(p) for p in parts)
    return "x[{}]".format(text + "," if type(key) is tuple and len(parts) == 1 else text)


def _part(part):
    if isinstance(part, slice):
        text = "{}:{}".format("" if part.start is None else part.start,
                              "" if part.stop is None else part.stop)
        return text + ("" if part.step is None else ":{}".format(part.step))
    if part is None:
        return "None"
    if part is Ellipsis:
        return "..."
    if isinstance(part, np.ndarray):
        return "np.array({})".format(part.tolist())
    return repr(part)
