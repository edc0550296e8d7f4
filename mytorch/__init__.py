"""MyTorch: a NumPy-only deep-learning library with reverse-mode autograd (CMU 11-785 HW1P1).

    from mytorch.tensor import Tensor
    from mytorch import no_grad, gradcheck, detect_anomaly
"""
from mytorch.tensor import Tensor
from mytorch.autograd_engine import no_grad, is_grad_enabled
from mytorch.gradcheck import gradcheck, GradcheckError
from mytorch.anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError",
           "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]
