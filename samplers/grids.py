"""Time grids: descending sequences of interpolant times ``s_0 > s_1 > ... > s_M``.

A grid of ``M`` steps has ``M + 1`` points and costs ``M`` denoiser calls per particle.

- ``uniform``:  equal steps in the interpolant's own time.
- ``adaptive``: the RBF paper's grid ``s_k = sqrt(1 - (1 - tau_k)^2)``, ``tau_k = 1 - k/M``:
  small steps near noise, large steps near data.
- explicit model times ``t_k`` (ComfyUI SIGMAS, linear-path time, t=1 noise): mapped to the
  interpolant's own time at equal signal-to-noise ratio, ``s_k = t^{-1}(t_k)``.

Grids are Python float lists (float64, see the precision policy in `interpolants`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .interpolants import Interpolant

GRIDS = ("uniform", "adaptive")


def _check_steps(steps: int) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}")
    return steps


def uniform_grid(steps: int, start: float = 1.0, end: float = 0.0) -> list[float]:
    """``s_k = start + (end - start) k / M``."""
    m = _check_steps(steps)
    return [start + (end - start) * k / m for k in range(m)] + [end]


def adaptive_grid(steps: int, start: float = 1.0, end: float = 0.0) -> list[float]:
    """Paper grid on ``[end, start]``: ``s_k = end + (start - end) sqrt(1 - (1 - tau_k)^2)``."""
    m = _check_steps(steps)
    pts = []
    for k in range(m + 1):
        tau = 1.0 - k / m
        pts.append(end + (start - end) * math.sqrt(max(0.0, 1.0 - (1.0 - tau) ** 2)))
    pts[0], pts[-1] = start, end
    return pts


def _show(values: Sequence[float]) -> str:
    """A short rendering of a list of times for error messages."""
    vals = [f"{v:.4g}" for v in values]
    if len(vals) > 8:
        vals = vals[:4] + ["..."] + vals[-3:]
    return f"[{', '.join(vals)}] ({len(values)} values)"


def check_model_times(
    timesteps: torch.Tensor | Sequence[float], *, must_end_at_zero: bool, name: str = "timesteps"
) -> list[float]:
    """Validate model times (t=1 noise): 1-D, in ``[0, 1]``, strictly descending, >= 2 points.

    ``name`` is how the caller's user knows the input (``"sigmas"`` in ComfyUI)."""
    ts = torch.as_tensor(timesteps, dtype=torch.float64).detach().cpu()
    if ts.ndim != 1 or ts.numel() < 2:
        raise ValueError(
            f"{name} must be a 1-D tensor with >= 2 model times; got shape {tuple(ts.shape)}"
        )
    values = ts.tolist()
    if not bool(torch.isfinite(ts).all()) or float(ts.min()) < 0.0 or float(ts.max()) > 1.0:
        raise ValueError(
            f"{name} must lie in [0, 1] (t=1 noise, a flow model's sigmas); got {_show(values)}"
        )
    if not bool((ts[1:] < ts[:-1]).all()):
        raise ValueError(f"{name} must be strictly descending; got {_show(values)}")
    if must_end_at_zero and values[-1] != 0.0:
        raise ValueError(f"{name} must end at 0 (clean data); got last value {values[-1]}")
    return values


def grid_from_model_times(interpolant: Interpolant, timesteps: Sequence[float]) -> list[float]:
    """Map model times ``t_k`` to interpolant times with the same SNR; repeated s are an error."""
    grid = [interpolant.time_from_linear(t) for t in timesteps]
    if any(b >= a for a, b in zip(grid, grid[1:])):
        raise ValueError(
            f"model times {_show(list(timesteps))} collapse on the {interpolant.name} path (times above "
            f"t={interpolant.linear_time(1.0):.4f} all map to s=1); use the paper's grid (grid='adaptive') or fewer steps"
        )
    return grid


def make_grid(
    interpolant: Interpolant,
    *,
    steps: int | None = None,
    grid: str = "uniform",
    timesteps: torch.Tensor | Sequence[float] | None = None,
    start: float = 1.0,
    end: float = 0.0,
    must_end_at_zero: bool = True,
) -> list[float]:
    """One grid from either explicit model ``timesteps`` or (``steps``, ``grid`` name).

    Explicit ``timesteps`` win over ``grid``; they must end at 0 unless
    ``must_end_at_zero=False`` (split sampling: the integration stops at the last time)."""
    if timesteps is not None:
        ts = check_model_times(timesteps, must_end_at_zero=must_end_at_zero)
        return grid_from_model_times(interpolant, ts)
    if grid == "uniform":
        return uniform_grid(steps, start, end)
    if grid == "adaptive":
        return adaptive_grid(steps, start, end)
    if grid == "sigmas":
        raise ValueError(
            "grid='sigmas' uses the given model times: pass timesteps=, or pick a named grid"
        )
    raise ValueError(f"grid must be one of {list(GRIDS)}; got {grid!r}")


def grid_from_sigmas(interpolant: Interpolant, sigmas: torch.Tensor, grid: str) -> list[float]:
    """The grid of a ComfyUI sampler function: ``"sigmas"`` maps every sigma at equal SNR;
    ``"uniform"``/``"adaptive"`` keep only the endpoints and the step count. ``sigmas`` are
    descending model times and may stop above 0 (split sampling)."""
    ts = check_model_times(sigmas, must_end_at_zero=False, name="sigmas")
    if grid == "sigmas":
        return grid_from_model_times(interpolant, ts)
    if grid not in GRIDS:
        raise ValueError(f"grid must be one of {['sigmas', *GRIDS]}; got {grid!r}")
    start, end = interpolant.time_from_linear(ts[0]), interpolant.time_from_linear(ts[-1])
    return make_grid(interpolant, steps=len(ts) - 1, grid=grid, start=start, end=end)
