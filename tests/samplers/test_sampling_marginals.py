"""The samplers reproduce the exact Gaussian-mixture law, at the end and along the way."""

import pytest
import torch

from flowsearch.samplers import (
    PathDenoiser,
    get_diffusion,
    get_interpolant,
    integrate,
    make_grid,
    sample,
)

from stats import assert_matches

N, STEPS = 8000, 150

# (interpolant, diffusion family, scale): ODEs, the paper's g = 3 s^2, and other families.
CASES = [
    ("linear", "zero", 0.0),
    ("vp", "zero", 0.0),
    ("linear", "square", 3.0),
    ("linear", "sigma", 1.0),
    ("vp", "square", 3.0),
    ("vp", "constant", 1.0),
]


def _noise(seed=0):
    return torch.randn(N, 2, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("interpolant", ["linear", "vp"])
def test_ode_reproduces_the_mixture(mixture, interpolant):
    x = sample(
        mixture.denoiser(), _noise(), steps=STEPS, interpolant=interpolant, stochastic=False,
        grid="uniform",
    )  # fmt: skip
    assert_matches(x, mixture)


@pytest.mark.parametrize("interpolant,family,scale", CASES[2:])
def test_sde_reproduces_intermediate_marginals(mixture, interpolant, family, scale):
    path = get_interpolant(interpolant)
    grid = make_grid(path, steps=STEPS, grid="uniform")
    caught: dict[float, torch.Tensor] = {}

    def keep(d):
        if d["i"] in (30, 75, 120):  # t ~ 0.8 / 0.5 / 0.2 on the linear path
            caught[d["sigma"]] = d["x"].clone()

    x1 = path.coefficients(grid[0]).sigma_t * _noise()
    x = integrate(
        PathDenoiser(mixture.denoiser(), path),
        x1,
        grid,
        get_diffusion(family, scale),
        generator=torch.Generator().manual_seed(1),
        callback=keep,
    )
    assert len(caught) == 3
    for t, xt in caught.items():
        assert_matches(xt, mixture.at_time(t))  # callback states are in model (linear) space
    assert_matches(x, mixture)


def test_vp_state_is_scaled_linear_state(mixture):
    # On the VP path the raw state x_s follows c(s) * p_{t(s)}; check it before conversion.
    path = get_interpolant("vp")
    grid = make_grid(path, steps=STEPS, grid="uniform")
    s = grid[60]
    part = integrate(
        PathDenoiser(mixture.denoiser(), path),
        path.coefficients(1.0).sigma_t * _noise(4),
        grid[:61],
        get_diffusion("square"),
        generator=torch.Generator().manual_seed(5),
    )
    assert_matches(part, mixture.at_time(path.linear_time(s)).scaled(path.linear_scale(s)))


def test_too_few_ode_steps_is_detectably_wrong(mixture):
    # Guards the statistics themselves: 2 Euler steps collapse modes; the check must notice.
    x = sample(
        mixture.denoiser(),
        _noise(),
        steps=2,
        stochastic=False,
        interpolant="linear",
        grid="uniform",
    )
    with pytest.raises(AssertionError):
        assert_matches(x, mixture)


def test_paper_adaptive_grid_keeps_mode_weights(mixture):
    # The paper's grid ends with a coarse step (sqrt(2/M)), so the finest details shrink a
    # little; mode weights and the mean must still be right.
    x = sample(
        mixture.denoiser(),
        _noise(),
        steps=100,
        interpolant="vp",
        grid="adaptive",
        generator=torch.Generator().manual_seed(0),
    )
    assert (mixture.responsibilities(x).mean(0) - mixture.weights).abs().max() < 0.02
    assert (x.double().mean(0) - mixture.mean()).abs().max() < 0.05
