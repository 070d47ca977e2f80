"""The host harness itself: ComfyUI on the CPU, a sound tiny FLUX, graphs that run."""

from __future__ import annotations

import pytest
import torch
from comfy_host_harness import GraphError, sampling_prompt

EULER = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}}


def test_host_runs_on_cpu(comfy_host):
    import comfy.model_management as mm

    assert mm.get_torch_device().type == "cpu"
    assert comfy_host.version.count(".") == 2
    assert "SamplerCustomAdvanced" in comfy_host.nodes.NODE_CLASS_MAPPINGS
    # Only the audio nodes may fail (torchaudio is left out on purpose); anything else
    # failing means the boot order is wrong (e.g. `utils` shadowed by comfy/utils.py).
    assert all("audio" in name for name in comfy_host.extras_failed), comfy_host.extras_failed


def test_tiny_flux_is_a_flow_model_with_defined_weights(tiny_flux):
    import comfy.model_sampling

    model = tiny_flux.model
    sampling = model.model_sampling
    assert isinstance(sampling, comfy.model_sampling.CONST)
    assert float(sampling.sigma_max) == pytest.approx(1.0)
    params = list(model.diffusion_model.parameters())
    assert 100_000 < sum(p.numel() for p in params) < 1_000_000
    assert all(
        bool(torch.isfinite(p).all()) and float(p.detach().std()) > 0
        for p in params
        if p.numel() > 1
    )


def test_tiny_flux_denoiser_is_finite_and_depends_on_x_and_sigma(tiny_flux):
    from comfy_host_harness import tiny_conditioning

    context, extra = tiny_conditioning(1)[0]
    x = torch.randn(1, 16, 8, 8, generator=torch.Generator().manual_seed(0))

    def out(x, sigma):
        t = torch.tensor([sigma])
        return tiny_flux.model.apply_model(x, t, c_crossattn=context, y=extra["pooled_output"])

    with torch.no_grad():
        a, b, c = out(x, 0.5), out(x, 0.9), out(1.5 * x, 0.5)
    assert a.shape == x.shape and bool(torch.isfinite(a).all())
    assert float((a - b).abs().max()) > 1e-3
    assert float((a - c).abs().max()) > 1e-3


def test_euler_graph_runs_and_latent_shape(run_graph):
    out = run_graph(sampling_prompt(EULER, steps=4, size=64))
    latent = out["7"][0][0]["samples"]
    sigmas = out["5"][0][0]
    assert latent.shape == (1, 16, 8, 8)
    assert bool(torch.isfinite(latent).all())
    assert torch.allclose(sigmas, torch.tensor([1.0, 0.75, 0.5, 0.25, 0.0]))


def test_invalid_prompt_is_reported(run_graph):
    bad = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "no_such_sampler"}}
    with pytest.raises(GraphError, match="validation"):
        run_graph(sampling_prompt(bad))
