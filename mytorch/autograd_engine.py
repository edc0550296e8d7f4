"""The autograd engine: graph nodes, ``Function.apply`` and the backward pass.

Forward: every operation goes through ``Function.apply``, which runs the op's
``forward`` and records, on a ``BackwardFunction`` node stored in the output's
``grad_fn``, which nodes produced its inputs (``next_functions``).

Backward: ``backward(grad_fn, grad_of_outputs)`` orders the nodes so that a
node runs only after every path into it has delivered its gradient, then walks
that order once.  Each ``BackwardFunction`` turns the gradient of its output
into gradients of its inputs; each ``AccumulateGrad`` adds the gradient it
receives into its leaf tensor's ``.grad``.

The three kinds of parent (handout, Appendix A):
    leaf that requires grad   -> its AccumulateGrad node (made once, kept in grad_fn)
    non-leaf (requires grad)  -> its BackwardFunction (its grad_fn)
    constant (no grad)        -> None
"""
import contextlib

import numpy as np

from mytorch import anomaly, tensor


# --------------------------------------------------------------------------- #
# Graph recording switch (``mytorch.no_grad``)
# --------------------------------------------------------------------------- #
_grad_enabled = True


@contextlib.contextmanager
def no_grad():
    """Run a block without recording a graph (optimizer steps, evaluation).

    >>> with no_grad():
    ...     y = x * 2          # y.requires_grad is False, y.grad_fn is None
    """
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


def is_grad_enabled():
    """True unless inside a ``no_grad()`` block."""
    return _grad_enabled


# --------------------------------------------------------------------------- #
# Nodes
# --------------------------------------------------------------------------- #
class _EveryInput:
    """``needs_input_grad`` of a ctx made by hand: every input needs its gradient."""

    def __getitem__(self, index):
        return True


class ContextManager:
    """What an op's forward leaves for its backward.

    Tensors go through ``save_for_backward`` (so an in-place edit made before
    backward is caught); anything else (shapes, axes, masks) is stored as a
    plain attribute: ``ctx.axis = axis``.  ``needs_input_grad[i]`` says
    whether forward argument i needs a gradient (Function.apply sets it).
    """

    needs_input_grad = _EveryInput()

    def __init__(self):
        self._saved = []
        self._versions = []

    def save_for_backward(self, *args):
        """Keep tensors for backward (no copy: an edit is detected instead)."""
        for arg in args:
            if not isinstance(arg, tensor.Tensor):
                raise Exception("Got type {} of object {}. \nOnly Tensors should be saved in "
                                "save_for_backward. For saving constants, just save directly "
                                "as a new attribute.".format(type(arg), arg))
            self._saved.append(arg)
            self._versions.append(arg._version[0])

    def __repr__(self):
        # _saved, not saved_tensors: a repr must not raise for a tensor edited since.
        parts = ["tensor {}".format(t.shape) for t in self._saved]
        parts += ["{}={}".format(name, _summary(value)) for name, value in vars(self).items()
                  if not name.startswith("_") and name != "needs_input_grad"]
        return "<ContextManager saved: {}>".format(", ".join(parts) or "nothing")

    @property
    def saved_tensors(self):
        """The saved tensors, checked against in-place edits since they were saved."""
        for t, version in zip(self._saved, self._versions):
            if t._version[0] != version:
                raise RuntimeError(
                    "a tensor of shape {} saved for backward was modified in place after the "
                    "forward pass (version {} -> {}); its gradient would be wrong. Compute the "
                    "new value out of place, or call backward() before editing it."
                    .format(t.shape, version, t._version[0]))
        return self._saved


def _summary(value):
    """A short description of a value saved on a ctx, for its repr."""
    if isinstance(value, np.ndarray):
        return "array {} {}".format(value.shape, value.dtype)
    if isinstance(value, tensor.Tensor):
        return "tensor {}".format(value.shape)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class AccumulateGrad:
    """Graph node of a leaf tensor that requires grad: adds gradients into ``.grad``."""

    def __init__(self, tensor):
        self.variable = tensor
        self.next_functions = []
        self.function_name = "AccumulateGrad"

    @property
    def shape(self):
        return self.variable._data.shape

    def __repr__(self):
        return "<AccumulateGrad shape={}>".format(self.shape)

    def apply(self, arg):
        """Add ``arg`` (a Tensor or an array) into the leaf's ``.grad``."""
        grad = arg.data if isinstance(arg, tensor.Tensor) else arg
        if grad.shape != self.shape:
            raise ValueError("AccumulateGrad: gradient of shape {} for a leaf of shape {}"
                             .format(grad.shape, self.shape))
        self._accumulate(grad, shared=True)

    def _accumulate(self, grad, shared):
        """``apply`` for the engine, which has checked the shape and says whether anything
        but this leaf may hold ``grad``.

        The first gradient becomes ``.grad``: the array itself unless it is shared (then a
        copy, so that editing one cannot change the other).  Later ones are added out of
        place, so the engine never writes into an array that another node may still read.
        """
        variable = self.variable
        if variable.grad is None:
            if grad.dtype.kind != "f":
                grad = grad.astype(np.float64)
            elif shared:
                grad = grad.copy()
            variable.grad = tensor.Tensor(grad)
        else:
            variable.grad.data = variable.grad.data + grad


class BackwardFunction:
    """Graph node of an op's output: calls the op's ``backward`` with the saved ``ctx``."""

    def __init__(self, cls):
        self.ctx = ContextManager()
        self._forward_cls = cls
        self.next_functions = []
        self.function_name = cls.__name__
        self.shape = None          # shape of the op's output, set by Function.apply

    def __repr__(self):
        return "<BackwardFunction {}>".format(self.function_name)

    def apply(self, *args):
        if self.ctx is None:
            raise RuntimeError(
                "Trying to backward through {} a second time: its saved tensors were freed "
                "by the first backward(). Pass retain_graph=True to the first call if you "
                "need to call backward() on the same graph again.".format(self.function_name))
        return self._forward_cls.backward(self.ctx, *args)


def _node_of(value):
    """The node a gradient for ``value`` should be sent to (Appendix A)."""
    if not isinstance(value, tensor.Tensor) or not value.requires_grad:
        return None
    if value.is_leaf and value.grad_fn is None:
        value.grad_fn = AccumulateGrad(value)
    return value.grad_fn


# --------------------------------------------------------------------------- #
# Function
# --------------------------------------------------------------------------- #
class Function:
    """Base class of every differentiable operation.

    A subclass writes two static methods:
        forward(ctx, *args)          -> output Tensor (args as passed to apply)
        backward(ctx, grad_output)   -> one gradient per forward argument
                                        (a Tensor, or None for arguments that
                                        are not tensors or need no gradient)
    and is used through ``Subclass.apply(*args)``, never by calling forward.
    """

    def __init_subclass__(cls, **kwargs):
        # An op defined while anomaly mode is on gets its checks too (mytorch/anomaly.py).
        super().__init_subclass__(**kwargs)
        anomaly.watch_new_class(cls)

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("All subclasses must implement forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("All subclasses must implement backward")

    @classmethod
    def apply(cls, *args):
        """Run ``forward`` and, if any input requires grad, link the output into the graph."""
        backward_function = BackwardFunction(cls)
        output_tensor = cls.forward(backward_function.ctx, *args)
        Tensor = tensor.Tensor
        if not isinstance(output_tensor, Tensor):
            raise TypeError("{}.forward must return a Tensor, got {}"
                            .format(cls.__name__, type(output_tensor).__name__))
        # Each input's node (Appendix A), and whether it needs a gradient: backward
        # reads ctx.needs_input_grad to skip the gradients nobody asked for.
        needs, parents = [], []
        for arg in args:
            if _grad_enabled and isinstance(arg, Tensor) and arg.requires_grad:
                needs.append(True)
                parents.append(arg.grad_fn if arg.grad_fn is not None else _node_of(arg))
            else:
                needs.append(False)
                parents.append(None)
        if True in needs:
            backward_function.ctx.needs_input_grad = needs
            backward_function.next_functions = parents
            backward_function.shape = output_tensor.shape
            output_tensor._requires_grad = True      # the setter minus its float check
            output_tensor.is_leaf = False
            output_tensor.grad_fn = backward_function
        elif output_tensor.requires_grad:     # flagged by its forward, but no graph is built
            output_tensor._requires_grad = False      # (no_grad(), or constant inputs)
            output_tensor.is_leaf = True
        return output_tensor


# --------------------------------------------------------------------------- #
# The backward pass
# --------------------------------------------------------------------------- #
def _topological_order(root):
    """Op nodes reachable from ``root``, each before every node it sends gradients to.

    Iterative depth-first search (no recursion, so graph depth is unlimited);
    each node is visited once, so the cost is linear in the graph's size.
    Leaves' AccumulateGrad nodes (and None, for constants) are left out: leaves take
    each gradient as it comes.
    """
    post_order, seen = [], {root}
    stack = [(root, iter(root.next_functions))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if type(parent) is BackwardFunction and parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parent.next_functions)))
                break
        else:
            stack.pop()
            post_order.append(node)
    post_order.reverse()
    return post_order


def _one_per_input(node, grads):
    """What ``node``'s backward returned, as a tuple with one entry per forward argument.

    A wrong count is a bug in that op's backward: say so here, naming it, rather
    than three ops later.  As in PyTorch, surplus trailing Nones are allowed (for
    optional forward arguments that the caller left at their defaults).
    """
    if type(grads) is not tuple:
        grads = tuple(grads) if isinstance(grads, list) else (grads,)
    count = len(node.next_functions)
    if len(grads) < count or any(g is not None for g in grads[count:]):
        raise RuntimeError("{}.backward returned {} gradient(s), but its forward took {} "
                           "argument(s): return one per argument (None for non-tensors)"
                           .format(node.function_name, len(grads), count))
    return grads


def _gradient_array(node, index, grad):
    """Gradient ``index`` returned by ``node``'s backward, as an array of its input's shape."""
    if isinstance(grad, tensor.Tensor):
        grad = grad.data
    elif not isinstance(grad, np.ndarray):
        raise TypeError("{}.backward returned a {} as gradient {}; return a Tensor or None"
                        .format(node.function_name, type(grad).__name__, index))
    expected = node.next_functions[index].shape
    if grad.shape != expected:
        raise ValueError("{}.backward returned a gradient of shape {} for input {}, whose "
                         "shape is {}".format(node.function_name, grad.shape, index, expected))
    return grad


def backward(grad_fn, grad_of_outputs, retain_graph=False):
    """Backpropagate ``grad_of_outputs`` (d final / d output of grad_fn) through the graph.

    Visits every node once, in topological order, so each node's gradient is
    the complete sum over all paths before it is passed on (the generalized
    chain rule).  Unless ``retain_graph``, each node's saved tensors are freed
    once it has run.

    Gradient arrays flow between nodes without copies, and the engine never
    writes into one (sums are out of place), so an op's backward may hand the
    same array to several inputs; it must not edit its ``grad_output`` in place.
    """
    if grad_fn is None:
        return
    grad = grad_of_outputs.data if isinstance(grad_of_outputs, tensor.Tensor) else grad_of_outputs
    if type(grad_fn) is AccumulateGrad:                 # backward() called on a leaf
        grad_fn.apply(grad)
        return
    Tensor = tensor.Tensor
    pending = {grad_fn: grad}                  # op node -> sum of the gradients it received
    # ids of the arrays that something besides one leaf may hold: the caller's seed and
    # every gradient already passed on.  A leaf keeps any other array as its .grad.
    passed_on = {id(grad)}
    for node in _topological_order(grad_fn):
        grad = pending.pop(node, None)
        if grad is None:                       # every path into it was a None gradient
            continue
        grads = node.apply(Tensor(grad))
        if not retain_graph:
            node.ctx = None
        parents = node.next_functions
        if type(grads) is not tuple or len(grads) != len(parents):
            grads = _one_per_input(node, grads)
        for index, parent in enumerate(parents):
            g = grads[index]
            if parent is None or g is None:
                continue
            if type(g) is Tensor and g._data.shape == parent.shape:
                g = g._data                    # the usual case, checked
            else:
                g = _gradient_array(node, index, g)
            if type(parent) is AccumulateGrad:
                # A leaf adds each contribution as it arrives.  Views, read-only arrays and
                # arrays a retained graph may return again count as shared too.
                parent._accumulate(g, shared=id(g) in passed_on or retain_graph
                                   or g.base is not None or not g.flags.writeable)
            elif parent in pending:
                pending[parent] = pending[parent] + g
            else:
                pending[parent] = g
            passed_on.add(id(g))
