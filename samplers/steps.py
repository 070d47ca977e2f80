"""One-step integrators on an affine path (time convention: s=1 noise -> s=0 data).

Each stepper is a pure function of the state ``x_s`` (any shape, caller's dtype), the
denoiser's ``x0_hat`` at ``s`` and the injected standard-normal ``noise``; steppers never
draw random numbers themselves. Inside a step the state is upcast to at least float32 and
cast back (precision policy), the coefficients are float64 scalars.
"""

from __future__ import annotations

import math

import torch

from .interpolants import Interpolant, PathCoefficients


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
    if g > 0.0 and noise is None:
        raise ValueError("euler_step with g > 0 needs a standard-normal `noise` tensor")
    h = s - s_next
    a, b = euler_coefficients(interpolant.coefficients(s), h, g)
    out = _work(x).mul(a).add_(_work(x0_hat), alpha=b)
    if g > 0.0:
        out.add_(_work(noise), alpha=g * math.sqrt(h))
    return out.to(x.dtype)


def euler_coefficients(c: PathCoefficients, h: float, g: float) -> tuple[float, float]:
    """The Euler–Maruyama step as ``x' = a x + b x0_hat + g sqrt(h) z`` (float64 scalars).

    With ``eps = (x - alpha x0)/sigma`` the drift ``u - g^2/2 score`` is linear in
    ``(x, x0)``: ``A x + B x0`` with ``A = d_sigma/sigma + g^2/(2 sigma^2)`` and
    ``B = d_alpha - d_sigma alpha/sigma - g^2 alpha/(2 sigma^2)``; so ``a = 1 - h A``,
    ``b = -h B``. Folding the step into three tensor operations keeps the integrator's
    per-step cost small next to the denoiser's.
    """
    half_g2 = 0.5 * g * g / (c.sigma_t * c.sigma_t)
    big_a = c.d_sigma_t / c.sigma_t + half_g2
    big_b = c.d_alpha_t - c.d_sigma_t * c.alpha_t / c.sigma_t - half_g2 * c.alpha_t
    return 1.0 - h * big_a, -h * big_b


def forward_kernel(
    x: torch.Tensor, s: float, s_next: float, interpolant: Interpolant, noise: torch.Tensor
) -> torch.Tensor:
    """Exact re-noising from level ``s`` to a noisier ``s_next > s`` on the same path.

    ``x' = (alpha'/alpha) x + sqrt(sigma'^2 - (alpha'/alpha)^2 sigma^2) z``, so a sample of
    ``p_s`` becomes a sample of ``p_{s_next}`` (docs/sampling.md). On the linear path
    ``r = (1 - s_next) / (1 - s)``.
    """
    if not s_next > s:
        raise ValueError(f"forward_kernel needs s_next > s; got s={s}, s_next={s_next}")
    a, b = interpolant.coefficients(s), interpolant.coefficients(s_next)
    ratio = b.alpha_t / a.alpha_t
    std = math.sqrt(max(0.0, b.sigma_t**2 - (ratio * a.sigma_t) ** 2))
    return _work(x).mul(ratio).add_(_work(noise), alpha=std).to(x.dtype)


def start_state(
    coefficients: PathCoefficients, noise: torch.Tensor, latent: torch.Tensor | None = None
) -> torch.Tensor:
    """The state at a first level ``s_0``: ``x = alpha(s_0) latent + sigma(s_0) noise``.

    Without ``latent`` it is the pure-noise state ``sigma(s_0) noise`` (ComfyUI's empty-latent
    convention: ``x_{t0} = t0 noise`` on the linear path). With a clean ``latent`` (img2img,
    ``denoise < 1``) it is an exact draw of the forward law ``p(x_{s_0} | x_0 = latent)``.
    ``latent`` broadcasts against ``noise [N, ...]``; the result has ``noise``'s dtype.
    """
    x = coefficients.sigma_t * noise
    if latent is None:
        return x
    return (coefficients.alpha_t * latent.to(noise.dtype) + x).to(noise.dtype)
