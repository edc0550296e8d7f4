"""Loss layers."""
import mytorch.nn.functional as F
from mytorch.nn.module import Module

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(Module):
    """LogSoftmax + NLLLoss averaged over the batch: ``CrossEntropyLoss()(logits, labels)``."""

    def forward(self, predicted, target):
        return F.cross_entropy(predicted, target)
