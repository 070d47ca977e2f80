"""ComfyUI's model management around the reward decodes of a Flow Search.

Measured on this CPU host: every reward decode calls ``load_models_gpu`` for the VAE once
(~5 ms), and ComfyUI 0.3.64 never frees memory for a CPU-device load, so the diffusion
model is never evicted here. On a GPU too small for both, ``free_memory`` may partially
unload the diffusion model in use for the VAE (``LoadedModel.model_unload(memory_to_free)``);
the test below does exactly that during the search and checks the search goes on unchanged
and the report says what was evicted.
"""

from __future__ import annotations

import json

import pytest
import torch
from node_fixtures import register_test_nodes
from search_graphs import flow_search_graph, method_node, outputs


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


def loaded_flux(mm):
    """The diffusion model loaded last (the one sampling now): ``load_models_gpu`` puts it
    first in ``current_loaded_models``."""
    return next(m for m in mm.current_loaded_models if type(m.model.model).__name__ == "Flux")


def test_reward_decodes_load_only_the_vae_and_keep_the_model(run, monkeypatch):
    import comfy.model_management as mm

    requested = []
    real = mm.load_models_gpu

    def load(models, *args, **kwargs):
        requested.append([type(m.model).__name__ for m in models])
        return real(models, *args, **kwargs)

    monkeypatch.setattr(mm, "load_models_gpu", load)
    report = json.loads(outputs(run(flow_search_graph(method=method_node("rbf"))))["report"])
    decodes = report["memory"]["reward_decodes"]
    assert decodes > 1 and requested.count(["Flux"]) == 1  # once, when sampling starts
    assert requested.count(["TAESD"]) == decodes  # the reward VAE, once per decode
    assert report["memory"]["diffusion_model_evictions_by_decode"] == 0


def test_a_decode_that_evicts_part_of_the_diffusion_model(run, monkeypatch):
    import comfy.model_management as mm
    import comfy.sd

    graph = flow_search_graph(method=method_node("rbf"), nfe_budget=24)
    undisturbed = outputs(run(graph))
    real = comfy.sd.VAE.decode
    evicted = []

    def decode(self, samples, *args, **kwargs):
        if not evicted:  # what free_memory does for a VAE that does not fit beside the model
            flux = loaded_flux(mm)
            before = flux.model.loaded_size()
            assert before > 0 and flux.model_unload(memory_to_free=before // 2) is False
            evicted.append(before - flux.model.loaded_size())
        return real(self, samples, *args, **kwargs)

    monkeypatch.setattr(comfy.sd.VAE, "decode", decode)
    disturbed = outputs(run(graph))
    memory = json.loads(disturbed["report"])["memory"]
    assert evicted[0] > 0 and memory["diffusion_model_evictions_by_decode"] == 1
    assert memory["diffusion_model_bytes_evicted_by_decode"] == evicted[0]
    # the evicted weights stream from the offload device: the same samples, bitwise
    assert torch.equal(disturbed["best_latent"]["samples"], undisturbed["best_latent"]["samples"])


def test_the_cheap_vae_decodes_the_rewards_and_the_main_vae_the_outputs(run, monkeypatch):
    import comfy.sd

    decoded = []
    real = comfy.sd.VAE.decode

    def decode(self, samples, *args, **kwargs):
        decoded.append((self, int(samples.shape[0])))
        return real(self, samples, *args, **kwargs)

    monkeypatch.setattr(comfy.sd.VAE, "decode", decode)
    extra = {"cheap": {"class_type": "VAELoader", "inputs": {"vae_name": "taef1"}}}
    graph = flow_search_graph(
        method=method_node("svdd", children=2), nfe_budget=28, cheap_vae=["cheap", 0], extra=extra
    )
    out = run(graph)
    cheap, main = out["cheap"][0][0], out["vae"][0][0]
    report = json.loads(outputs(out)["report"])
    assert {vae for vae, _ in decoded} == {cheap, main}
    assert sum(1 for vae, _ in decoded if vae is cheap) == report["memory"]["reward_decodes"]
    candidates = len(report["items"][0]["rewards"])
    assert sum(n for vae, n in decoded if vae is main) == 1 + candidates  # best + candidates
    assert report["memory"]["output_images_reused_from_reward_decodes"] == 0
