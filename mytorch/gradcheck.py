"""Check an op's backward against central finite differences (like torch.autograd.gradcheck).

Write a new op, then:

    >>> import numpy as np
    >>> from mytorch import Tensor, gradcheck
    >>> x = Tensor(np.random.randn(3, 4), requires_grad=True)
    >>> gradcheck(lambda t: (t * t).sum(axis=0), x)
    True
"""
import numpy as np

from mytorch.autograd_engine import no_grad
from mytorch.tensor import Tensor


class GradcheckError(AssertionError):
    """Backward's gradient differs from the finite-difference one."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-7, rtol=1e-6, seed=0):
    """True if ``fn``'s autograd gradients match central finite differences.

    ``fn`` takes the tensors in ``inputs`` (one Tensor or a sequence) and
    returns a Tensor.  The output is weighted by a fixed random tensor ``w``,
    so one backward pass checks the whole vector-Jacobian product: for every
    element x of every input that requires grad,

        analytic = d sum(w * fn) / dx          (from backward)
        numeric  = (sum(w * fn(x + eps)) - sum(w * fn(x - eps))) / (2 eps)

    and each pair must satisfy |analytic - numeric| <= atol + rtol * |numeric|.
    Use float64 inputs.  Raises GradcheckError naming the input, the element
    and both values otherwise.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad, so there is nothing to check")
    for t in checked:
        if t.data.dtype != np.float64:
            raise ValueError("gradcheck: inputs must be float64 (finite differences in "
                             "lower precision are too coarse), got {}".format(t.data.dtype))

    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError("gradcheck: fn must return a Tensor, got {}".format(type(out).__name__))
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    saved_grads = [t.grad for t in checked]
    for t in checked:
        t.grad = None
    if out.requires_grad:
        out.backward(weights)
    analytic = [np.zeros(t.shape) if t.grad is None else t.grad.data.copy() for t in checked]
    for t, grad in zip(checked, saved_grads):
        t.grad = grad

    def weighted_output():
        with no_grad():
            return float(np.sum(weights * fn(*inputs).data))

    for number, (t, grad) in enumerate(zip(checked, analytic)):
        flat = t.data.reshape(-1)        # a view: editing it perturbs the input
        if not np.shares_memory(flat, t.data):
            raise ValueError("gradcheck: inputs must be contiguous arrays")
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = weighted_output()
            flat[i] = original - eps
            minus = weighted_output()
            flat[i] = original
            numeric = (plus - minus) / (2 * eps)
            got = grad.reshape(-1)[i]
            if not abs(got - numeric) <= atol + rtol * abs(numeric):
                index = np.unravel_index(i, t.shape)
                raise GradcheckError(
                    "gradcheck: gradient of input {} (shape {}) at index {}: backward gave "
                    "{!r}, finite differences give {!r} (difference {:.3g})"
                    .format(number, t.shape, tuple(int(k) for k in index), float(got),
                            float(numeric), abs(got - numeric)))
    return True
