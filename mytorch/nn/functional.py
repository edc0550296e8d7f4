"""Differentiable operations: one ``Function`` subclass per op, forward beside backward.

Every ``backward(ctx, grad_output)`` receives d(final)/d(output) as a Tensor and
returns d(final)/d(input) for each forward argument, in order: a Tensor of the
input's shape, or None for an argument that is not a tensor or whose gradient
nobody asked for (``ctx.needs_input_grad``).  Gradients of broadcasting ops are
summed back to their input's shape by ``unbroadcast``.
"""
import numpy as np

from mytorch import tensor
from mytorch.autograd_engine import Function

# Course code star-imports this module beside the layer modules (``from mytorch.nn.conv
# import *``, ``from mytorch.nn.rnn import RNN``...).  Export only names that no layer
# module uses, so a star import never replaces a layer class (the ReLU Module, the Conv1d
# Module) with the Function of the same name: reach those as ``F.ReLU``, ``F.Conv1d``.
__all__ = ["unbroadcast", "Add", "Sub", "Mul", "Div", "Neg", "Pow", "Exp", "Log", "MatMul",
           "Transpose", "Reshape", "Sum", "BatchNorm", "CrossEntropy", "cross_entropy",
           "get_conv1d_output_size", "im2col", "col2im", "Slice", "Cat", "GRUCell"]


# --------------------------------------------------------------------------- #
# Shared mechanics
# --------------------------------------------------------------------------- #
def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the gradient of NumPy broadcasting.

    Broadcasting prepends axes and stretches axes of size 1; each copy made
    that way contributed to the output, so their gradients add up.

    >>> unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    leading = grad.ndim - len(shape)
    stretched = tuple(leading + i for i, n in enumerate(shape)
                      if n == 1 and grad.shape[leading + i] != 1)
    return grad.sum(axis=tuple(range(leading)) + stretched).reshape(shape)


def _grads(*arrays):
    """Wrap backward's arrays as Tensors, keeping None for 'no gradient'."""
    return tuple([None if g is None else tensor.Tensor(g) for g in arrays])


def _require_tensors(op, *args):
    for arg in args:
        if not isinstance(arg, tensor.Tensor):
            raise TypeError("{} expects Tensors, got {}".format(
                op, ", ".join(type(a).__name__ for a in args)))


def _broadcasting(op, ufunc, a, b):
    """``ufunc(a.data, b.data)``, with a clear error for shapes that don't broadcast."""
    _require_tensors(op, a, b)
    try:
        return ufunc(a.data, b.data)
    except ValueError:
        raise ValueError("{}: shapes {} and {} cannot be broadcast together"
                         .format(op, a.shape, b.shape)) from None


def _elementwise(op, ufunc, a, b):
    """``ufunc(a.data, b.data)`` as a Tensor (see ``_broadcasting``)."""
    return tensor.Tensor(_broadcasting(op, ufunc, a, b))


def _flagged(array, *inputs):
    """The output Tensor of a given op, flagged in ``forward`` as the course's starter flags
    it (Appendix A): it requires grad if any input does, and is a leaf only if none does.

    Function.apply sets the same flags; setting them here too means a student's
    ``apply`` that sets nothing on the output (as the handout's starting code invites)
    still works with the ops the handout gives."""
    requires_grad = any(t.requires_grad for t in inputs)
    return tensor.Tensor(array, requires_grad=requires_grad, is_leaf=not requires_grad)


def _share_version(view, base):
    """A view and its base are one storage: an edit to either must invalidate both."""
    if np.may_share_memory(view.data, base.data):
        view._version = base._version
    return view


# --------------------------------------------------------------------------- #
# Elementwise arithmetic
# --------------------------------------------------------------------------- #
class Add(Function):
    """a + b (broadcasting).  d/da = 1, d/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return _flagged(_broadcasting("Add", np.add, a, b), a, b)

    @staticmethod
    def backward(ctx, grad_output):
        g, (a_shape, b_shape) = grad_output.data, ctx.shapes
        return _grads(unbroadcast(g, a_shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(g, b_shape) if ctx.needs_input_grad[1] else None)


class Sub(Function):
    """a - b (broadcasting).  d/da = 1, d/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return _elementwise("Sub", np.subtract, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        g, (a_shape, b_shape) = grad_output.data, ctx.shapes
        return _grads(unbroadcast(g, a_shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(-g, b_shape) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b, elementwise (broadcasting).  d/da = b, d/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _elementwise("Mul", np.multiply, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        (a, b), g = ctx.saved_tensors, grad_output.data
        return _grads(unbroadcast(g * b.data, a.shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(g * a.data, b.shape) if ctx.needs_input_grad[1] else None)


class Div(Function):
    """a / b, elementwise (broadcasting).  d/da = 1/b, d/db = -a/b**2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _elementwise("Div", np.true_divide, a, b)

    @staticmethod
    def backward(ctx, grad_output):
        (a, b), g = ctx.saved_tensors, grad_output.data
        return _grads(unbroadcast(g / b.data, a.shape) if ctx.needs_input_grad[0] else None,
                      unbroadcast(-g * a.data / b.data ** 2, b.shape)
                      if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """-a.  d/da = -1."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("Neg", a)
        return tensor.Tensor(-a.data)

    @staticmethod
    def backward(ctx, grad_output):
        return _grads(-grad_output.data)


class Pow(Function):
    """a ** p for a number p.  d/da = p * a**(p - 1)."""

    @staticmethod
    def forward(ctx, a, exponent):
        _require_tensors("Pow", a)
        if isinstance(exponent, bool) or not isinstance(exponent, (int, float, np.number)):
            raise TypeError("Pow: the exponent must be a number, got {}"
                            .format(type(exponent).__name__))
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return tensor.Tensor(np.power(a.data.astype(np.float64, copy=False), exponent))

    @staticmethod
    def backward(ctx, grad_output):
        (a,), p = ctx.saved_tensors, ctx.exponent
        if p == 0:                             # a**0 is constant (and 0 * 0**-1 is NaN)
            return _grads(np.zeros(a.shape), None)
        return _grads(grad_output.data * p * np.power(a.data, p - 1.0), None)


class Exp(Function):
    """exp(a).  d/da = exp(a), the output itself."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("Exp", a)
        out = tensor.Tensor(np.exp(a.data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return _grads(grad_output.data * out.data)


class Log(Function):
    """Natural log.  d/da = 1/a."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("Log", a)
        ctx.save_for_backward(a)
        return _flagged(np.log(a.data), a)

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return _grads(grad_output.data / a.data)


# --------------------------------------------------------------------------- #
# Shape and reduction ops
# --------------------------------------------------------------------------- #
class MatMul(Function):
    """a @ b, as ``np.matmul`` (1-D operands and broadcast batch axes included).

    For 2-D operands: d/da = grad @ b.T, d/db = a.T @ grad.
    """

    @staticmethod
    def forward(ctx, a, b):
        _require_tensors("MatMul", a, b)
        ctx.save_for_backward(a, b)
        try:
            return tensor.Tensor(np.matmul(a.data, b.data))
        except ValueError:
            if a.data.ndim == 0 or b.data.ndim == 0:
                raise ValueError("MatMul: matmul needs tensors with at least one dimension, "
                                 "got shapes {} @ {} (use * to multiply by a scalar)"
                                 .format(a.shape, b.shape)) from None
            raise ValueError("MatMul: cannot multiply shapes {} @ {}: the inner dimensions "
                             "must match".format(a.shape, b.shape)) from None

    @staticmethod
    def backward(ctx, grad_output):
        (a, b), g = ctx.saved_tensors, grad_output.data
        A, B = a.data, b.data
        # A 1-D operand acts as a row (a) or column (b) vector whose axis
        # matmul drops from the output; put those axes back first.
        if B.ndim == 1:
            B, g = B[:, None], g[..., None]
        if A.ndim == 1:
            A, g = A[None, :], g[..., None, :]
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = unbroadcast(g @ np.swapaxes(B, -1, -2), A.shape).reshape(a.shape)
        if ctx.needs_input_grad[1]:
            grad_b = unbroadcast(np.swapaxes(A, -1, -2) @ g, B.shape).reshape(b.shape)
        return _grads(grad_a, grad_b)


class Transpose(Function):
    """a.T (all axes reversed).  The gradient is transposed back."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("Transpose", a)
        return _share_version(_flagged(a.data.T, a), a)

    @staticmethod
    def backward(ctx, grad_output):
        return _grads(grad_output.data.T)


class Reshape(Function):
    """a.reshape(shape).  The gradient is reshaped back."""

    @staticmethod
    def forward(ctx, a, shape):
        _require_tensors("Reshape", a)
        ctx.shape = a.shape
        try:
            return _share_version(_flagged(a.data.reshape(shape), a), a)
        except (ValueError, TypeError):
            raise ValueError("Reshape: cannot reshape a tensor of shape {} ({} elements) into "
                             "shape {}".format(a.shape, a.data.size, shape)) from None

    @staticmethod
    def backward(ctx, grad_output):
        return _grads(grad_output.data.reshape(ctx.shape), None)


class Sum(Function):
    """a.sum(axis, keepdims).  Every summed element gets the output's gradient."""

    @staticmethod
    def forward(ctx, a, axis=None, keepdims=False):
        _require_tensors("Sum", a)
        ctx.shape, ctx.axis, ctx.keepdims = a.shape, axis, keepdims
        try:
            return tensor.Tensor(np.sum(a.data, axis=axis, keepdims=keepdims))
        except (ValueError, TypeError) as error:      # np.AxisError is a ValueError
            raise ValueError("Sum: invalid axis {!r} for a tensor of shape {}: {}"
                             .format(axis, a.shape, error)) from None

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        if ctx.axis is not None and not ctx.keepdims:
            g = np.expand_dims(g, ctx.axis)
        return _grads(np.broadcast_to(g, ctx.shape), None, None)


# --------------------------------------------------------------------------- #
# Activations
# --------------------------------------------------------------------------- #
class ReLU(Function):
    """max(a, 0).  d/da = 1 where a > 0, else 0."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("ReLU", a)
        ctx.mask = a.data > 0
        return tensor.Tensor(np.maximum(a.data, 0.0))       # (NaN stays NaN: divergence shows)

    @staticmethod
    def backward(ctx, grad_output):
        return _grads(grad_output.data * ctx.mask)


class Sigmoid(Function):
    """1 / (1 + exp(-a)).  d/da = s * (1 - s), with s the output."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("Sigmoid", a)
        # exp of -|a| only: never overflows, and keeps full precision for a << 0.
        e = np.exp(-np.abs(a.data))
        out = tensor.Tensor(np.where(a.data >= 0, 1.0, e) / (1.0 + e))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        s = out.data
        return _grads(grad_output.data * s * (1.0 - s))


class Tanh(Function):
    """tanh(a).  d/da = 1 - t**2, with t the output."""

    @staticmethod
    def forward(ctx, a):
        _require_tensors("Tanh", a)
        out = tensor.Tensor(np.tanh(a.data))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_tensors
        return _grads(grad_output.data * (1.0 - out.data ** 2))


class Dropout(Function):
    """Training: zero each element with probability p, scale the rest by 1 / (1 - p).

    The mask is drawn once per forward as ``np.random.binomial(1, 1 - p, size=x.shape)``
    (the course's convention, so ``np.random.seed`` reproduces it), also for p = 0
    and p = 1, so the random stream does not depend on p.  Backward reuses it:
    d/dx = mask / (1 - p).  p = 1 gives zeros and a zero gradient.
    Not training (``is_train`` false): the identity, d/dx = 1.
    """

    @staticmethod
    def forward(ctx, x, p=0.5, is_train=True):
        _require_tensors("Dropout", x)
        check_probability("Dropout", p)
        if not is_train:
            ctx.mask = None
            return _share_version(tensor.Tensor(x.data), x)
        keep = np.random.binomial(1, 1 - p, size=x.shape)
        # The scale goes into the mask (as in torch), so each pass is one multiply.
        ctx.mask = keep * (1.0 / (1 - p) if p < 1 else 0.0)
        return tensor.Tensor(x.data * ctx.mask)

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output.data
        return _grads(g if ctx.mask is None else g * ctx.mask, None, None)


def check_probability(op, p):
    """Raise a ValueError naming ``op`` unless ``p`` is a number in [0, 1]."""
    if isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool) \
            and 0 <= p <= 1:
        return
    raise ValueError("{}: p must be a probability in [0, 1], got {!r}".format(op, p))


# --------------------------------------------------------------------------- #
# Layers and losses with closed-form gradients (one node instead of a dozen)
# --------------------------------------------------------------------------- #
class Linear(Function):
    """x @ weight.T + bias (torch.nn.functional.linear), for x of shape (*, in_features).

    The same as ``x @ weight.T() + bias`` built from MatMul, Transpose and Add,
    in one node: d/dx = grad @ W, d/dW = grad.T @ x, d/db = grad summed over rows,
    where x's leading axes (none, one or several) all count as rows.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        _require_tensors("Linear", x, weight, bias)
        ctx.save_for_backward(x, weight)
        return tensor.Tensor(x.data @ weight.data.T + bias.data)

    @staticmethod
    def backward(ctx, grad_output):
        (x, weight), g = ctx.saved_tensors, grad_output.data
        needs = ctx.needs_input_grad
        grad_x = g @ weight.data if needs[0] else None
        if g.ndim != 2:                        # x (*, in): every leading index is a row
            g, x = _rows(g), tensor.Tensor(_rows(x.data))
        return _grads(grad_x,
                      g.T @ x.data if needs[1] else None,
                      g.sum(axis=0) if needs[2] else None)


def _rows(array):
    """``array`` (*, n) as a matrix (rows, n): every leading index becomes a row."""
    return array.reshape(-1, array.shape[-1])


class BatchNorm(Function):
    """gamma * (x - mean) / sqrt(var + eps) + beta, per feature (column) of x (N, C).

    Training: mean and the biased variance of x's columns (eqs. 3-6), which
    depend on x, so the gradient flows through them too:
        dx = gamma / (N * sqrt(var + eps)) * (N * g - sum(g) - x_hat * sum(g * x_hat))
    and the running statistics (Tensors) move in place towards the batch mean
    and the unbiased variance by ``momentum`` (eqs. 7-9, momentum = 1 - alpha).
    Evaluation: the running statistics are constants:  dx = gamma * g / sqrt(var + eps).
    """

    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps):
        _require_tensors("BatchNorm", x, gamma, beta, running_mean, running_var)
        if training:
            n = x.shape[0]
            mean = x.data.sum(axis=0) / n             # sum / n: cheaper than np.mean for small x
            centered = x.data - mean
            var = (centered * centered).sum(axis=0) / n             # biased: eq. (4)
            running_mean.data = (1 - momentum) * running_mean.data + momentum * mean
            running_var.data = (1 - momentum) * running_var.data + momentum * var * (n / (n - 1))
        else:
            centered, var = x.data - running_mean.data, running_var.data
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = centered * inv_std
        ctx.save_for_backward(gamma)
        ctx.x_hat, ctx.inv_std, ctx.training = x_hat, inv_std, training
        return tensor.Tensor(gamma.data * x_hat + beta.data)

    @staticmethod
    def backward(ctx, grad_output):
        (gamma,), g, x_hat = ctx.saved_tensors, grad_output.data, ctx.x_hat
        grad_beta = g.sum(axis=0)
        grad_gamma = (g * x_hat).sum(axis=0)
        grad_x = None
        if ctx.needs_input_grad[0]:
            scale = gamma.data * ctx.inv_std
            if ctx.training:
                n = g.shape[0]
                grad_x = (scale / n) * (n * g - grad_beta - x_hat * grad_gamma)
            else:
                grad_x = g * scale
        return _grads(grad_x, grad_gamma if ctx.needs_input_grad[1] else None,
                      grad_beta if ctx.needs_input_grad[2] else None,
                      None, None, None, None, None)


class CrossEntropy(Function):
    """Mean over the batch of -log softmax(logits)[n, labels[n]]; see ``cross_entropy``.

    d/dlogits = (softmax(logits) - onehot(labels)) / N.
    """

    @staticmethod
    def forward(ctx, logits, labels):
        x = logits.data
        shifted = x - x.max(axis=1, keepdims=True)          # LogSumExp trick: exp <= 1
        exps = np.exp(shifted)
        sums = exps.sum(axis=1, keepdims=True)
        rows = np.arange(x.shape[0])
        ctx.exps, ctx.sums, ctx.rows, ctx.labels = exps, sums, rows, labels
        # -log softmax[n, label] = log(sum_c exp(shifted[n, c])) - shifted[n, label]
        loss = (np.log(sums[:, 0]) - shifted[rows, labels]).sum() / x.shape[0]
        return tensor.Tensor(np.asarray(loss))                # a 0-d array, not a NumPy scalar

    @staticmethod
    def backward(ctx, grad_output):
        grad = ctx.exps / ctx.sums                           # softmax
        grad[ctx.rows, ctx.labels] -= 1.0
        grad *= float(grad_output.data) / grad.shape[0]     # the loss is a scalar
        return _grads(grad, None)


def cross_entropy(predicted, target):
    """Cross-entropy loss: LogSoftmax then NLLLoss, averaged over the batch (Appendix B).

    predicted: Tensor (N, C) of logits.  target: Tensor (or array) of N class
    indices in [0, C).  Returns a scalar Tensor.

    >>> loss = cross_entropy(Tensor([[2., 0.], [0., 2.]]), Tensor([0, 1]))
    """
    _require_tensors("cross_entropy", predicted)
    labels = _class_indices(predicted, target)
    return CrossEntropy.apply(predicted, labels)


def _class_indices(predicted, target):
    """``target`` as an int64 array of N labels in [0, C), or a ValueError/TypeError naming why not."""
    if predicted.data.ndim != 2:
        raise ValueError("cross_entropy expects logits of shape (N, C), got {}"
                         .format(predicted.shape))
    n, classes = predicted.shape
    labels = np.asarray(target.data if isinstance(target, tensor.Tensor) else target)
    if labels.shape != (n,):
        raise ValueError("cross_entropy: got {} logits rows but labels of shape {}: expected "
                         "one label per row, shape ({},)".format(n, labels.shape, n))
    if labels.dtype.kind == "f":
        fractional = labels[labels != np.round(labels)]
        if fractional.size:
            raise TypeError("cross_entropy: labels must be integer class indices, got {}"
                            .format(fractional[:5].tolist()))
        labels = labels.astype(np.int64)
    elif labels.dtype.kind not in "iu":
        raise TypeError("cross_entropy: labels must be integer class indices, got dtype {}"
                        .format(labels.dtype))
    if n and (labels.min() < 0 or labels.max() >= classes):
        outside = labels[(labels < 0) | (labels >= classes)]
        raise ValueError("cross_entropy: labels must lie in [0, {}) for {} classes, got {}"
                         .format(classes, classes, outside[:5].tolist()))
    return labels


# --------------------------------------------------------------------------- #
# Homework 2: convolution and pooling
#
# One windowing mechanism serves every layer.  ``im2col`` views the input
# (N, C, *spatial) as its sliding windows (N, C, *out, *kernel) without copying
# (``as_strided``); ``col2im`` is its adjoint: it adds window-shaped gradients
# back onto the input, one kernel tap at a time.  Then
#     convolution   = im2col, then one matrix product with the weight
#     max pooling   = im2col, then the max over the window axes
#     average pool  = im2col, then the mean over the window axes
# and each backward builds the gradient of the windows and calls col2im.
# Convolution here is cross-correlation, as in PyTorch: the kernel is not flipped.
# --------------------------------------------------------------------------- #
def get_conv1d_output_size(input_size, kernel_size, stride):
    """The width of a convolution's (or pooling's) output, with no padding:
    ``(input_size - kernel_size) // stride + 1``, a plain int (no graph).

    >>> get_conv1d_output_size(60, 5, 1), get_conv1d_output_size(56, 6, 2)
    (56, 26)
    """
    return (int(input_size) - int(kernel_size)) // int(stride) + 1


def im2col(x, kernel_size, stride):
    """The sliding windows of ``x`` (N, C, *spatial), as a read-only view (no copy).

    Returns an array of shape (N, C, *out, *kernel) where ``out`` holds each spatial
    axis's output size and ``kernel`` is ``kernel_size`` once per spatial axis:
    element [n, c, o1, .., k1, ..] is x[n, c, o1 * stride + k1, ..].  Works for 1-D
    (N, C, W) and 2-D (N, C, H, W) inputs alike, contiguous or not.

    >>> im2col(np.arange(5.)[None, None], 3, 2)[0, 0].tolist()
    [[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]]
    """
    spatial = x.shape[2:]
    out = tuple(get_conv1d_output_size(n, kernel_size, stride) for n in spatial)
    shape = x.shape[:2] + out + (kernel_size,) * len(spatial)
    strides = x.strides[:2] + tuple(s * stride for s in x.strides[2:]) + x.strides[2:]
    return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)


def col2im(cols, input_shape, stride):
    """The adjoint of ``im2col``: add each window of ``cols`` (N, C, *out, *kernel)
    back where it came from in an array of ``input_shape`` (N, C, *spatial).

    An input element covered by several windows receives the sum of their entries;
    one not covered by any (a stride that does not divide) receives 0.  The loop runs
    over the kernel taps only: each tap is one strided slice of the result.
    """
    dims = len(input_shape) - 2
    out, kernel = cols.shape[2:2 + dims], cols.shape[2 + dims:]
    result = np.zeros(input_shape)
    for tap in np.ndindex(*kernel):
        where = (slice(None), slice(None)) + tuple(
            slice(k, k + stride * (o - 1) + 1, stride) for k, o in zip(tap, out))
        result[where] += cols[(Ellipsis,) + tap]
    return result


def _check_windows(op, x, dims, kernel_size, stride):
    """Raise a clear error, naming ``op`` and the shapes, unless ``x`` is a Tensor of
    rank 2 + dims whose every spatial size fits ``kernel_size``, and the stride and
    kernel size are positive ints."""
    _require_tensors(op, x)
    layout = "(N, C, W)" if dims == 1 else "(N, C, H, W)"
    if x.data.ndim != 2 + dims:
        raise ValueError("{}: expected an input of shape {}, got {} ({}-D)"
                         .format(op, layout, x.shape, x.data.ndim))
    for name, value in (("kernel_size", kernel_size), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError("{}: {} must be a positive integer, got {!r}"
                             .format(op, name, value))
    if min(x.shape[2:]) < kernel_size:
        raise ValueError("{}: the kernel ({}) is larger than the input {} {}: no window fits "
                         "(this layer has no padding)"
                         .format(op, "x".join([str(kernel_size)] * dims), layout, x.shape))


def _check_conv(op, x, weight, bias, stride, dims):
    """``_check_windows`` for a convolution, plus the weight's and bias's shapes."""
    _require_tensors(op, x, weight, bias)
    if weight.data.ndim != 2 + dims or len(set(weight.shape[2:])) != 1:
        raise ValueError("{}: expected a weight of shape (C_out, C_in{}), got {}"
                         .format(op, ", K" * dims, weight.shape))
    _check_windows(op, x, dims, weight.shape[-1], stride)
    if x.shape[1] != weight.shape[1]:
        raise ValueError("{}: the input {} has {} channels, but the weight {} expects {}"
                         .format(op, x.shape, x.shape[1], weight.shape, weight.shape[1]))
    if bias.shape != weight.shape[:1]:
        raise ValueError("{}: expected a bias of shape ({},) for the weight {}, got {}"
                         .format(op, weight.shape[0], weight.shape, bias.shape))


def _columns(x, kernel_size, stride):
    """The windows of x as one matrix (C_in * K**dims, N * positions), ready for a product.

    Row (c, *k), column (n, *p) holds x[n, c, *(p * stride + k)].  The copy is made in
    this order (channels and taps outside, positions inside) so that NumPy copies whole
    rows of positions at a time, several times faster than window by window.
    """
    dims = x.ndim - 2
    cols = im2col(x, kernel_size, stride)                       # (N, C, *out, *K), a view
    order = [1] + list(range(2 + dims, 2 + 2 * dims)) + [0] + list(range(2, 2 + dims))
    cols = cols.transpose(order)                                # (C, *K, N, *out)
    rows = int(np.prod(cols.shape[:1 + dims]))
    return cols.reshape(rows, -1)


def _conv_forward(x, weight, bias, stride):
    """out[n, o, *p] = sum over c and the taps k of x[n, c, *(p * stride + k)] * w[o, c, *k],
    plus bias[o]: the weight (C_out, C_in * K**dims) times the windows' matrix."""
    dims = x.ndim - 2
    out = weight.reshape(weight.shape[0], -1) @ _columns(x, weight.shape[-1], stride)
    out_sizes = im2col(x, weight.shape[-1], stride).shape[2:2 + dims]
    out = out.reshape((weight.shape[0], x.shape[0]) + out_sizes)          # (C_out, N, *out)
    return out.swapaxes(0, 1) + bias.reshape((-1,) + (1,) * dims)        # (N, C_out, *out)


def _conv_backward(ctx, grad_output):
    """The gradients of a convolution (1-D or 2-D) for x, weight, bias and stride.

    Each output position p read the window at p * stride, so
        d weight[o, c, *k] = sum over n, p of g[n, o, *p] * x[n, c, *(p * stride + k)]
        d x[n, c, *(p * stride + k)] += sum over o of g[n, o, *p] * w[o, c, *k]
        d bias[o] = sum over n, p of g[n, o, *p].
    """
    (x, weight, bias), g = ctx.saved_tensors, grad_output.data
    x, w, stride = x.data, weight.data, ctx.stride
    dims = x.ndim - 2
    needs = ctx.needs_input_grad
    grad_x = grad_w = grad_b = None
    g_rows = g.swapaxes(0, 1).reshape(g.shape[1], -1)          # (C_out, N * positions)
    if needs[0]:
        window_grads = w.reshape(w.shape[0], -1).T @ g_rows     # (C_in * K**dims, N * pos.)
        window_grads = window_grads.reshape(w.shape[1:] + (g.shape[0],) + g.shape[2:])
        order = [1 + dims] + [0] + list(range(2 + dims, 2 + 2 * dims)) + list(range(1, 1 + dims))
        grad_x = col2im(window_grads.transpose(order), x.shape, stride)  # (N, C, *out, *K)
    if needs[1]:
        grad_w = (g_rows @ _columns(x, w.shape[-1], stride).T).reshape(w.shape)
    if needs[2]:
        grad_b = g_rows.sum(axis=1)
    return _grads(grad_x, grad_w, grad_b, None)


class Conv1d(Function):
    """1-D convolution (cross-correlation, as torch.nn.functional.conv1d), no padding.

    x (N, C_in, W), weight (C_out, C_in, K), bias (C_out,), stride an int; the
    output is (N, C_out, W_out) with W_out = get_conv1d_output_size(W, K, stride):
        out[n, o, p] = bias[o] + sum over c, k of weight[o, c, k] * x[n, c, p * stride + k]
    Backward returns the gradients for x, weight and bias, and None for stride.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride):
        ctx.save_for_backward(x, weight, bias)
        ctx.stride = stride
        ctx.input_shape = x.shape
        _check_conv("Conv1d", x, weight, bias, stride, 1)
        return tensor.Tensor(_conv_forward(x.data, weight.data, bias.data, stride))

    @staticmethod
    def backward(ctx, grad_output):
        return _conv_backward(ctx, grad_output)


class Conv2d(Function):
    """2-D convolution (cross-correlation, as torch.nn.functional.conv2d), no padding,
    square kernels, one stride for both axes.

    x (N, C_in, H, W), weight (C_out, C_in, K, K), bias (C_out,); the output is
    (N, C_out, H_out, W_out), each size given by get_conv1d_output_size:
        out[n, o, i, j] = bias[o] + sum over c, a, b of
                          weight[o, c, a, b] * x[n, c, i * stride + a, j * stride + b]
    Backward returns the gradients for x, weight and bias, and None for stride.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride):
        ctx.save_for_backward(x, weight, bias)
        ctx.stride = stride
        ctx.input_shape = x.shape
        _check_conv("Conv2d", x, weight, bias, stride, 2)
        return tensor.Tensor(_conv_forward(x.data, weight.data, bias.data, stride))

    @staticmethod
    def backward(ctx, grad_output):
        return _conv_backward(ctx, grad_output)


def _max_taps(x, kernel_size, stride):
    """(max, tap) of each window of x (N, C, H, W): its maximum and the index, in row-major
    order, of its first maximum, each (N, C, H_out, W_out).

    Loops over the K * K taps of the windows (each a strided view of x): first the
    maximum, then the taps from last to first, so the first one equal to it wins.
    """
    windows = im2col(x, kernel_size, stride)
    taps = [windows[..., tap // kernel_size, tap % kernel_size]
            for tap in range(kernel_size * kernel_size)]
    best = taps[0].copy()
    for value in taps[1:]:
        np.maximum(best, value, out=best)
    first = np.full(best.shape, len(taps) - 1, dtype=np.intp)
    for tap in range(len(taps) - 2, -1, -1):
        first = np.where(taps[tap] == best, tap, first)
    if np.isnan(best.sum()):
        # NaN equals nothing: let argmax find it, as PyTorch does (divergence shows).
        flat = windows.reshape(windows.shape[:4] + (-1,))
        first = flat.argmax(axis=-1)
        best = np.take_along_axis(flat, first[..., None], axis=-1)[..., 0]
    return best, first


class MaxPool2d(Function):
    """The maximum of each K x K window (torch.nn.functional.max_pool2d), no padding.

    x (N, C, H, W) gives (N, C, H_out, W_out).  Backward sends each output's gradient
    to its window's first maximum in row-major order (PyTorch's rule: with ties, as
    after a ReLU, exactly one input gets it), and windows that overlap add up.
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride):
        ctx.save_for_backward(x)
        ctx.kernel_size, ctx.stride = kernel_size, stride
        _check_windows("MaxPool2d", x, 2, kernel_size, stride)
        return tensor.Tensor(_max_taps(x.data, kernel_size, stride)[0])

    @staticmethod
    def backward(ctx, grad_output):
        (x,), k, g = ctx.saved_tensors, ctx.kernel_size, grad_output.data
        _, taps = _max_taps(x.data, k, ctx.stride)
        # The windows' gradient: g at each window's first maximum, 0 at its other taps,
        # laid out tap by tap (K, K, N, C, H_out, W_out) for col2im's tap loop.
        window_grads = (np.arange(k * k).reshape(k * k, 1, 1, 1, 1) == taps) * g
        window_grads = np.moveaxis(window_grads.reshape((k, k) + g.shape), (0, 1), (4, 5))
        return _grads(col2im(window_grads, x.shape, ctx.stride), None, None)


class AvgPool2d(Function):
    """The mean of each K x K window (torch.nn.functional.avg_pool2d), no padding.

    x (N, C, H, W) gives (N, C, H_out, W_out); backward gives every input of a window
    its output's gradient divided by K * K, and windows that overlap add up.
    """

    @staticmethod
    def forward(ctx, x, kernel_size, stride):
        ctx.save_for_backward(x)
        ctx.kernel_size, ctx.stride = kernel_size, stride
        _check_windows("AvgPool2d", x, 2, kernel_size, stride)
        return tensor.Tensor(im2col(x.data, kernel_size, stride).mean(axis=(-2, -1)))

    @staticmethod
    def backward(ctx, grad_output):
        (x,), k, g = ctx.saved_tensors, ctx.kernel_size, grad_output.data
        window_grads = np.broadcast_to((g / (k * k))[..., None, None], g.shape + (k, k))
        return _grads(col2im(window_grads, x.shape, ctx.stride), None, None)


# --------------------------------------------------------------------------- #
# Homework 3: indexing, joining, and the GRU cell
# --------------------------------------------------------------------------- #
class Slice(Function):
    """x[key], NumPy's indexing (``Tensor.__getitem__``).

    ``key`` is anything NumPy takes: ints (negative from the end), slices with
    steps, None, Ellipsis, lists or arrays of indices, or a tuple of these;
    Tensors in it count as their data.  (Where NumPy and PyTorch differ, NumPy's
    rule holds: ints and index lists separated by a slice put their axis first.)
    Backward scatters the gradient back into
    zeros of x's shape: each element goes where it was read from, and where an
    index repeats (``x[[0, 0]]``) the gradients add up (``np.add.at``).
    """

    @staticmethod
    def forward(ctx, x, key):
        _require_tensors("Slice", x)
        key = _index_key(key)
        try:
            out = x.data[key]
        except IndexError as error:
            raise IndexError("Slice: {} (tensor of shape {}, index {!r})"
                             .format(error, x.shape, key)) from None
        ctx.shape, ctx.key = x.shape, key
        # Ints, slices, None and Ellipsis read each element at most once: assignment
        # scatters them back.  Index arrays may repeat an element: add.
        ctx.adds = any(isinstance(part, (list, tuple, np.ndarray))
                       for part in (key if type(key) is tuple else (key,)))
        return _share_version(tensor.Tensor(out), x)

    @staticmethod
    def backward(ctx, grad_output):
        grad = np.zeros(ctx.shape)
        if ctx.adds:
            np.add.at(grad, ctx.key, grad_output.data)
        else:
            grad[ctx.key] = grad_output.data
        return _grads(grad, None)


def _index_key(key):
    """``key`` with every Tensor in it (alone or in a tuple) replaced by its data."""
    if type(key) is tuple:
        return tuple(part.data if isinstance(part, tensor.Tensor) else part for part in key)
    return key.data if isinstance(key, tensor.Tensor) else key


class Cat(Function):
    """Concatenation along an existing axis: ``Cat.apply(*tensors, dim)``.

    The tensors come first and the dim last (``mytorch.tensor.cat(seq, dim)``
    makes the call), so backward returns one gradient per tensor and then None
    for the dim.  Backward cuts the gradient along ``dim`` at the same places
    the inputs were joined.
    """

    @staticmethod
    def forward(ctx, *args):
        if not args:
            raise TypeError("Cat.apply expects the tensors, then the dim: Cat.apply(*seq, dim)")
        *seq, dim = args
        if not seq:
            raise ValueError("Cat: expected at least one tensor to concatenate")
        _require_tensors("Cat", *seq)
        ndim = seq[0].data.ndim
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise TypeError("Cat: dim must be an int, got {!r}".format(dim))
        if ndim == 0:
            raise ValueError("Cat: zero-dimensional tensors cannot be concatenated")
        if not -ndim <= dim < ndim:
            raise IndexError("Cat: dim {} is out of range for {}-dimensional tensors (expected "
                             "a dim in [{}, {}])".format(dim, ndim, -ndim, ndim - 1))
        axis = int(dim) % ndim
        first = seq[0].shape
        for i, t in enumerate(seq):
            shape = t.shape
            if len(shape) != ndim or shape[:axis] != first[:axis] \
                    or shape[axis + 1:] != first[axis + 1:]:
                raise ValueError("Cat: tensor {} has shape {} but tensor 0 has shape {}; along "
                                 "dim {} every shape must match except in that dim"
                                 .format(i, shape, first, dim))
        ctx.axis = axis
        ctx.ends = np.cumsum([t.shape[axis] for t in seq])[:-1]
        return tensor.Tensor(np.concatenate([t.data for t in seq], axis=axis))

    @staticmethod
    def backward(ctx, grad_output):
        pieces = np.split(grad_output.data, ctx.ends, axis=ctx.axis)
        needs = ctx.needs_input_grad
        return _grads(*[piece if needs[i] else None for i, piece in enumerate(pieces)], None)


class GRUCell(Function):
    """One step of torch.nn.GRUCell, in one node (``mytorch.nn.gru.GRUUnit`` uses it).

    ``GRUCell.apply(x, h, w_ir, w_iz, w_in, w_hr, w_hz, w_hn, b_ir, b_iz, b_in,
    b_hr, b_hz, b_hn)`` with x (B, in), h (B, H), the w_i* (H, in), the w_h*
    (H, H) and the biases (H,):

        r  = sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
        z  = sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
        n  = tanh(x @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
        h' = (1 - z) * n + z * h

    The same values and gradients as those equations built from MatMul, Add,
    Sigmoid, Tanh and Mul, with a closed-form backward.  With ``a_*`` the gates'
    pre-activations and g = dL/dh':

        dL/da_n = g * (1 - z) * (1 - n**2)
        dL/da_z = g * (h - n) * z * (1 - z)
        dL/da_r = dL/da_n * (h @ w_hn.T + b_hn) * r * (1 - r)
        dL/dh   = g * z + dL/da_r @ w_hr + dL/da_z @ w_hz + (dL/da_n * r) @ w_hn
        dL/dx   = dL/da_r @ w_ir + dL/da_z @ w_iz + dL/da_n @ w_in
        dL/dw_i* = dL/da_*.T @ x,  dL/dw_hr = dL/da_r.T @ h,  dL/dw_hn = (dL/da_n * r).T @ h
        dL/db   = the same gradients summed over the batch
    """

    @staticmethod
    def forward(ctx, x, h, w_ir, w_iz, w_in, w_hr, w_hz, w_hn, b_ir, b_iz, b_in, b_hr, b_hz,
                b_hn):
        _check_gru_shapes(x, h, (w_ir, w_iz, w_in), (w_hr, w_hz, w_hn),
                          (b_ir, b_iz, b_in, b_hr, b_hz, b_hn))
        X, Hd = x.data, h.data
        r = _sigmoid(X @ w_ir.data.T + Hd @ w_hr.data.T + (b_ir.data + b_hr.data))
        z = _sigmoid(X @ w_iz.data.T + Hd @ w_hz.data.T + (b_iz.data + b_hz.data))
        hn = Hd @ w_hn.data.T + b_hn.data
        n = np.tanh(X @ w_in.data.T + b_in.data + r * hn)
        ctx.save_for_backward(x, h, w_ir, w_iz, w_in, w_hr, w_hz, w_hn)
        ctx.r, ctx.z, ctx.n, ctx.hn = r, z, n, hn
        return tensor.Tensor(n + z * (Hd - n))

    @staticmethod
    def backward(ctx, grad_output):
        x, h, w_ir, w_iz, w_in, w_hr, w_hz, w_hn = ctx.saved_tensors
        g, r, z, n, X, Hd = grad_output.data, ctx.r, ctx.z, ctx.n, x.data, h.data
        da_n = g * (1.0 - z) * (1.0 - n * n)
        da_z = g * (Hd - n) * (z * (1.0 - z))
        da_r = da_n * ctx.hn * (r * (1.0 - r))
        d_hn = da_n * r
        needs = ctx.needs_input_grad
        grad_x = grad_h = None
        if needs[0]:
            grad_x = da_r @ w_ir.data + da_z @ w_iz.data + da_n @ w_in.data
        if needs[1]:
            grad_h = g * z + da_r @ w_hr.data + da_z @ w_hz.data + d_hn @ w_hn.data
        grad_r, grad_z, grad_n, grad_hn = (da_r.sum(axis=0), da_z.sum(axis=0),
                                          da_n.sum(axis=0), d_hn.sum(axis=0))
        return _grads(grad_x, grad_h,
                      da_r.T @ X if needs[2] else None, da_z.T @ X if needs[3] else None,
                      da_n.T @ X if needs[4] else None, da_r.T @ Hd if needs[5] else None,
                      da_z.T @ Hd if needs[6] else None, d_hn.T @ Hd if needs[7] else None,
                      grad_r if needs[8] else None, grad_z if needs[9] else None,
                      grad_n if needs[10] else None, grad_r if needs[11] else None,
                      grad_z if needs[12] else None, grad_hn if needs[13] else None)


def _sigmoid(a):
    """1 / (1 + exp(-a)) as 0.5 * (1 + tanh(a / 2)): one ufunc, never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _check_gru_shapes(x, h, input_weights, hidden_weights, biases):
    """Raise a ValueError naming GRUCell and the shapes unless they fit one another."""
    _require_tensors("GRUCell", x, h, *input_weights, *hidden_weights, *biases)
    if x.data.ndim != 2 or h.data.ndim != 2 or h.shape[0] != x.shape[0]:
        raise ValueError("GRUCell: expected x (B, input_size) and h (B, hidden_size) with the "
                         "same B, got x {} and h {}".format(x.shape, h.shape))
    inputs, hidden = x.shape[1], h.shape[1]
    expected = [(hidden, inputs)] * 3 + [(hidden, hidden)] * 3 + [(hidden,)] * 6
    if [t.shape for t in (*input_weights, *hidden_weights, *biases)] == expected:
        return
    names = ("w_ir", "w_iz", "w_in", "w_hr", "w_hz", "w_hn",
             "b_ir", "b_iz", "b_in", "b_hr", "b_hz", "b_hn")
    for name, t, shape in zip(names, (*input_weights, *hidden_weights, *biases), expected):
        if t.shape != shape:
            raise ValueError("GRUCell: {} has shape {}, expected {} for input_size {} and "
                             "hidden_size {}".format(name, t.shape, shape, inputs, hidden))
