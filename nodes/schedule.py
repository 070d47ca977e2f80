"""Time schedules as ComfyUI SIGMAS: grids in an interpolant's own time -> model times.

Pure math behind the Time Schedule node (never imports ComfyUI). Steps:

1. a grid ``s_0 = 1 > s_1 > ... > s_N = 0`` of ``N = int(steps / denoise)`` steps in the
   interpolant's own time (``uniform``, or the RBF paper's ``adaptive`` grid
   ``s_k = sqrt(1 - (k/N)^2)``); ``denoise < 1`` keeps its last ``steps`` steps, exactly as
   ComfyUI's ``BasicScheduler`` does with its schedules;
2. each ``s_k`` becomes the linear-path time with the same signal-to-noise ratio,
   ``t_k = sigma(s_k) / (alpha(s_k) + sigma(s_k))`` (identity on the linear path);
3. optionally a model's time shift ``w`` (FLUX.1-dev: ``w(t) = e^mu / (e^mu + 1/t - 1)``;
   SD3 / Wan / ``ModelSamplingDiscreteFlow``: ``w(t) = shift t / (1 + (shift - 1) t)``),
   applied as ``t_k -> w(t_k)``. ``w`` is increasing with ``w(0) = 0`` and ``w(1) = 1``.

Model times follow ComfyUI's convention for flow models: t = 1 noise, t = 0 data.
"""

from __future__ import annotations

from collections.abc import Callable

from ..samplers import Interpolant, adaptive_grid, uniform_grid

SCHEDULE_GRIDS = ("adaptive", "uniform")


def interpolant_grid(grid: str, steps: int, denoise: float) -> list[float]:
    """The last ``steps`` steps (``steps + 1`` points) of a ``steps / denoise``-step grid."""
    if grid not in SCHEDULE_GRIDS:
        raise ValueError(f"grid must be one of {list(SCHEDULE_GRIDS)}; got {grid!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1; got {steps!r}")
    if not 0.0 < denoise <= 1.0:
        raise ValueError(f"denoise must be in (0, 1] (0 means: no sampling); got {denoise}")
    total = steps if denoise >= 1.0 else int(steps / denoise)
    points = (adaptive_grid if grid == "adaptive" else uniform_grid)(total)
    return points[-(steps + 1) :]


def schedule_model_times(
    interpolant: Interpolant,
    grid: str,
    steps: int,
    denoise: float = 1.0,
    shift: Callable[[float], float] | None = None,
) -> list[float]:
    """Model times ``w(t(s_k))`` for the grid (descending, last 0.0; float64 floats).

    ``shift`` is the model's time warp ``w`` (``None`` = identity).
    """
    times = [
        interpolant.linear_time(s) if s > 0.0 else 0.0
        for s in interpolant_grid(grid, steps, denoise)
    ]
    if shift is not None:
        times = [float(shift(t)) if 0.0 < t else 0.0 for t in times]
    if any(b >= a for a, b in zip(times, times[1:])):
        raise ValueError(
            f"the {grid} grid of {steps} steps (denoise {denoise}) gives repeated model times "
            f"{[round(t, 6) for t in times]}; use fewer steps"
        )
    return times
