"""One-step integrators on an affine path (time convention: s=1 noise -> s=0 data).

Each stepper is a pure function of the state ``x_s`` (any shape, caller's dtype), the
denoiser's ``x0_hat`` at ``s`` and the injected standard-normal ``noise``; steppers never
draw random numbers themselves. Inside a step the state is upcast to at least float32 and
cast back (precision policy), the coefficients are float64 scalars.
"""

from __future__ import annotations

import math

import torch

from .conversions import score_from_x0, velocity_from_x0
from .interpolants import Interpolant


def _work(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.promote_types(x.dtype, torch.float32))


def euler_step(
    x: torch.Tensor,
    x0_hat: torch.Tensor,
    s: float,
    s_next: float,
    interpolant: Interpolant,
    g: float = 0.0,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Euler–Maruyama step of the same-marginal reverse SDE from ``s`` to ``s_next < s``.

    ``x' = x - h (u - g^2/2 * score) + g sqrt(h) z`` with ``h = s - s_next``,
    ``u = d_alpha x0 + d_sigma eps`` and ``score = -eps / sigma``. With ``g = 0`` this is the
    ODE Euler step (``noise`` unused).

    A step that reaches the data end (``s_next == 0``) returns ``x0_hat``, as DDIM and
    k-diffusion do: on the linear ODE that *is* the Euler step, on other paths it avoids
    the large first-order error of one coarse final step (the paper's adaptive grid ends
    with a step of ``sqrt(2/M)``), and the remaining noise there is nil on fine grids.
    """
    if s_next == 0.0:
        return x0_hat.to(x.dtype)
    c = interpolant.coefficients(s)
    h = s - s_next
    xw, x0w = _work(x), _work(x0_hat)
    drift = velocity_from_x0(xw, x0w, c)
    if g == 0.0:
        return (xw - h * drift).to(x.dtype)
    if noise is None:
        raise ValueError("euler_step with g > 0 needs a standard-normal `noise` tensor")
    drift = drift - 0.5 * g * g * score_from_x0(xw, x0w, c)
    return (xw - h * drift + (g * math.sqrt(h)) * _work(noise)).to(x.dtype)


def forward_kernel(
    x: torch.Tensor, s: float, s_next: float, interpolant: Interpolant, noise: torch.Tensor
) -> torch.Tensor:
    """Exact re-noising from level ``s`` to a noisier ``s_next > s`` on the same path.

    ``x' = (alpha'/alpha) x + sqrt(sigma'^2 - (alpha'/alpha)^2 sigma^2) z``, so a sample of
    ``p_s`` becomes a sample of ``p_{s_next}`` (DESIGN.md §2). On the linear path
    ``r = (1 - s_next) / (1 - s)``.
    """
    if not s_next > s:
        raise ValueError(f"forward_kernel needs s_next > s; got s={s}, s_next={s_next}")
    a, b = interpolant.coefficients(s), interpolant.coefficients(s_next)
    ratio = b.alpha_t / a.alpha_t
    std = math.sqrt(max(0.0, b.sigma_t**2 - (ratio * a.sigma_t) ** 2))
    return (ratio * _work(x) + std * _work(noise)).to(x.dtype)
