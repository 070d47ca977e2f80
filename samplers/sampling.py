"""Stochastic (or deterministic) sampling of a flow model on any affine interpolant.

Three layers, one loop:

- `integrate`: the loop over a grid of interpolant times, state in path space.
- `sample`: the Python API (noise in, sample out).
- `sample_flow`: the same loop behind ComfyUI's ``KSAMPLER`` sampler-function signature
  ``fn(model, x, sigmas, extra_args, callback, disable, **options)``; pure torch, the node
  layer only wraps it.

How to integrate (path, SDE/ODE, diffusion, grid) is one `SamplerSettings` record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .denoiser import Denoiser, PathDenoiser
from .diffusion import Diffusion
from .grids import GRIDS, grid_from_sigmas, make_grid
from .interpolants import Interpolant
from .randomness import randn_like
from .settings import SamplerSettings, resolve_settings
from .steps import euler_step, start_state

StepCallback = Callable[[dict[str, Any]], None]

#: Grid choices of `sample_flow`: the given sigmas mapped at equal SNR, or a named grid.
SAMPLE_FLOW_GRIDS = ("sigmas", *GRIDS)

#: `sample_flow` / `search_flow` integrate on the given sigmas unless told otherwise.
FLOW_SETTINGS = SamplerSettings(grid="sigmas")

__all__ = ["SAMPLE_FLOW_GRIDS", "integrate", "randn_like", "sample", "sample_flow"]


def integrate(
    denoise: PathDenoiser,
    x: torch.Tensor,
    grid: Sequence[float],
    diffusion: Diffusion,
    *,
    generator: torch.Generator | None = None,
    callback: StepCallback | None = None,
) -> torch.Tensor:
    """Integrate from ``grid[0]`` to ``grid[-1]`` (interpolant times, descending).

    ``x`` is the state ``x_s`` in path space at ``grid[0]``; returns the state at
    ``grid[-1]``. One denoiser call per step; SDE noise from ``generator``. ``callback``
    gets, before each step's update, ``{"i", "s", "x", "sigma", "sigma_hat", "denoised"}``
    with ``x`` in the model's linear-path space and ``sigma`` its model time (ComfyUI's keys).
    """
    interpolant = denoise.interpolant
    for i in range(len(grid) - 1):
        s, s_next = grid[i], grid[i + 1]
        x0_hat = denoise(x, s)
        if callback is not None:
            t = interpolant.linear_time(s)
            x_model = x / interpolant.linear_scale(s)
            callback({"i": i, "s": s, "x": x_model, "sigma": t, "sigma_hat": t, "denoised": x0_hat})
        g = diffusion(s, interpolant)
        noise = randn_like(x, generator) if g > 0 else None
        x = euler_step(x, x0_hat, s, s_next, interpolant, g, noise)
    return x


def _check_noise(noise: object) -> torch.Tensor:
    if not isinstance(noise, torch.Tensor) or not noise.is_floating_point():
        raise ValueError(
            f"noise must be a floating-point torch.Tensor [B, ...]; got {type(noise).__name__}"
        )
    if noise.ndim < 1 or noise.shape[0] < 1:
        raise ValueError(
            f"noise must have a non-empty batch dimension [B, ...]; got shape {tuple(noise.shape)}"
        )
    return noise


@torch.no_grad()
def sample(
    denoiser: Denoiser,
    noise: torch.Tensor,
    *,
    steps: int | None = None,
    settings: SamplerSettings | None = None,
    timesteps: torch.Tensor | Sequence[float] | None = None,
    latent: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    interpolant: str | Interpolant | None = None,
    stochastic: bool | None = None,
    diffusion: str | Diffusion | None = None,
    diffusion_scale: float | None = None,
    grid: str | None = None,
) -> torch.Tensor:
    """Draw samples from a linear-path flow model, optionally via another path and an SDE.

    ``denoiser(x, t) -> x0_hat``: ``x`` ``[B, ...]`` in the model's linear-path space, ``t``
    ``[B]`` model time in [0, 1] (t=1 noise). ``noise``: standard normal ``[B, ...]``.
    ``settings`` (`SamplerSettings`; default: the paper's VP-SDE on the adaptive grid) says
    how to integrate; the keywords ``interpolant`` ... ``grid`` are the older spelling of
    the same fields and are merged into it. ``steps`` steps on ``s in [1, 0]``, or explicit
    ``timesteps`` (descending model times ending at 0), which win over ``settings.grid``.

    The start state is `start_state`: ``sigma(s0) noise`` (ComfyUI's empty-latent
    convention), or ``alpha(s0) latent + sigma(s0) noise`` from a clean ``latent``
    (img2img: pass ``timesteps`` starting below 1, e.g. at ``t0 = denoise``). Runs under
    ``torch.no_grad()``. Returns the sample ``[B, ...]`` in the caller's dtype; the same
    ``generator`` seed gives a bitwise identical result.
    """
    noise = _check_noise(noise)
    cfg = resolve_settings(
        settings, SamplerSettings(), interpolant=interpolant, stochastic=stochastic,
        diffusion=diffusion, diffusion_scale=diffusion_scale, grid=grid,
    )  # fmt: skip
    path = cfg.path()
    s_grid = make_grid(path, steps=steps, grid=cfg.grid, timesteps=timesteps)
    x = start_state(path.coefficients(s_grid[0]), noise, latent)
    return integrate(
        PathDenoiser(denoiser, path), x, s_grid, cfg.diffusion_fn(), generator=generator
    )


@torch.no_grad()
def sample_flow(
    model: Callable[..., torch.Tensor],
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict[str, Any] | None = None,
    callback: StepCallback | None = None,
    disable: bool | None = None,
    *,
    settings: SamplerSettings | None = None,
    generator: torch.Generator | None = None,
    interpolant: str | Interpolant | None = None,
    stochastic: bool | None = None,
    diffusion: str | Diffusion | None = None,
    diffusion_scale: float | None = None,
    grid: str | None = None,
) -> torch.Tensor:
    """ComfyUI ``KSAMPLER`` sampler function: ``x`` is the noised latent at ``sigmas[0]``.

    ``model(x, sigma * s_in, **extra_args)`` is the denoiser; ``sigmas`` are model times
    (descending, may stop above 0 for split sampling). ``settings`` defaults to
    `SamplerSettings` with ``grid="sigmas"``, which maps each sigma to the interpolant's
    time at equal SNR; ``"uniform"``/``"adaptive"`` keep only the endpoints and the step
    count. Returns the latent at ``sigmas[-1]`` in model space. ``disable`` (ComfyUI's
    progress-bar flag) is accepted for the signature; progress is reported through
    ``callback``.
    """
    del disable
    extra = dict(extra_args or {})
    cfg = resolve_settings(
        settings, FLOW_SETTINGS, interpolant=interpolant, stochastic=stochastic,
        diffusion=diffusion, diffusion_scale=diffusion_scale, grid=grid,
    )  # fmt: skip
    path = cfg.path()
    s_grid = grid_from_sigmas(path, sigmas, cfg.grid)

    def denoiser(x_model: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return model(x_model, t, **extra)

    x_s = x * path.linear_scale(s_grid[0])
    x_s = integrate(
        PathDenoiser(denoiser, path), x_s, s_grid, cfg.diffusion_fn(), generator=generator,
        callback=callback,
    )  # fmt: skip
    return x_s / path.linear_scale(s_grid[-1])
