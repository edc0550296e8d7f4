"""Adam (HW1 bonus): SGD with per-element step sizes from running gradient moments."""
import math

import numpy as np

from mytorch.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), as ``torch.optim.Adam``.

    For a parameter W with gradient g, at its t-th update:
        g     = g + weight_decay * W                  (L2 penalty, as torch; off when 0)
        m_t   = beta1 * m_{t-1} + (1 - beta1) * g      (self.first_moments)
        v_t   = beta2 * v_{t-1} + (1 - beta2) * g**2   (self.second_moments)
        m_hat = m_t / (1 - beta1**t)                   (bias correction: m and v start at 0)
        v_hat = v_t / (1 - beta2**t)
        W     = W - lr * m_hat / (sqrt(v_hat) + eps)
    The update edits ``.data`` in place, so it is not recorded in the graph and
    the parameters stay leaves.

    A parameter whose ``.grad`` is None is skipped, as torch does: its moments
    and its own step count stay as they are.  So t is counted per parameter
    (``self.step_counts``); ``self.t`` counts the calls to ``step()`` and equals
    every step count as long as every parameter gets a gradient each step.

    >>> optimizer = Adam(model.parameters(), lr=0.001)
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError("Adam: betas must be a pair (beta1, beta2), got {!r}"
                             .format(betas)) from None
        _check("lr", lr)
        _check("betas[0] (beta1)", beta1, below_one=True)
        _check("betas[1] (beta2)", beta2, below_one=True)
        _check("eps", eps)
        _check("weight_decay", weight_decay)
        self.lr = lr
        self.betas = (beta1, beta2)
        self.eps = eps
        self.weight_decay = weight_decay
        self.first_moments = [np.zeros(param.shape) for param in self.params]
        self.second_moments = [np.zeros(param.shape) for param in self.params]
        self.step_counts = [0] * len(self.params)
        self.t = 0

    def step(self):
        """Update every parameter that has a gradient; skip the others."""
        self.t += 1
        lr, eps, weight_decay = self.lr, self.eps, self.weight_decay
        beta1, beta2 = self.betas
        for i, param in enumerate(self.params):
            if param.grad is None:
                continue
            grad = param.grad.data
            m, v = self.first_moments[i], self.second_moments[i]
            if grad.shape != m.shape:                          # a .grad set by hand, say
                raise self._wrong_shape(param, m.shape)
            if weight_decay:
                grad = grad + weight_decay * param.data        # never edit .grad itself
            self.step_counts[i] += 1
            t = self.step_counts[i]
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * (grad * grad)
            # torch's arrangement of the same formula: the corrections fold into scalars.
            denominator = np.sqrt(v) / math.sqrt(1 - beta2 ** t)
            denominator += eps
            param.data -= (lr / (1 - beta1 ** t)) * m / denominator    # in place; versioned


def _check(name, value, below_one=False):
    """Raise a ValueError naming ``name`` unless ``value`` is a number >= 0 (and < 1)."""
    is_number = isinstance(value, (int, float, np.integer, np.floating)) \
        and not isinstance(value, bool)
    if is_number and value >= 0 and (value < 1 or not below_one):
        return
    raise ValueError("Adam: {} must {}, got {!r}"
                     .format(name, "lie in [0, 1)" if below_one else "be >= 0", value))
