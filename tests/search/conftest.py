"""Fixtures for search tests: the mixture bed, rewards, and an NFE-counting denoiser."""

from __future__ import annotations

import pytest
import torch

#: The 20% mode of `example_mixture`; the quadratic reward pulls towards it.
TARGET = torch.tensor([1.5, -2.0], dtype=torch.float64)


def quadratic_reward(x0: torch.Tensor) -> torch.Tensor:
    """``r(x) = -|x - TARGET|^2 / 2`` (its tilt of the mixture is known in closed form)."""
    return -0.5 * ((x0.double() - TARGET) ** 2).sum(-1)


class CountingDenoiser:
    """Wraps the exact mixture denoiser and counts per-particle evaluations."""

    def __init__(self, mixture):
        self.mixture, self.calls, self.nfe = mixture, 0, 0

    def __call__(self, x, t):
        self.calls += 1
        self.nfe += x.shape[0]
        return self.mixture.denoise(x, t)


@pytest.fixture
def counting(mixture):
    return CountingDenoiser(mixture)


@pytest.fixture
def mode_reward(mixture):
    """Mode-seeking reward: log-responsibility of the 20% mode under the exact mixture."""
    return lambda x0: mixture.responsibilities(x0).clamp_min(1e-300).log()[:, 2]
