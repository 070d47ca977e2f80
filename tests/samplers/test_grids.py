import math

import pytest

from flowsearch.samplers import (
    adaptive_grid,
    get_interpolant,
    grid_from_model_times,
    make_grid,
    uniform_grid,
)


def test_uniform_grid():
    assert uniform_grid(4) == [1.0, 0.75, 0.5, 0.25, 0.0]


def test_adaptive_grid_is_the_papers_formula():
    m = 10
    grid = adaptive_grid(m)
    expected = [math.sqrt(1 - (1 - (1 - k / m)) ** 2) for k in range(m + 1)]
    assert grid == pytest.approx(expected, abs=1e-15)
    steps = [a - b for a, b in zip(grid, grid[1:])]
    assert steps == sorted(steps)  # small steps near noise, large near data
    assert grid[0] == 1.0 and grid[-1] == 0.0


def test_sub_interval_grids():
    g = adaptive_grid(5, start=0.8, end=0.2)
    assert g[0] == 0.8 and g[-1] == 0.2 and len(g) == 6
    assert make_grid(get_interpolant("linear"), steps=2, grid="uniform", start=0.5) == [
        0.5,
        0.25,
        0.0,
    ]


def test_model_times_map_to_equal_snr():
    vp = get_interpolant("vp")
    ts = [1.0, 0.9, 0.4, 0.0]
    grid = grid_from_model_times(vp, ts)
    assert grid[0] == 1.0 and grid[-1] == 0.0
    for t, s in zip(ts[1:], grid[1:]):
        assert vp.linear_time(s) == pytest.approx(t, rel=1e-12, abs=1e-15)
