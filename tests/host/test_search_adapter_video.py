"""The Flow Search adapter (`nodes/search_run.py`) on 5-D video latents ``[B, C, T, H, W]``.

The node end to end on a tiny Wan 2.1 is `test_flow_search_video.py`; this test drives the
adapter's KSAMPLER function directly, for two batch items, with an exact denoiser stub (data
~ N(0, I) on the linear path), a decode that turns each latent into a clip
``[N, T, H, W, 3]`` and a verifier that scores frames, which the reward adapter aggregates
per clip (`score_clip`, mean of sampled frames)."""

from __future__ import annotations

import pytest
import torch
from node_fixtures import brightness_verifier, pack_module


def stub_model(x: torch.Tensor, sigma: torch.Tensor, **extra) -> torch.Tensor:
    """Exact x0 estimate for N(0, I) data on the linear path, any particle batch, 5-D."""
    t = sigma.reshape(-1, *[1] * (x.ndim - 1)).to(x.dtype)
    return (1 - t) * x / ((1 - t) ** 2 + t**2)


def decode_clips(x0: torch.Tensor) -> torch.Tensor:
    """[N, C, T, h, w] -> clips [N, T, 2h, 2w, 3] in [0, 1]."""
    rgb = torch.sigmoid(x0[:, :3]).permute(0, 2, 3, 4, 1)  # [N, T, h, w, 3]
    return rgb.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)


@pytest.mark.parametrize("method", ["bon", "rbf", "smc"])
def test_video_latents_search_and_score_clips(comfy_host, pack_node_ids, method):
    run = pack_module(comfy_host, "nodes.search_run")
    methods = pack_module(comfy_host, "nodes.methods")
    samplers = pack_module(comfy_host, "samplers")
    verifiers = pack_module(comfy_host, "verifiers")
    options = samplers.METHODS[method][0]()
    settings = samplers.SamplerSettings(interpolant="linear", grid="sigmas")
    resolved = methods.ResolvedMethod(method, options, settings, 0.0, {"requested": "test"})
    reward = verifiers.reward_from_verifier(brightness_verifier(comfy_host), decode_clips, "")
    job = run.SearchJob(resolved, reward, nfe_budget=24, max_particles=4, items=2)
    seen = []
    job.sinks.append(lambda b, e: seen.append((b, e.kind, e.nfe_used)))
    x = torch.randn(2, 4, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    sigmas = torch.linspace(1.0, 0.0, 5)
    out = run.flow_search_function(stub_model, x, sigmas, {"seed": 3}, job=job)
    assert out.shape == x.shape and bool(torch.isfinite(out).all())
    for b, result in enumerate(job.results):
        assert result.nfe <= 24 and result.candidates.shape[1:] == x.shape[1:]
        clip = decode_clips(result.x0)[0]
        frames = pack_module(comfy_host, "verifiers.base").frame_indices(clip.shape[0])
        expected = float(clip[frames].reshape(len(frames), -1).mean(dim=1).mean())
        assert result.reward == pytest.approx(expected, abs=1e-5)
        torch.testing.assert_close(out[b : b + 1], result.x0.to(out.dtype))
    assert {b for b, _, _ in seen} == {0, 1} and seen[-1][1] == "done"
