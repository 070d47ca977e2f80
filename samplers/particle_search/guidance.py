"""Gradient guidance (DPS-style) for differentiable rewards.

The reward tilts the score: ``score' = score + guidance_scale * grad_x r(x0_hat(x))``
(``guidance_scale = 1/beta``). By Tweedie that is the corrected estimate

    x0_hat' = x0_hat + (sigma^2 / alpha) * guidance_scale * grad_x r(x0_hat(x)),

which the steppers then use unchanged (for both the ODE and the SDE). While
``alpha(s) < MIN_ALPHA`` (the first steps, where the state is nearly pure noise, ``x0_hat``
is the data mean and ``sigma^2 / alpha`` diverges) guidance is off. The gradient needs
autograd through the denoiser and the reward; it is computed even when the caller runs
under ``torch.inference_mode`` (as ComfyUI does). A forward+backward pass counts as one
NFE plus one ``nfe_backward``.
"""

from __future__ import annotations

import time

import torch

from .context import Evaluated, SearchContext

MIN_ALPHA = 0.05


def guided_evaluate(
    ctx: SearchContext, x: torch.Tensor, i: int, guidance_scale: float
) -> Evaluated:
    c = ctx.interpolant.coefficients(ctx.grid[i])
    if c.alpha_t < MIN_ALPHA:
        return ctx.evaluate(x, i)
    x0s, grads, rewards = [], [], []
    for sl in ctx._chunks(x.shape[0]):
        with torch.inference_mode(False), torch.enable_grad():
            xg = x[sl].detach().clone().requires_grad_(True)
            x0 = ctx.denoise(xg, i)
            if not x0.requires_grad:
                raise ValueError(
                    "gradient guidance needs autograd through the denoiser, but its output has no "
                    "gradient; set guidance_scale=0 or use a differentiable model wrapper"
                )
            start = time.perf_counter()
            r = ctx.reward_fn(x0)
            ctx.ledger.timings.reward += time.perf_counter() - start
            if not isinstance(r, torch.Tensor) or not r.requires_grad:
                raise ValueError(
                    "gradient guidance needs a differentiable reward, but reward(x0) has no gradient "
                    "with respect to x0; set guidance_scale=0 or pick a differentiable verifier"
                )
            (grad,) = torch.autograd.grad(r.sum(), xg)
        ctx.ledger.nfe_backward += xg.shape[0]
        x0s.append(x0.detach())
        grads.append(torch.nan_to_num(grad.detach(), nan=0.0, posinf=0.0, neginf=0.0))
        rewards.append(r.detach())
    x0_hat = torch.cat(x0s)
    x0_step = (x0_hat + (c.sigma_t**2 / c.alpha_t) * guidance_scale * torch.cat(grads)).to(
        x0_hat.dtype
    )
    if ctx.is_final(i):  # the guided estimate is the final sample: score what is returned
        ev = Evaluated(x, x0_step, ctx.score(x0_step), i)
    else:
        raw = torch.cat(rewards).to("cpu", torch.float64)
        bad = ~torch.isfinite(raw)
        ctx.ledger.nonfinite += int(bad.sum())
        reward = torch.where(bad, torch.full_like(raw, -torch.inf), raw)
        ev = Evaluated(x, x0_hat, reward, i, x0_step)
    ctx.remember(ev, final=ctx.is_final(i))
    return ev
