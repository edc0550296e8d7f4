"""MyTorch: a NumPy-only deep-learning library with reverse-mode autograd (CMU 11-785 HW1P1).

    from mytorch.tensor import Tensor
    from mytorch import no_grad, gradcheck
"""
from mytorch.tensor import Tensor
from mytorch.autograd_engine import no_grad, is_grad_enabled
from mytorch.gradcheck import gradcheck, GradcheckError

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError"]
