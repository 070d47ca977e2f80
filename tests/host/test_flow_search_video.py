"""The Flow Search node on a video flow model end to end: a tiny Wan 2.1 text-to-video model
built from ComfyUI's own config, 5-D latents from ``EmptyHunyuanLatentVideo`` (the core node
Wan graphs use), a VAE with ComfyUI's Wan 2.1 VAE architecture decoding frames, and the
brightness verifier scoring each clip through ``score_clip``."""

from __future__ import annotations

import json

import pytest
import torch
from node_fixtures import pack_module, register_test_nodes
from search_graphs import FRAMES, method_node, outputs, video_graph


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


@pytest.mark.parametrize("method", ["bon", "rbf"])
def test_video_search_decodes_frames_and_scores_clips(comfy_host, run, method):
    out = run(video_graph(method_node(method), nfe_budget=16))
    o = outputs(out)
    report = json.loads(o["report"])
    item = report["items"][0]
    assert report["sampling"]["model"].startswith("WAN21_T2V")
    assert 0 < item["nfe"] <= 16
    assert o["best_latent"]["samples"].shape == (1, 16, 2, 8, 8)
    assert o["best_image"].shape == (FRAMES, 64, 64, 3)  # one clip, flattened to frames
    assert o["candidates"].shape == (FRAMES * len(item["rewards"]), 64, 64, 3)
    assert bool(torch.isfinite(o["candidates"]).all())
    # the reward of the best clip is score_clip over its sampled frames
    frames = pack_module(comfy_host, "verifiers.base").frame_indices(FRAMES)
    clip = o["best_image"]
    expected = float(clip[frames].reshape(len(frames), -1).mean(dim=1).mean())
    assert report["best_rewards"][0] == pytest.approx(expected, abs=1e-4)


def test_video_search_with_gradient_guidance(run):
    o = outputs(run(video_graph(method_node("dps", guidance_scale=5.0), nfe_budget=16)))
    report = json.loads(o["report"])
    assert report["items"][0]["nfe_backward"] > 0
    assert bool(torch.isfinite(o["best_image"]).all())
