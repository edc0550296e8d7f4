"""Shared fixtures for the library's tests."""
import numpy as np
import pytest


@pytest.fixture
def rng():
    """A seeded generator, so every failure is reproducible."""
    return np.random.default_rng(11785)
