"""Problems 2.1 and 2.2: a scanning MLP written as a CNN.

The MLP reads 8 consecutive time steps of an input (N, 24, 128) as 192 numbers, time
step by time step (input index t * 24 + c for step t, channel c), and computes

    Linear(192, 8) -> ReLU -> Linear(8, 16) -> ReLU -> Linear(16, 4)      (no biases)

It scans the input in steps of 4 time steps: 31 positions, 4 outputs each.  Both
classes build the CNN that computes the same 31 x 4 numbers, as an output (N, 4, 31)
flattened to (N, 124), and load the MLP's weights into it with ``init_weights``.

    from mlp_scan import *        # with hw2/ on sys.path, as the course's code does

    cnn = CNN_SimpleScanningMLP()
    cnn.init_weights((w1, w2, w3))         # (8, 192), (16, 8), (4, 16): Linear.weight layout
    out = cnn(Tensor(x))                   # (N, 124)
"""
import numpy as np

from mytorch.nn.activations import ReLU
from mytorch.nn.conv import Conv1d, Flatten
from mytorch.nn.module import Module
from mytorch.nn.sequential import Sequential

__all__ = ["CNN_SimpleScanningMLP", "CNN_DistributedScanningMLP"]

CHANNELS = 24           # features per time step
MLP_SHAPES = ((8, 192), (16, 8), (4, 16))     # the MLP's weights, (out, in) like Linear.weight


class _ScanningCNN(Module):
    """What both classes share: forward, and the checks of init_weights's argument."""

    def forward(self, x):
        """x (N, 24, 128) -> (N, 124): the MLP's 4 outputs at each of 31 positions,
        channel by channel ((N, 4, 31) flattened)."""
        return self.layers(x)

    def _mlp_weights(self, weights):
        """The three MLP weights as float64 arrays, their shapes checked."""
        if len(weights) != 3:
            raise ValueError("{}.init_weights expects the MLP's three weights (w1, w2, w3), "
                             "got {}".format(type(self).__name__, len(weights)))
        arrays = [np.asarray(w, dtype=np.float64) for w in weights]
        for number, (array, shape) in enumerate(zip(arrays, MLP_SHAPES), 1):
            if array.shape != shape:
                raise ValueError("{}.init_weights: w{} must have shape {} (Linear.weight layout: "
                                 "out, in), got {}".format(type(self).__name__, number, shape,
                                                           array.shape))
        return arrays

    def _load(self, conv, weight, name):
        """Write ``weight`` into ``conv.weight`` (no graph node; it stays a leaf parameter)."""
        if np.isnan(weight).any():
            raise ValueError("{}.init_weights: the block picked for {} holds NaN: it is not a "
                             "copy of the shared block".format(type(self).__name__, name))
        conv.weight.data = np.ascontiguousarray(weight, dtype=np.float64)


class CNN_SimpleScanningMLP(_ScanningCNN):
    """2.1: the scanning MLP as Conv1d(24, 8, 8, 4) -> ReLU -> Conv1d(8, 16, 1, 1) -> ReLU
    -> Conv1d(16, 4, 1, 1) -> Flatten.

    The first convolution's kernel covers the MLP's 8 time steps and moves by its
    4-step stride; the other two apply the MLP's later layers at each position.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = Conv1d(CHANNELS, 8, 8, 4)
        self.conv2 = Conv1d(8, 16, 1, 1)
        self.conv3 = Conv1d(16, 4, 1, 1)
        self.layers = Sequential(self.conv1, ReLU(), self.conv2, ReLU(), self.conv3, Flatten())

    def init_weights(self, weights):
        """Load the MLP's weights (w1, w2, w3), shapes (8, 192), (16, 8), (4, 16).

        w1[o, t * 24 + c] multiplies channel c of time step t, so it becomes the conv
        weight [o, c, t]: split the 192 inputs into (8 steps, 24 channels) and swap
        those two axes.  w2 and w3 gain a kernel axis of width 1.  The arrays may be
        integers or views (transposed ones too); the biases stay zero.
        """
        w1, w2, w3 = self._mlp_weights(weights)
        self._load(self.conv1, w1.reshape(8, 8, CHANNELS).transpose(0, 2, 1), "conv1")
        self._load(self.conv2, w2[:, :, None], "conv2")
        self._load(self.conv3, w3[:, :, None], "conv3")


class CNN_DistributedScanningMLP(_ScanningCNN):
    """2.2: the same MLP with shared neurons, as Conv1d(24, 2, 2, 2) -> ReLU ->
    Conv1d(2, 8, 2, 2) -> ReLU -> Conv1d(8, 4, 2, 1) -> Flatten.

    Layer 1 is 4 copies of a block of 2 neurons reading 2 time steps (neurons 2j, 2j+1
    read steps 2j, 2j+1); layer 2 is 2 copies of a block of 8 neurons reading 4 of
    layer 1's neurons (neurons 8j..8j+7 read 4j..4j+3); layer 3 reads all 16.  Each
    block is one convolution, applied wherever a copy of it sits.
    """

    def __init__(self):
        super().__init__()
        self.conv1 = Conv1d(CHANNELS, 2, 2, 2)
        self.conv2 = Conv1d(2, 8, 2, 2)
        self.conv3 = Conv1d(8, 4, 2, 1)
        self.layers = Sequential(self.conv1, ReLU(), self.conv2, ReLU(), self.conv3, Flatten())

    def init_weights(self, weights):
        """Load one copy of each shared block from the MLP's full weights (w1, w2, w3),
        shapes (8, 192), (16, 8), (4, 16), which hold the shared values in every copy
        and NaN outside the blocks.

        The first copy of each: w1[0:2, 0:48] (2 neurons, 2 steps of 24 channels),
        w2[0:8, 0:4] (8 neurons, 2 positions of layer 1's 2 channels) and all of w3
        (4 neurons, 2 positions of layer 2's 8 channels).  In each, the inputs run
        position-major, so splitting them into (positions, channels) and swapping the
        two gives the conv weight (out, channels, positions).
        """
        w1, w2, w3 = self._mlp_weights(weights)
        self._load(self.conv1, w1[0:2, 0:2 * CHANNELS].reshape(2, 2, CHANNELS)
                   .transpose(0, 2, 1), "conv1")
        self._load(self.conv2, w2[0:8, 0:4].reshape(8, 2, 2).transpose(0, 2, 1), "conv2")
        self._load(self.conv3, w3.reshape(4, 2, 8).transpose(0, 2, 1), "conv3")
