"""The Time Schedule math: grids in the interpolant's time -> model times (host-free)."""

from __future__ import annotations

import math

import pytest

from flowsearch.nodes.schedule import interpolant_grid, schedule_model_times
from flowsearch.samplers import LinearInterpolant, VPInterpolant


def test_linear_adaptive_grid_is_the_papers_grid():
    times = schedule_model_times(LinearInterpolant(), "adaptive", 10)
    expected = [math.sqrt(1 - (k / 10) ** 2) for k in range(11)]
    assert times == pytest.approx(expected, abs=1e-15)
    assert times[0] == 1.0 and times[-1] == 0.0


def test_vp_times_are_snr_matched_and_invert_to_the_grid():
    vp = VPInterpolant()
    times = schedule_model_times(vp, "uniform", 8)
    grid = interpolant_grid("uniform", 8, 1.0)
    assert times[0] == pytest.approx(0.9934711772509035, abs=1e-12)  # t(s=1), alpha ~ 0.0066
    assert [vp.time_from_linear(t) for t in times] == pytest.approx(grid, abs=1e-9)


@pytest.mark.parametrize("grid", ["uniform", "adaptive"])
@pytest.mark.parametrize(("steps", "denoise"), [(4, 0.5), (10, 0.6), (3, 0.7)])
def test_denoise_keeps_the_tail_like_basic_scheduler(grid, steps, denoise):
    full = schedule_model_times(LinearInterpolant(), grid, int(steps / denoise))
    part = schedule_model_times(LinearInterpolant(), grid, steps, denoise)
    assert len(part) == steps + 1
    assert part == full[-(steps + 1) :]
    assert part[0] < 1.0


def test_shift_is_applied_to_model_times():
    mu = 1.15  # FLUX.1-dev's default ModelSamplingFlux shift
    flux_shift = lambda t: math.exp(mu) / (math.exp(mu) + (1 / t - 1))  # noqa: E731
    plain = schedule_model_times(LinearInterpolant(), "uniform", 4)
    shifted = schedule_model_times(LinearInterpolant(), "uniform", 4, shift=flux_shift)
    assert shifted[0] == 1.0 and shifted[-1] == 0.0
    assert shifted[1:-1] == pytest.approx([flux_shift(t) for t in plain[1:-1]])
    assert all(s > p for s, p in zip(shifted[1:-1], plain[1:-1]))  # shifted towards noise


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"grid": "karras"}, "grid must be one of"),
        ({"steps": 0}, "steps must be an integer >= 1"),
        ({"denoise": 0.0}, "denoise must be in"),
        ({"denoise": 1.5}, "denoise must be in"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    args = {"grid": "uniform", "steps": 4, "denoise": 1.0} | kwargs
    with pytest.raises(ValueError, match=message):
        schedule_model_times(LinearInterpolant(), **args)


def test_collapsing_grid_is_an_error_not_a_silent_repeat():
    with pytest.raises(ValueError, match="repeated model times"):
        schedule_model_times(LinearInterpolant(), "uniform", 4, shift=lambda t: min(1.0, 5 * t))


def test_denoise_close_to_one_is_the_full_grid_like_basic_scheduler():
    """``int(3 / 0.99) == 3``: BasicScheduler then returns the full schedule, and so do we."""
    assert schedule_model_times(LinearInterpolant(), "uniform", 3, 0.99)[0] == 1.0
