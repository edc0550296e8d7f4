"""The Tensor: an ``np.ndarray`` plus what autograd needs to know about it."""
import operator
import warnings

import numpy as np

from mytorch import autograd_engine
import mytorch.nn.functional as F

_NUMERIC_KINDS = "biuf"     # bool, signed int, unsigned int, float


def _as_array(data):
    """``data`` as a numeric ndarray (no copy if it already is one), else TypeError."""
    if type(data) is np.ndarray and data.dtype.kind in _NUMERIC_KINDS:
        return data                                      # the hot path
    if isinstance(data, (np.generic, float, int)):          # 0-d results of NumPy ops
        array = np.asarray(data)
        if array.dtype.kind in _NUMERIC_KINDS:
            return array
    if isinstance(data, Tensor):
        return data.data
    try:
        with warnings.catch_warnings():                  # NumPy 1.x warns on ragged lists
            warnings.simplefilter("ignore")
            array = np.asarray(data)
    except (ValueError, TypeError) as error:             # ragged lists on NumPy >= 1.24
        raise TypeError("Tensor data must be numeric and rectangular, got {}: {}"
                        .format(_abbreviate(data), error)) from None
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError("Tensor data must be numbers (a number, a nested list of numbers or "
                        "a numeric ndarray), got {} {} (NumPy dtype {})"
                        .format(type(data).__name__, _abbreviate(data), array.dtype))
    return array


def _abbreviate(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _shape(constructor, dims):
    """A constructor's shape, given as separate ints or as one tuple or list of ints
    (``zeros(2, 3)`` or ``zeros((2, 3))``, as in NumPy and PyTorch)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    for n in dims:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError("Tensor.{0}: the shape must be ints, as in Tensor.{0}(2, 3) or "
                            "Tensor.{0}((2, 3)); got {1}".format(constructor, _abbreviate(dims)))
        if n < 0:
            raise ValueError("Tensor.{}: dimensions cannot be negative, got shape {}"
                             .format(constructor, dims))
    return tuple(int(n) for n in dims)


def _as_tensor(value):
    """Operands of ``+ - * / @`` that are numbers or arrays become constant Tensors."""
    return value if isinstance(value, Tensor) else Tensor(value)


# NumPy ufunc -> (the Tensor operator for ``t op x``, the one for ``x op t``).
_UFUNC_OPERATORS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.matmul: ("__matmul__", "__rmatmul__"),
    np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"),
    np.greater: ("__gt__", "__lt__"), np.greater_equal: ("__ge__", "__le__"),
}


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    >>> a = Tensor(1., requires_grad=True)
    >>> b = Tensor(2.)
    >>> e = a * b + a
    >>> e.backward()
    >>> a.grad                       # de/da = b + 1
    tensor(3.)

    Attributes (handout, Appendix A):
        data           the np.ndarray (an ndarray passed in is used as is, not copied)
        grad           a Tensor with d(final)/d(this), for leaves that require grad
        grad_fn        this tensor's graph node (None for a constant)
        requires_grad  whether gradients flow to this tensor
        is_leaf        True unless an op that required grad produced this tensor
        is_parameter   True for a network's trainable weights
    """

    # What most tensors keep: an instance sets its own only when it changes (a step
    # makes ~25 Tensors, mostly gradients and op outputs, so unset attributes pay).
    grad_fn = None
    grad = None
    is_parameter = False

    def __init__(self, data, requires_grad=False, is_leaf=True, is_parameter=False):
        if type(data) is not np.ndarray or data.dtype.kind not in _NUMERIC_KINDS:
            data = _as_array(data)
        if requires_grad and data.dtype.kind != "f":
            data = data.astype(np.float64)               # gradients are real numbers
        if is_parameter:
            if not (requires_grad and is_leaf):
                raise ValueError("a parameter must have requires_grad=True and is_leaf=True "
                                 "(handout, Appendix A.2)")
            self.is_parameter = True
        self._data = data
        # In-place edits bump this; views share it.  ContextManager compares it to
        # catch a saved tensor edited between forward and backward.
        self._version = [0]
        self._requires_grad = requires_grad          # (the property below, without its call)
        self.is_leaf = is_leaf

    # ------------------------------------------------------------------ #
    # Data and basic attributes
    # ------------------------------------------------------------------ #
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        # `t.data -= x` lands here too, so in-place updates are versioned.
        if type(value) is not np.ndarray or value.dtype.kind not in _NUMERIC_KINDS:
            value = _as_array(value)
        self._data = value
        self._version[0] += 1

    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    def __len__(self):
        if not self._data.ndim:
            raise TypeError("len() of a 0-d Tensor: it has no first dimension (t.shape is (); "
                            "t.item() is its value)")
        return len(self._data)

    def __bool__(self):
        """As in PyTorch: a one-element Tensor is true unless its value is 0; any other is
        ambiguous (``if t == u:`` would otherwise mean "if any element is equal")."""
        if self._data.size == 1:
            return bool(self._data.item())
        count = "no values" if not self._data.size else "{} values".format(self._data.size)
        raise RuntimeError(
            "the truth value of a Tensor with {} (shape {}) is ambiguous, as in PyTorch: say "
            "which you mean, (t > 0).data.any() or (t == u).data.all(); to ask whether two "
            "names hold the same Tensor, write t is u".format(count, self.shape))

    # Comparisons are elementwise, as in NumPy and PyTorch: ``(prediction == labels).mean()``.
    # Hashing stays by identity, so Tensors still work as dict keys and in sets.
    __hash__ = object.__hash__

    def __eq__(self, other):
        return self._compare(other, np.equal, "==")

    def __ne__(self, other):
        return self._compare(other, np.not_equal, "!=")

    def __lt__(self, other):
        return self._compare(other, np.less, "<")

    def __le__(self, other):
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other):
        return self._compare(other, np.greater, ">")

    def __ge__(self, other):
        return self._compare(other, np.greater_equal, ">=")

    def _compare(self, other, ufunc, symbol):
        """``self symbol other``, elementwise: a boolean Tensor outside any graph."""
        try:
            other = _as_array(other)          # a Tensor's data, a number, an array, a list
        except TypeError:
            return NotImplemented             # None, a string, a Module: Python compares ids
        try:
            return Tensor(ufunc(self._data, other))
        except ValueError:
            raise ValueError("{}: shapes {} and {} cannot be broadcast together"
                             .format(symbol, self.shape, other.shape)) from None

    def __array__(self, dtype=None, copy=None):
        """``np.array(t)`` / ``np.asarray(t)``: the data (a copy only if a dtype asks for one).

        Without it NumPy would treat a Tensor as a sequence and build an object array."""
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return self._data.copy() if copy else self._data
        return self._data.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy meets a Tensor: ``array + t`` is ``t.__radd__(array)``, ``array < t`` is
        ``t > array``; an array's in-place operator or any other ufunc is a clear TypeError."""
        if "out" in kwargs:
            raise TypeError("NumPy cannot put a Tensor into an array in place (as in "
                            "p.data -= lr * p.grad): use the Tensor's array on the right, "
                            "p.grad.data, or update the Tensor itself under no_grad(): "
                            "p -= lr * p.grad")
        names = _UFUNC_OPERATORS.get(ufunc) if method == "__call__" else None
        if names is not None and len(inputs) == 2:
            if inputs[0] is self:
                return getattr(self, names[0])(inputs[1])
            if inputs[1] is self and not isinstance(inputs[0], Tensor):
                return getattr(self, names[1])(inputs[0])
        raise TypeError("np.{} does not take a Tensor: use the Tensor's own method if it has "
                        "one (t.exp(), t.sum()), or give NumPy the array, t.data"
                        .format(ufunc.__name__))

    def __str__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        if self.grad_fn is not None and not self.is_leaf:
            return "tensor({}, grad_fn=<{}>)".format(body, self.grad_fn.function_name)
        if self.requires_grad:
            return "tensor({}, requires_grad=True)".format(body)
        return "tensor({})".format(body)

    __repr__ = __str__

    def item(self):
        """The value of a one-element tensor as a Python number."""
        return self._data.item()

    def numpy(self):
        """The underlying ndarray (shared, not copied)."""
        return self._data

    def copy(self):
        """A new constant Tensor with a copy of the data (outside any graph)."""
        return Tensor(self._data.copy())

    def fill_(self, fill_value):
        """Set every element to ``fill_value`` in place."""
        self._data.fill(fill_value)
        self._version[0] += 1
        return self

    # In-place operators, as in PyTorch: under no_grad(), ``p -= lr * p.grad`` edits p itself.
    def __iadd__(self, other):
        return self._in_place(other, np.add, "+=", Tensor.__add__)

    def __isub__(self, other):
        return self._in_place(other, np.subtract, "-=", Tensor.__sub__)

    def __imul__(self, other):
        return self._in_place(other, np.multiply, "*=", Tensor.__mul__)

    def __itruediv__(self, other):
        return self._in_place(other, np.true_divide, "/=", Tensor.__truediv__)

    def _in_place(self, other, ufunc, symbol, out_of_place):
        """``self symbol other``: edit the data in place when no graph has to record it.

        Under ``no_grad()``, or when neither side requires grad, the array itself
        changes (views see it) and the version counter moves (so a tensor saved
        for backward and edited since is caught).  With grad enabled, a leaf that
        requires grad (a parameter) is refused, as PyTorch refuses it: the edit
        could not be recorded.  Any other tensor in the graph gets a new node, and
        the name a new Tensor, as with ``y = y + x``.
        """
        if autograd_engine.is_grad_enabled() and (
                self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
            if self.requires_grad and self.is_leaf:
                raise RuntimeError(
                    "t {} ... on a leaf Tensor that requires grad (a parameter) cannot be "
                    "recorded in the graph, so PyTorch refuses it too. To update a parameter "
                    "by hand, do it under no_grad() (with mytorch.no_grad(): p -= lr * p.grad), "
                    "or edit its array (p.data -= lr * p.grad.data)".format(symbol))
            return out_of_place(self, other)
        other = _as_array(other)
        try:
            ufunc(self._data, other, out=self._data)
        except TypeError:                     # NumPy's casting error: int data, float result
            raise TypeError("t {} ...: the result is {}, which this Tensor's {} data cannot hold "
                            "in place; write t = t {} ... for a new Tensor"
                            .format(symbol, ufunc(self._data, other).dtype, self._data.dtype,
                                    symbol[0])) from None
        except ValueError:
            if not self._data.flags.writeable:
                raise ValueError("t {} ...: this Tensor's data is read-only; write t = t {} ... "
                                 "for a new Tensor".format(symbol, symbol[0])) from None
            try:
                shape = np.broadcast(self._data, other).shape
            except ValueError:
                raise ValueError("{}: shapes {} and {} cannot be broadcast together"
                                 .format(symbol, self.shape, other.shape)) from None
            raise ValueError("t {} ...: the result would have shape {}, not this Tensor's {}: "
                             "in place, the right side must broadcast to the left's shape"
                             .format(symbol, shape, self.shape)) from None
        self._version[0] += 1
        return self

    # ------------------------------------------------------------------ #
    # Constructors
    # ------------------------------------------------------------------ #
    @staticmethod
    def zeros(*shape):
        """A constant Tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``."""
        return Tensor(np.zeros(_shape("zeros", shape)))

    @staticmethod
    def ones(*shape):
        """A constant Tensor of ones: ``Tensor.ones(2, 3)`` or ``Tensor.ones((2, 3))``."""
        return Tensor(np.ones(_shape("ones", shape)))

    @staticmethod
    def arange(*interval):
        """``Tensor.arange(stop)`` or ``Tensor.arange(start, stop[, step])``, as np.arange."""
        return Tensor(np.arange(*interval))

    @staticmethod
    def randn(*shape):
        """Standard normal samples (from np.random): ``Tensor.randn(2, 3)`` or ``((2, 3))``."""
        return Tensor(np.random.normal(0, 1, _shape("randn", shape)))

    @staticmethod
    def empty(*shape):
        """An uninitialised Tensor: ``Tensor.empty(2, 3)`` or ``Tensor.empty((2, 3))``."""
        return Tensor(np.empty(_shape("empty", shape)))

    # ------------------------------------------------------------------ #
    # Autograd
    # ------------------------------------------------------------------ #
    def _set_requires_grad(self, value):
        if value and self._data.dtype.kind != "f":
            self._data = self._data.astype(np.float64)   # gradients are real numbers
        self._requires_grad = value

    # Every op reads it (Function.apply), so the getter is C code, not a Python method.
    requires_grad = property(
        operator.attrgetter("_requires_grad"), _set_requires_grad,
        doc="Whether gradients flow to this tensor.  ``t.requires_grad = True`` on a leaf "
            "makes it one that backward() fills, with integer data turned into float64, "
            "as ``Tensor(..., requires_grad=True)`` does.")

    def backward(self, gradient=None, retain_graph=False):
        """Compute d(self)/d(leaf) for every leaf that requires grad, into ``leaf.grad``.

        The seed defaults to ones of this tensor's shape (for a scalar loss,
        d loss / d loss = 1); pass ``gradient`` to seed with something else.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(shape {}): no input of the ops that made it has "
                               "requires_grad=True".format(self.shape))
        if gradient is None:
            seed = np.ones(self.shape)
        else:
            seed = _as_array(gradient).astype(np.float64, copy=False)
            if seed.shape != self.shape:
                raise ValueError("backward(): gradient of shape {} for a tensor of shape {}"
                                 .format(seed.shape, self.shape))
        autograd_engine.backward(autograd_engine._node_of(self), seed, retain_graph=retain_graph)

    # ------------------------------------------------------------------ #
    # Operators: each records one op of nn/functional.py
    # ------------------------------------------------------------------ #
    def __add__(self, other):
        return F.Add.apply(self, _as_tensor(other))

    def __radd__(self, other):
        return F.Add.apply(_as_tensor(other), self)

    def __sub__(self, other):
        return F.Sub.apply(self, _as_tensor(other))

    def __rsub__(self, other):
        return F.Sub.apply(_as_tensor(other), self)

    def __mul__(self, other):
        return F.Mul.apply(self, _as_tensor(other))

    def __rmul__(self, other):
        return F.Mul.apply(_as_tensor(other), self)

    def __truediv__(self, other):
        return F.Div.apply(self, _as_tensor(other))

    def __rtruediv__(self, other):
        return F.Div.apply(_as_tensor(other), self)

    def __neg__(self):
        return F.Neg.apply(self)

    def __pow__(self, exponent):
        return F.Pow.apply(self, exponent)

    def __matmul__(self, other):
        return F.MatMul.apply(self, _as_tensor(other))

    def __rmatmul__(self, other):
        return F.MatMul.apply(_as_tensor(other), self)

    def T(self):
        """The transpose (axes reversed), as in the handout: ``x.T()``."""
        return F.Transpose.apply(self)

    def reshape(self, *shape):
        """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``; one dimension may be -1."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return F.Reshape.apply(self, shape)

    def log(self):
        return F.Log.apply(self)

    def exp(self):
        return F.Exp.apply(self)

    def sum(self, axis=None, keepdims=False):
        return F.Sum.apply(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        """Sum divided by the number of summed elements (a composition, not an op)."""
        total = self.sum(axis, keepdims)
        return total / (self._data.size // max(total.data.size, 1))

    def relu(self):
        return F.ReLU.apply(self)

    # ------------------------------------------------------------------ #
    # Indexing and joining (Homework 3)
    # ------------------------------------------------------------------ #
    def __getitem__(self, key):
        """``x[key]`` as in NumPy and PyTorch, recorded as one Slice op.

        ``key`` may be an int (negative counts from the end), a slice with any
        step, ``None``, ``...``, a list or array of indices (repeats allowed),
        a Tensor of indices, or a tuple of these.  Backward sends each output
        element's gradient back to the element it came from, adding where an
        index repeats.  An int out of range raises IndexError, which is how
        ``for row in x`` knows where to stop.

        >>> x = Tensor([[1., 2., 3.], [4., 5., 6.]])
        >>> x[-1, ::-2]
        tensor([6., 4.])
        """
        return F.Slice.apply(self, key)

    def __iter__(self):
        """``for row in x``: x[0], x[1], ... along the first axis, each a Slice (as in PyTorch;
        a 0-d Tensor has no rows to iterate over)."""
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d Tensor: it has no first dimension (t.item() "
                            "is its value)")
        return (self[i] for i in range(self._data.shape[0]))

    def unsqueeze(self, dim=0):
        """A view with a new axis of size 1 at ``dim`` (``-ndim - 1 <= dim <= ndim``).

        >>> Tensor.zeros(3, 4).unsqueeze(1).shape
        (3, 1, 4)
        """
        ndim = self._data.ndim
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError("unsqueeze: dim must be an int, got {!r}".format(dim))
        if not -ndim - 1 <= dim <= ndim:
            raise IndexError("unsqueeze: dim {} is out of range for a tensor of shape {} (expected "
                             "a dim in [{}, {}])".format(dim, self.shape, -ndim - 1, ndim))
        shape = list(self.shape)
        shape.insert(int(dim) % (ndim + 1), 1)
        return F.Reshape.apply(self, tuple(shape))


def cat(seq, dim=0):
    """Join a list of Tensors along an existing axis ``dim`` (negative counts from the end).

    Every tensor must have the same shape except along ``dim``.  Recorded as one
    Cat op, called as ``F.Cat.apply(*seq, dim)``; its backward cuts the gradient
    back into one piece per tensor.

    >>> cat([Tensor([[1., 2.]]), Tensor([[3., 4.], [5., 6.]])], dim=0).shape
    (3, 2)
    """
    if isinstance(seq, Tensor) or not isinstance(seq, (list, tuple)):
        raise TypeError("cat: expected a list of Tensors, got a {}".format(type(seq).__name__))
    if len(seq) == 0:
        raise ValueError("cat: expected a non-empty list of Tensors")
    return F.Cat.apply(*seq, dim)
