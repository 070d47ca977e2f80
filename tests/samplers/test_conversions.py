import pytest
import torch

from flowsearch.samplers import (
    PathDenoiser,
    VPInterpolant,
    eps_from_score,
    eps_from_x0,
    get_interpolant,
    score_from_eps,
    score_from_x0,
    velocity_from_x0,
    x0_from_eps,
    x0_from_score,
    x0_from_velocity,
)

PATHS = ["linear", "vp"]


def _state(seed=0, n=32):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 2, generator=g, dtype=torch.float64), torch.randn(
        n, 2, generator=g, dtype=torch.float64
    )


@pytest.mark.parametrize("name", PATHS)
@pytest.mark.parametrize("s", [0.1, 0.5, 0.9])
def test_round_trips(name, s):
    c = get_interpolant(name).coefficients(s)
    x0, eps = _state()
    x = c.alpha_t * x0 + c.sigma_t * eps
    torch.testing.assert_close(eps_from_x0(x, x0, c), eps)
    torch.testing.assert_close(x0_from_eps(x, eps, c), x0)
    u = velocity_from_x0(x, x0, c)
    torch.testing.assert_close(u, c.d_alpha_t * x0 + c.d_sigma_t * eps)
    torch.testing.assert_close(x0_from_velocity(x, u, c), x0)
    score = score_from_eps(eps, c)
    torch.testing.assert_close(eps_from_score(score, c), eps)
    torch.testing.assert_close(x0_from_score(x, score_from_x0(x, x0, c), c), x0)


def test_linear_path_formulas_of_the_design(mixture):
    # docs/sampling.md: u = (x - x0_hat) / t, eps_hat = (x - (1 - t) x0_hat) / t, score = -eps_hat / t.
    x, _ = _state(1)
    t = 0.37
    c = get_interpolant("linear").coefficients(t)
    x0 = mixture.denoise(x, t)
    # Our s-velocity points from data to noise (dx/ds); it equals (x - x0_hat) / t.
    torch.testing.assert_close(velocity_from_x0(x, x0, c), (x - x0) / t)
    torch.testing.assert_close(eps_from_x0(x, x0, c), (x - (1 - t) * x0) / t)


@pytest.mark.parametrize("s", [0.02, 0.3, 0.7, 1.0])
def test_converted_denoiser_equals_exact_posterior_on_vp_path(mixture, s):
    vp = VPInterpolant()
    c = vp.coefficients(s)
    x, _ = _state(2)
    x = x * 1.5
    converted = PathDenoiser(mixture.denoiser(), vp)(x, s)
    # The scaled linear denoiser at t(s) ...
    direct = mixture.denoise(x / vp.linear_scale(s), vp.linear_time(s))
    torch.testing.assert_close(converted, direct, rtol=0, atol=0)
    # ... is the exact posterior mean on the VP path itself.
    torch.testing.assert_close(
        converted, mixture.denoise_affine(x, c.alpha_t, c.sigma_t), rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize("name", PATHS)
@pytest.mark.parametrize("s", [0.05, 0.4, 0.9])
def test_score_from_denoiser_equals_exact_score(mixture, name, s):
    path = get_interpolant(name)
    c = path.coefficients(s)
    x, _ = _state(3)
    x0_hat = PathDenoiser(mixture.denoiser(), path)(x, s)
    exact = mixture.at_time(path.linear_time(s)).scaled(path.linear_scale(s)).score(x)
    torch.testing.assert_close(score_from_x0(x, x0_hat, c), exact, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", PATHS)
@pytest.mark.parametrize("g", [0.0, 0.7, 3.0])
def test_folded_euler_step_equals_the_sde_formula(name, g):
    # x' = x - h (u - g^2/2 score) + g sqrt(h) z, written out with the named conversions.
    from flowsearch.samplers import euler_step

    path = get_interpolant(name)
    s, s_next = 0.6, 0.55
    c = path.coefficients(s)
    x0, eps = _state(5)
    x = c.alpha_t * x0 + c.sigma_t * eps
    x0_hat = x0 + 0.1 * eps
    z = torch.randn(x.shape, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    h = s - s_next
    drift = velocity_from_x0(x, x0_hat, c) - 0.5 * g * g * score_from_x0(x, x0_hat, c)
    expected = x - h * drift + g * h**0.5 * z
    torch.testing.assert_close(
        euler_step(x, x0_hat, s, s_next, path, g, z), expected, rtol=1e-12, atol=1e-12
    )
