"""Start states from a latent, the settings record, seeds, and no autograd graph."""

import json

import pytest
import torch

from flowsearch.samplers import (
    SamplerSettings,
    VPInterpolant,
    generator_from_seed,
    get_interpolant,
    sample,
    start_state,
)

from stats import assert_matches


@pytest.mark.parametrize("interpolant", ["linear", "vp"])
def test_start_from_a_latent_at_t0_is_the_exact_forward_law(mixture, interpolant):
    # x0 ~ data, x_{s0} = alpha(s0) x0 + sigma(s0) eps is exactly p_{s0}: on the model's
    # path that is the mixture's marginal at t0 = 0.6, scaled by c(s0).
    path, g = get_interpolant(interpolant), torch.Generator().manual_seed(0)
    s0 = path.time_from_linear(0.6)
    x0 = mixture.sample(8000, g)
    x = start_state(path.coefficients(s0), torch.randn(x0.shape, generator=g, dtype=x0.dtype), x0)
    assert_matches(x, mixture.at_time(0.6).scaled(path.linear_scale(s0)), ks=0.02)


def test_sampling_from_latents_at_t0_ends_on_the_data_law(mixture):
    # Exact start at t0 = 0.6, then the same-marginal SDE down to 0: the mixture again.
    g = torch.Generator().manual_seed(1)
    x0 = mixture.sample(8000, g)
    out = sample(
        mixture.denoiser(), torch.randn(x0.shape, generator=g, dtype=torch.float64),
        latent=x0, timesteps=torch.linspace(0.6, 0.0, 101), interpolant="linear",
        generator=torch.Generator().manual_seed(2),
    )  # fmt: skip
    assert_matches(out, mixture)


def test_start_state_without_a_latent_is_the_pure_noise_state():
    c = VPInterpolant().coefficients(0.7)
    noise = torch.randn(5, 3)
    assert torch.equal(start_state(c, noise), c.sigma_t * noise)
    lat = torch.ones(1, 3, dtype=torch.float64)
    out = start_state(c, noise, lat)
    assert out.dtype == noise.dtype
    torch.testing.assert_close(out, c.alpha_t + c.sigma_t * noise)


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"interpolant": "cosine"}, "settings.interpolant"),
        ({"stochastic": "yes"}, "settings.stochastic"),
        ({"diffusion": "brownian"}, "settings.diffusion"),
        ({"diffusion_scale": -1.0}, "settings.diffusion_scale"),
        ({"diffusion_scale": float("inf")}, "settings.diffusion_scale"),
        ({"grid": "cosine"}, "settings.grid"),
        ({"interpolant": "linear", "beta_max": 10.0}, "beta_min/beta_max apply"),
        ({"beta_min": 5.0, "beta_max": 1.0}, "beta_min < beta_max"),
    ],
)
def test_settings_validation_names_the_field(kw, field):
    with pytest.raises(ValueError, match=field):
        SamplerSettings(**kw)


def test_settings_objects_and_json():
    s = SamplerSettings(beta_min=0.2, beta_max=10.0)
    assert s.path() == VPInterpolant(0.2, 10.0) and s.diffusion_fn()(0.5, s.path()) == 0.75
    assert SamplerSettings(stochastic=False).diffusion_fn().is_zero
    assert json.loads(json.dumps(s.to_json())) == {
        "interpolant": "vp", "stochastic": True, "diffusion": "square", "diffusion_scale": 3.0,
        "grid": "adaptive", "beta_min": 0.2, "beta_max": 10.0,
    }  # fmt: skip
    obj = SamplerSettings(interpolant=VPInterpolant(0.3, 12.0))
    assert obj.path() == VPInterpolant(0.3, 12.0) and obj.to_json()["beta_min"] == 0.3


def test_sample_takes_the_record_or_the_old_keywords(mixture):
    noise = torch.randn(32, 2, generator=torch.Generator().manual_seed(0))
    rec = SamplerSettings(
        interpolant="linear", grid="uniform", diffusion="sigma", diffusion_scale=1.0
    )
    a = sample(mixture.denoiser(), noise, steps=8, settings=rec, generator=generator_from_seed(1))
    b = sample(
        mixture.denoiser(), noise, steps=8, interpolant="linear", grid="uniform",
        diffusion="sigma", diffusion_scale=1.0, generator=generator_from_seed(1),
    )  # fmt: skip
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="given twice"):
        sample(mixture.denoiser(), noise, steps=8, settings=rec, grid="adaptive")


def test_generator_from_seed_is_the_salted_seed():
    salt = 0x9E37_79B9_7F4A_7C15
    for seed in (0, 1, 2**40 + 7, -3):
        expect = torch.Generator().manual_seed((seed ^ salt) & (2**64 - 1))
        assert torch.equal(
            torch.randn(4, generator=generator_from_seed(seed, salt)),
            torch.randn(4, generator=expect),
        )
    assert generator_from_seed(5).device.type == "cpu"
    assert torch.equal(
        torch.rand(3, generator=generator_from_seed(5)),
        torch.rand(3, generator=torch.Generator().manual_seed(5)),
    )
    for bad in (1.5, "3", True, None):
        with pytest.raises(ValueError, match="seed must be an integer"):
            generator_from_seed(bad)


def test_plain_sampling_keeps_no_autograd_graph():
    net = torch.nn.Linear(2, 2)  # parameters require grad: a graph would be built without no_grad

    def denoiser(x, t):
        return net(x) * (1 - t)[:, None]

    out = sample(denoiser, torch.randn(8, 2), steps=4, generator=generator_from_seed(0))
    assert not out.requires_grad and out.grad_fn is None
