"""Named conversions between the four predictions of an affine path.

On ``x = alpha x0 + sigma eps`` (coefficients `PathCoefficients` at one time ``s``):

- noise     ``eps  = (x - alpha x0) / sigma``
- data      ``x0   = (x - sigma eps) / alpha``
- velocity  ``u    = dx/ds = d_alpha x0 + d_sigma eps``
- score     ``grad log p_s(x) = -eps / sigma``

All functions are elementwise in the state tensor (any shape) and keep its dtype; the
coefficients are float64 scalars.
"""

from __future__ import annotations

import torch

from .interpolants import PathCoefficients


def eps_from_x0(x: torch.Tensor, x0: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """``eps = (x - alpha x0) / sigma`` (needs ``sigma > 0``)."""
    return (x - c.alpha_t * x0) / c.sigma_t


def x0_from_eps(x: torch.Tensor, eps: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """``x0 = (x - sigma eps) / alpha`` (needs ``alpha > 0``)."""
    return (x - c.sigma_t * eps) / c.alpha_t


def velocity_from_x0(x: torch.Tensor, x0: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """``u = d_alpha x0 + d_sigma eps`` with ``eps`` from ``x0``."""
    return c.d_alpha_t * x0 + c.d_sigma_t * eps_from_x0(x, x0, c)


def x0_from_velocity(x: torch.Tensor, u: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """Solve ``x = alpha x0 + sigma eps``, ``u = d_alpha x0 + d_sigma eps`` for ``x0``:
    ``x0 = (d_sigma x - sigma u) / (d_sigma alpha - sigma d_alpha)``."""
    det = c.d_sigma_t * c.alpha_t - c.sigma_t * c.d_alpha_t
    return (c.d_sigma_t * x - c.sigma_t * u) / det


def score_from_eps(eps: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """``score = -eps / sigma``."""
    return -eps / c.sigma_t


def eps_from_score(score: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """``eps = -sigma score``."""
    return -c.sigma_t * score


def score_from_x0(x: torch.Tensor, x0: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """``score = -(x - alpha x0) / sigma^2`` (Tweedie's formula read backwards)."""
    return score_from_eps(eps_from_x0(x, x0, c), c)


def x0_from_score(x: torch.Tensor, score: torch.Tensor, c: PathCoefficients) -> torch.Tensor:
    """Tweedie: ``x0 = (x + sigma^2 score) / alpha``."""
    return x0_from_eps(x, eps_from_score(score, c), c)
