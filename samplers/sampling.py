"""Stochastic (or deterministic) sampling of a flow model on any affine interpolant.

Three layers, one loop:

- `integrate`: the loop over a grid of interpolant times, state in path space.
- `sample`: the Python API (noise in, sample out).
- `sample_flow`: the same loop behind ComfyUI's ``KSAMPLER`` sampler-function signature
  ``fn(model, x, sigmas, extra_args, callback, disable, **options)``; pure torch, the node
  layer only wraps it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .denoiser import Denoiser, PathDenoiser
from .diffusion import Diffusion, get_diffusion
from .grids import GRIDS, check_model_times, grid_from_model_times, make_grid
from .interpolants import Interpolant, get_interpolant
from .steps import euler_step

StepCallback = Callable[[dict[str, Any]], None]

#: Grid choices of `sample_flow`: the given sigmas mapped at equal SNR, or a named grid.
SAMPLE_FLOW_GRIDS = ("sigmas", *GRIDS)


def randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Standard normal shaped like ``x``, drawn on the generator's device (so a CPU generator
    gives the same numbers whatever device ``x`` is on), in at least float32."""
    dtype = torch.promote_types(x.dtype, torch.float32)
    device = generator.device if generator is not None else x.device
    z = torch.randn(x.shape, generator=generator, device=device, dtype=dtype)
    return z.to(x.device)


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


def sample(
    denoiser: Denoiser,
    noise: torch.Tensor,
    *,
    steps: int,
    interpolant: str | Interpolant = "linear",
    stochastic: bool = True,
    diffusion: str | Diffusion = "square",
    diffusion_scale: float = 3.0,
    grid: str = "uniform",
    generator: torch.Generator | None = None,
    timesteps: torch.Tensor | Sequence[float] | None = None,
) -> torch.Tensor:
    """Draw samples from a linear-path flow model, optionally via another path and an SDE.

    ``denoiser(x, t) -> x0_hat``: ``x`` ``[B, ...]`` in the model's linear-path space, ``t``
    ``[B]`` model time in [0, 1] (t=1 noise). ``noise``: standard normal ``[B, ...]``.
    The start state is the pure-noise state ``x_{t0} = t0 * noise`` at the first model time
    (ComfyUI's empty-latent convention), i.e. ``x_{s0} = sigma(s0) * noise`` on the path.
    ``grid`` (``"uniform"``/``"adaptive"``, ``steps`` steps on ``s in [1, 0]``) is replaced
    by ``timesteps`` (descending model times ending at 0) when given. ``stochastic=False``
    or ``diffusion="zero"`` integrates the ODE. Returns the sample ``[B, ...]`` in the
    caller's dtype; the same ``generator`` seed gives a bitwise identical result.
    """
    noise = _check_noise(noise)
    path = get_interpolant(interpolant)
    g = get_diffusion(diffusion, diffusion_scale, stochastic=stochastic)
    s_grid = make_grid(path, steps=steps, grid=grid, timesteps=timesteps)
    x = path.coefficients(s_grid[0]).sigma_t * noise
    return integrate(PathDenoiser(denoiser, path), x, s_grid, g, generator=generator)


def sample_flow(
    model: Callable[..., torch.Tensor],
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict[str, Any] | None = None,
    callback: StepCallback | None = None,
    disable: bool | None = None,
    *,
    interpolant: str | Interpolant = "linear",
    stochastic: bool = True,
    diffusion: str | Diffusion = "square",
    diffusion_scale: float = 3.0,
    grid: str = "sigmas",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ComfyUI ``KSAMPLER`` sampler function: ``x`` is the noised latent at ``sigmas[0]``.

    ``model(x, sigma * s_in, **extra_args)`` is the denoiser; ``sigmas`` are model times
    (descending, may stop above 0 for split sampling). ``grid="sigmas"`` maps each sigma to
    the interpolant's time at equal SNR; ``"uniform"``/``"adaptive"`` keep only the
    endpoints and the step count. Returns the latent at ``sigmas[-1]`` in model space.
    ``disable`` (ComfyUI's progress-bar flag) is accepted for the signature; progress is
    reported through ``callback``.
    """
    del disable
    extra = dict(extra_args or {})
    path = get_interpolant(interpolant)
    g = get_diffusion(diffusion, diffusion_scale, stochastic=stochastic)
    if grid not in SAMPLE_FLOW_GRIDS:
        raise ValueError(f"grid must be one of {list(SAMPLE_FLOW_GRIDS)}; got {grid!r}")
    ts = check_model_times(sigmas, must_end_at_zero=False, name="sigmas")
    if grid == "sigmas":
        s_grid = grid_from_model_times(path, ts)
    else:
        start, end = path.time_from_linear(ts[0]), path.time_from_linear(ts[-1])
        s_grid = make_grid(path, steps=len(ts) - 1, grid=grid, start=start, end=end)

    def denoiser(x_model: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return model(x_model, t, **extra)

    x_s = x * path.linear_scale(s_grid[0])
    x_s = integrate(
        PathDenoiser(denoiser, path), x_s, s_grid, g, generator=generator, callback=callback
    )
    return x_s / path.linear_scale(s_grid[-1])
