"""What the library's tests share: seeded generators, the global NumPy stream, parameters.

A test module that draws from ``np.random`` (layers initialise from it, Dropout masks come
from it) marks itself ``pytestmark = pytest.mark.numpy_seed(N)``: each of its tests starts
from seed N (``None``: from the stream as it is) and leaves the stream as it found it.
The optimizer tests import ``parameter`` and ``backward_with_gradient`` from here.
"""
import numpy as np
import pytest

from mytorch import Tensor


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "numpy_seed(seed): seed np.random for each test (None: leave it), and "
                   "restore its state afterwards")


@pytest.fixture
def rng():
    """A seeded generator, so every failure is reproducible."""
    return np.random.default_rng(11785)


@pytest.fixture(autouse=True)
def _global_numpy_stream(request):
    marker = request.node.get_closest_marker("numpy_seed")
    if marker is None:
        yield
        return
    state = np.random.get_state()
    seed = marker.args[0] if marker.args else None
    if seed is not None:
        np.random.seed(seed)
    yield
    np.random.set_state(state)


def parameter(rng, *shape):
    """A parameter Tensor of ``shape`` with standard normal values from ``rng``."""
    return Tensor(rng.standard_normal(shape), requires_grad=True, is_parameter=True)


def backward_with_gradient(params, grads):
    """Make each param's .grad equal the given array by a real backward of sum(c * p)."""
    loss = None
    for p, g in zip(params, grads):
        term = (p * Tensor(g)).sum()
        loss = term if loss is None else loss + term
    loss.backward()
