"""Shared pytest fixtures for host-free tests."""

from __future__ import annotations

import pytest
import torch

from flowsearch.testing import GaussianMixture, example_mixture


@pytest.fixture
def mixture() -> GaussianMixture:
    return example_mixture()


@pytest.fixture
def gen():
    """Factory for seeded CPU generators: ``gen(seed)``."""
    return lambda seed: torch.Generator().manual_seed(seed)
