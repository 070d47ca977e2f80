"""Gradient guidance (DPS-style) for differentiable rewards, as one pure function.

The reward tilts the score: ``score' = score + guidance_scale * grad_x r(x0_hat(x))``
(``guidance_scale = 1/beta``). By Tweedie that is the corrected estimate

    x0_hat' = x0_hat + (sigma^2 / alpha) * guidance_scale * grad_x r(x0_hat(x)),

which the steppers then use unchanged (for both the ODE and the SDE). While
``alpha(s) < MIN_ALPHA`` (the first steps, where the state is nearly pure noise, ``x0_hat``
is the data mean and ``sigma^2 / alpha`` diverges) guidance is off (`guidance_active`).
The gradient needs autograd through the denoiser and the reward; it is computed even when
the caller runs under ``torch.no_grad`` or ``torch.inference_mode`` (as ComfyUI does).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..interpolants import PathCoefficients

MIN_ALPHA = 0.05


def guidance_active(coefficients: PathCoefficients, guidance_scale: float) -> bool:
    """Whether a guided evaluation happens at this level."""
    return guidance_scale > 0 and coefficients.alpha_t >= MIN_ALPHA


def guided_x0(
    denoise: Callable[[torch.Tensor], torch.Tensor],
    reward: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    coefficients: PathCoefficients,
    guidance_scale: float,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x0_hat, x0_hat', r(x0_hat))`` for states ``x [N, ...]`` at one level (all detached).

    ``denoise(x) -> x0_hat`` and ``reward(x0) -> [N]`` must be differentiable (else
    `ValueError` naming the fix); non-finite gradient entries count as 0.
    """
    with torch.inference_mode(False), torch.enable_grad():
        xg = x.detach().clone().requires_grad_(True)
        x0 = denoise(xg)
        if not x0.requires_grad:
            raise ValueError(
                "gradient guidance needs autograd through the denoiser, but its output has no "
                "gradient; set guidance_scale=0 or use a differentiable model wrapper"
            )
        r = reward(x0)
        if not isinstance(r, torch.Tensor) or not r.requires_grad:
            raise ValueError(
                "gradient guidance needs a differentiable reward, but reward(x0) has no gradient "
                "with respect to x0; set guidance_scale=0 or pick a differentiable verifier"
            )
        (grad,) = torch.autograd.grad(r.sum(), xg)
    grad = torch.nan_to_num(grad.detach(), nan=0.0, posinf=0.0, neginf=0.0)
    x0 = x0.detach()
    c = coefficients
    x0_guided = (x0 + (c.sigma_t**2 / c.alpha_t) * guidance_scale * grad).to(x0.dtype)
    return x0, x0_guided, r.detach()
