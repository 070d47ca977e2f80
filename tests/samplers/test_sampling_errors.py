"""Bad input gets a ValueError naming the argument."""

import pytest
import torch

from flowsearch.samplers import forward_kernel, get_interpolant, sample, sample_flow

NOISE = torch.randn(4, 2)


def _ok(x, t):
    return x * (1 - t[:, None])


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"interpolant": "cosine"}, "interpolant"),
        ({"diffusion": "cubic"}, "diffusion"),
        ({"diffusion_scale": -1.0}, "diffusion_scale"),
        ({"diffusion_scale": float("nan")}, "diffusion_scale"),
        ({"grid": "karras"}, "grid"),
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"timesteps": torch.tensor([1.0, 0.5, 0.7, 0.0])}, "descending"),
        ({"timesteps": torch.tensor([1.5, 0.5, 0.0])}, r"\[0, 1\]"),
        ({"timesteps": torch.tensor([1.0, 0.5, -0.1])}, r"\[0, 1\]"),
        ({"timesteps": torch.tensor([1.0, 0.5])}, "end at 0"),
        ({"timesteps": torch.tensor([[1.0, 0.0]])}, "1-D"),
    ],
)
def test_bad_options(kwargs, match):
    kw = {"steps": 4, **kwargs}
    with pytest.raises(ValueError, match=match):
        sample(_ok, NOISE, **kw)


@pytest.mark.parametrize(
    "noise", [torch.zeros(0, 2), torch.tensor(1.0), torch.zeros(2, 2, dtype=torch.long), [0.0]]
)
def test_bad_noise(noise):
    with pytest.raises(ValueError, match="noise"):
        sample(_ok, noise, steps=2)


@pytest.mark.parametrize(
    "denoiser,match",
    [
        (lambda x, t: torch.full_like(x, float("nan")), "NaN"),
        (lambda x, t: x[:, :1], "shape"),
        (lambda x, t: x.numpy(), "torch.Tensor"),
    ],
)
def test_bad_denoiser_output(denoiser, match):
    with pytest.raises(ValueError, match=match):
        sample(denoiser, NOISE, steps=2)


def test_denoiser_must_be_callable():
    with pytest.raises(ValueError, match="denoiser"):
        sample("flux", NOISE, steps=2)


def test_vp_collapsing_sigmas_explain_the_fix():
    sigmas = torch.tensor([1.0, 0.999, 0.5, 0.0])
    with pytest.raises(ValueError, match="adaptive"):
        sample_flow(lambda x, t: x, NOISE, sigmas, interpolant="vp")


def test_forward_kernel_needs_a_noisier_target():
    with pytest.raises(ValueError, match="s_next > s"):
        forward_kernel(NOISE, 0.5, 0.3, get_interpolant("linear"), NOISE)
