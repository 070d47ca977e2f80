"""Behaviour of `sample` / `sample_flow`: determinism, dtypes, timesteps, equivalences."""

import pytest
import torch

from flowsearch.samplers import (
    SamplerSettings,
    forward_kernel,
    get_interpolant,
    sample,
    sample_flow,
)


def _noise(n=64, seed=0, dtype=torch.float32):
    return torch.randn(n, 2, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _gen(seed):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("interpolant", ["linear", "vp"])
def test_same_seed_bitwise_identical_and_different_seeds_differ(mixture, interpolant):
    kw = dict(steps=20, interpolant=interpolant)
    a = sample(mixture.denoiser(), _noise(), generator=_gen(7), **kw)
    b = sample(mixture.denoiser(), _noise(), generator=_gen(7), **kw)
    c = sample(mixture.denoiser(), _noise(), generator=_gen(8), **kw)
    assert torch.equal(a, b)
    assert (a - c).abs().max() > 1e-3


def test_zero_diffusion_sde_equals_the_ode(mixture):
    ode = sample(mixture.denoiser(), _noise(), steps=30, interpolant="vp", stochastic=False)
    for kw in ({"diffusion": "zero"}, {"diffusion": "square", "diffusion_scale": 0.0}):
        sde = sample(
            mixture.denoiser(), _noise(), steps=30, interpolant="vp", generator=_gen(1), **kw
        )
        assert torch.equal(ode, sde)


def test_linear_ode_last_step_lands_on_denoised(mixture):
    # On the linear path one Euler step from t to 0 is exactly x0_hat.
    x = _noise(dtype=torch.float64) * 0.5
    out = sample(
        mixture.denoiser(), x, steps=1, timesteps=torch.tensor([0.5, 0.0]), stochastic=False,
        interpolant="linear",
    )  # fmt: skip
    torch.testing.assert_close(out, mixture.denoise(0.5 * x, 0.5))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_output_dtype_follows_the_caller(mixture, dtype):
    out = sample(
        mixture.denoiser(), _noise(dtype=dtype), steps=8, generator=_gen(0),
        interpolant="linear", grid="uniform",
    )  # fmt: skip
    assert out.dtype == dtype and torch.isfinite(out).all()


def test_timesteps_override_steps_and_grid(mixture):
    ts = torch.linspace(1.0, 0.0, 11, dtype=torch.float64)
    a = sample(
        mixture.denoiser(), _noise(), steps=3, grid="adaptive", timesteps=ts, generator=_gen(2),
        interpolant="linear",
    )  # fmt: skip
    b = sample(
        mixture.denoiser(), _noise(), steps=10, grid="uniform", generator=_gen(2),
        interpolant="linear",
    )  # fmt: skip
    # same grid up to float64 rounding of 1 - k/10; float32 state
    torch.testing.assert_close(a, b, rtol=0, atol=1e-4)


def test_vp_timesteps_map_at_equal_snr(mixture):
    vp = get_interpolant("vp")
    s_grid = [1.0, 0.8, 0.5, 0.2, 0.0]
    ts = torch.tensor([vp.linear_time(s) for s in s_grid], dtype=torch.float64)
    calls = []

    def spy(x, t):
        calls.append(float(t[0]))
        return mixture.denoise(x, t)

    sample(spy, _noise(), steps=99, interpolant="vp", timesteps=ts, generator=_gen(0))
    assert calls == pytest.approx(ts[:-1].tolist(), rel=1e-6)  # t reaches the model in float32


def test_sample_flow_is_the_same_loop_as_sample(mixture):
    # ComfyUI passes x = sigma_0 * noise; model(x, sigma * s_in, **extra_args).
    sigmas = torch.linspace(1.0, 0.0, 13)
    seen = {}

    def model(x, sigma, **extra):
        seen.update(extra)
        return mixture.denoise(x, sigma)

    frames = []
    a = sample_flow(
        model, _noise(), sigmas, {"seed": 3}, callback=frames.append, generator=_gen(4),
        interpolant="linear",
    )  # fmt: skip
    b = sample(
        mixture.denoiser(), _noise(), steps=12, timesteps=sigmas, generator=_gen(4),
        interpolant="linear",
    )  # fmt: skip
    torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    assert seen == {"seed": 3}
    assert [f["i"] for f in frames] == list(range(12))
    assert set(frames[0]) >= {"x", "i", "sigma", "sigma_hat", "denoised"}


def test_sample_flow_split_sampling_and_paper_grid(mixture):
    # Stopping above 0 returns the model-space latent at sigmas[-1]; resuming finishes it.
    sigmas = torch.linspace(1.0, 0.0, 11)
    ode = SamplerSettings(interpolant="linear", stochastic=False, grid="sigmas")
    full = sample_flow(lambda x, t: mixture.denoise(x, t), _noise(), sigmas, settings=ode)
    half = sample_flow(lambda x, t: mixture.denoise(x, t), _noise(), sigmas[:6], settings=ode)
    rest = sample_flow(lambda x, t: mixture.denoise(x, t), half, sigmas[5:], settings=ode)
    torch.testing.assert_close(rest, full, rtol=1e-6, atol=1e-6)
    for interpolant in ("linear", "vp"):
        out = sample_flow(
            lambda x, t: mixture.denoise(x, t),
            _noise(),
            sigmas,
            interpolant=interpolant,
            grid="adaptive",
            generator=_gen(0),
        )
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("interpolant", ["linear", "vp"])
def test_forward_kernel_maps_marginals(mixture, interpolant):
    from stats import assert_matches

    path = get_interpolant(interpolant)
    g = _gen(11)
    for s, s2 in ((0.0, 0.4), (0.3, 0.8), (0.6, 0.95)):
        t = path.linear_time(s)
        # exact draw of p_s on the path: x_s = c(s) * x_t(s)
        x0 = mixture.sample(8000, g)
        x_s = path.linear_scale(s) * (
            (1 - t) * x0 + t * torch.randn(x0.shape, generator=g, dtype=torch.float64)
        )
        x_s2 = forward_kernel(
            x_s, s, s2, path, torch.randn(x_s.shape, generator=g, dtype=torch.float64)
        )
        assert_matches(
            x_s2,
            mixture.at_time(path.linear_time(s2)).scaled(path.linear_scale(s2)),
            ks=0.02,
            cov=0.06,
        )
