"""Gradient guidance (DPS, or ``guidance_scale`` > 0 on any method) through ComfyUI's FLUX.

ComfyUI's FLUX adds in place into tensors autograd saved for the backward pass; the node
runs each guided evaluation inside torch's ``allow_mutation_on_saved_tensors`` (and only
those). The verifier is the differentiable brightness of the decoded image, so "uphill" is
visible: a guided search ends brighter than the unguided one of the same seed and NFE.
"""

from __future__ import annotations

import json
import math
import statistics

import pytest
import torch
from comfy_host_harness import GraphError
from node_fixtures import Executor, pack_module, register_test_nodes
from search_graphs import FS, flow_search_graph, method_node, outputs, video_graph

from flowsearch.samplers import SamplerSettings
from flowsearch.samplers.particle_search.guidance import MIN_ALPHA

SCALE = 5.0  # brightness gradients are small: 1/beta = 5 moves the tiny model visibly


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


@pytest.fixture
def contexts(monkeypatch):
    """Counts ``allow_mutation_on_saved_tensors`` contexts opened (the real one runs)."""
    real = torch.autograd.graph.allow_mutation_on_saved_tensors
    opened = []

    def counting():
        opened.append(1)
        return real()

    monkeypatch.setattr(torch.autograd.graph, "allow_mutation_on_saved_tensors", counting)
    return opened


def search(run, method: dict, **kwargs) -> tuple[dict, dict]:
    o = outputs(run(flow_search_graph(method=method, **kwargs)))
    return o, json.loads(o["report"])


def guided_rows(report: dict) -> int:
    """Particles evaluated where the core guides (``alpha(s) >= MIN_ALPHA``, below s = 1)."""
    settings = dict(report["settings"])
    path = SamplerSettings(**settings).path()
    return sum(
        step["nfe"]
        for step in report["items"][0]["trace"]
        if 0 < step["s"] and path.coefficients(step["s"]).alpha_t >= MIN_ALPHA
    )


def all_finite(o: dict) -> bool:
    return all(
        bool(torch.isfinite(t).all())
        for t in (o["best_latent"]["samples"], o["best_image"], o["candidates"])
    )


def test_guided_dps_runs_through_comfyuis_flux(run, contexts):
    guided, report = search(run, method_node("dps", guidance_scale=SCALE), nfe_budget=32)
    assert all_finite(guided)
    item = report["items"][0]
    assert report["method"] == "dps" and report["guidance_scale"] == SCALE
    assert report["nfe"]["used"] == item["nfe"] == 32  # 8 trajectories x 4 steps
    assert item["nfe_backward"] == guided_rows(report) > 0
    assert len(contexts) == item["nfe_backward"] // 8  # one context per guided model call
    plain, _ = search(run, method_node("bon"), nfe_budget=32)
    assert not torch.equal(guided["best_latent"]["samples"], plain["best_latent"]["samples"])
    assert len(contexts) == item["nfe_backward"] // 8  # the unguided search opened none


def test_guided_svdd_and_rbf_run_through_comfyuis_flux(run, contexts):
    for name, options in (("svdd", {"children": 2}), ("rbf", {"proposal_batch": 2})):
        guided, report = search(run, method_node(name, guidance_scale=SCALE, **options))
        plain, plain_report = search(run, method_node(name, **options))
        item = report["items"][0]
        assert all_finite(guided) and item["nfe"] <= 16
        assert item["nfe_backward"] > 0 and plain_report["items"][0]["nfe_backward"] == 0
        assert not torch.equal(guided["best_latent"]["samples"], plain["best_latent"]["samples"])
        t = report["timings"]
        assert t["model"] > 0 and t["decode"] > 0
    assert contexts  # guided evaluations happened inside the context


def test_guided_chunks_each_get_their_own_context(run, contexts):
    _, report = search(
        run, method_node("dps", guidance_scale=SCALE), nfe_budget=32, max_particles=3
    )
    backward = report["items"][0]["nfe_backward"]
    assert backward == 8 and len(contexts) == math.ceil(8 / 3)  # chunks of 3, 3, 2


def test_the_gradient_points_uphill(run):
    """Brightness reward, 8 trajectories x 4 steps, seeds 0-2: DPS ends brighter than
    best-of-N with the same seed and NFE, for every seed. Measured: +0.0097 mean reward of
    the final candidates per seed (seed-to-seed spread of a method ~0.003); SVDD +0.010."""
    gains = {"dps": [], "svdd": []}
    for seed in range(3):
        for name, guided_node, plain_node in (
            ("dps", method_node("dps", guidance_scale=SCALE), method_node("bon")),
            ("svdd", method_node("svdd", guidance_scale=SCALE), method_node("svdd")),
        ):
            _, g = search(run, guided_node, nfe_budget=32, seed=seed)
            _, p = search(run, plain_node, nfe_budget=32, seed=seed)
            assert g["items"][0]["nfe"] == p["items"][0]["nfe"]  # equal NFE
            mean_gain = statistics.mean(g["items"][0]["rewards"]) - statistics.mean(
                p["items"][0]["rewards"]
            )
            assert mean_gain > 0 and g["best_rewards"][0] > p["best_rewards"][0], (name, seed)
            gains[name].append(mean_gain)
    assert statistics.mean(gains["dps"]) > 0.005 and statistics.mean(gains["svdd"]) > 0.005


@pytest.mark.parametrize(
    ("mode", "error", "reason"),
    [
        ("no_grad", ValueError, "output has no gradient"),
        ("no_backward", RuntimeError, "backward"),
    ],
)
def test_a_model_autograd_cannot_differentiate_fails_with_the_fix(run, mode, error, reason):
    graph = flow_search_graph(
        method=method_node("dps", guidance_scale=1.0),
        nfe_budget=8,
        extra={
            "undiff": {
                "class_type": "FlowSearchTest_Undifferentiable",
                "inputs": {"model": ["unet", 0], "mode": mode},
            }
        },
    )
    graph["guider"]["inputs"]["model"] = ["undiff", 0]
    with pytest.raises(GraphError) as info:
        run(graph)
    (details,) = info.value.details
    message = details["exception_message"]
    assert details["exception_type"] == error.__name__
    assert "gradient guidance" in message and reason in message
    assert "guidance_scale" in message and "method node" in message
    # the same model searches fine without guidance
    graph["method"] = method_node("bon")
    assert outputs(run(graph))["best_image"].shape == (1, 64, 64, 3)


def test_guided_search_same_seed_same_image_bitwise(run):
    graph = flow_search_graph(method=method_node("dps", guidance_scale=SCALE), nfe_budget=16)
    a, b = outputs(run(graph)), outputs(run(graph))
    assert torch.equal(a["best_image"], b["best_image"])
    assert torch.equal(a["best_latent"]["samples"], b["best_latent"]["samples"])


def test_cancel_inside_a_guided_evaluation_then_the_next_guided_prompt_runs(comfy_host, run):
    """The verifier raises ComfyUI's interrupt flag inside the first guided evaluation
    (between its forward and its backward): the search stops, the node raises the
    interruption, no context is left open, and the same guided prompt then runs."""
    import comfy.model_management

    ex = Executor(comfy_host)
    graph = flow_search_graph(method=method_node("dps", guidance_scale=SCALE), nfe_budget=32)
    graph["verifier"]["inputs"]["interrupt_after"] = 1
    ok, out, msgs = ex.run(graph)
    assert not ok and any(ev == "execution_interrupted" for ev, _ in msgs)
    assert out[FS] is None and not comfy.model_management.processing_interrupted()
    graph["verifier"]["inputs"]["interrupt_after"] = 0
    ok, out, _ = ex.run(graph)
    report = json.loads(out[FS][3][0])
    assert ok and report["nfe"]["used"] == 32 and report["items"][0]["nfe_backward"] > 0


def test_a_guided_search_changes_no_input(comfy_host):
    """The guided run swaps ComfyUI's inference-tensor weights for equal ordinary tensors:
    the cached model keeps its weights' values, the latent is untouched, and an unguided
    search of the same cached model afterwards gives the same image as before, bitwise."""
    ex = Executor(comfy_host)
    ok, before, _ = ex.run(flow_search_graph(nfe_budget=16))
    model = before["unet"][0][0]
    weights = {k: v.clone() for k, v in model.model.state_dict().items()}
    ok2, guided, msgs = ex.run(
        flow_search_graph(method=method_node("dps", guidance_scale=SCALE), nfe_budget=16)
    )
    assert ok and ok2 and guided["unet"][0][0] is model  # ComfyUI's cached MODEL
    assert all(torch.equal(v, weights[k]) for k, v in model.model.state_dict().items())
    latent = guided["latent"][0][0]
    assert set(latent) == {"samples"} and not bool(latent["samples"].any())
    # a new prompt text re-runs only the Flow Search node (Brightness ignores the text)
    ok3, after, msgs = ex.run(flow_search_graph(nfe_budget=16, prompt="again"))
    cached = [d for ev, d in msgs if ev == "execution_cached"][-1]["nodes"]
    assert ok3 and "unet" in cached and FS not in cached
    assert torch.equal(outputs(after)["best_image"], outputs(before)["best_image"])


def test_guidance_with_cfg_negative_conditioning_a_batch_of_two_and_flux_dev(run):
    """CFGGuider (cfg 3, a negative prompt: two model passes per guided call), LATENT batch 2
    (two guided searches) on a FLUX.1-dev-type model (guidance embedding)."""
    guider = {
        "class_type": "CFGGuider",
        "inputs": {"model": ["unet", 0], "positive": ["cond", 1], "negative": ["neg", 1], "cfg": 3.0},
    }  # fmt: skip
    graph = flow_search_graph(
        method=method_node("dps", guidance_scale=SCALE), nfe_budget=16, batch=2, guider=guider,
        extra={"neg": {"class_type": "FlowSearchTest_TinyFlux", "inputs": {"seed": 7}}},
    )  # fmt: skip
    graph["unet"] = {"class_type": "FlowSearchTest_TinyFluxDev", "inputs": {"seed": 0}}
    o = outputs(run(graph))
    report = json.loads(o["report"])
    assert [it["nfe_backward"] > 0 for it in report["items"]] == [True, True]
    assert report["sampling"]["regime"] == "full" and all_finite(o)
    assert o["best_latent"]["samples"].shape == (2, 16, 8, 8)


@pytest.mark.parametrize("video", [False, True])
def test_guided_blocks_are_checkpointed_with_the_same_result(comfy_host, run, monkeypatch, video):
    """Guided evaluations re-run each FLUX / Wan block in the backward instead of keeping
    its activations: the same image, bitwise, as without checkpointing."""
    run_module = pack_module(comfy_host, "nodes.search_run")
    checkpoint = pack_module(comfy_host, "nodes.checkpointing").BlockCheckpoint
    method = method_node("dps", guidance_scale=SCALE)
    graph = video_graph(method, nfe_budget=16) if video else flow_search_graph(method=method)
    calls = []
    real_apply = checkpoint.apply

    def counting(*args):
        calls.append(1)
        return real_apply(*args)

    monkeypatch.setattr(checkpoint, "apply", counting)
    checkpointed = outputs(run(graph))
    blocks = 1 if video else 2  # tiny Wan: 1 block; tiny FLUX: 1 double + 1 single
    backward = json.loads(checkpointed["report"])["items"][0]["nfe_backward"]
    assert backward > 0 and len(calls) % blocks == 0 and len(calls) >= blocks
    monkeypatch.setattr(run_module, "block_keys", lambda model: [])
    calls.clear()
    plain = outputs(run(graph))
    assert not calls
    assert torch.equal(checkpointed["best_latent"]["samples"], plain["best_latent"]["samples"])
    assert torch.equal(checkpointed["best_image"], plain["best_image"])


def test_guidance_through_weight_patches(run):
    """ComfyUI's weight patches (LoRAs, merges: ``ModelMergeSimple`` here) apply to a guided
    search: patched weights are made autograd-ready like the others."""
    method = method_node("dps", guidance_scale=SCALE)
    plain = outputs(run(flow_search_graph(method=method)))
    merge = {
        "other": {"class_type": "FlowSearchTest_TinyUNet", "inputs": {"variant": "schnell", "seed": 1}},
        "merged": {
            "class_type": "ModelMergeSimple",
            "inputs": {"model1": ["unet", 0], "model2": ["other", 0], "ratio": 0.5},
        },
    }  # fmt: skip
    graph = flow_search_graph(method=method, extra=merge)
    graph["guider"]["inputs"]["model"] = ["merged", 0]
    merged = outputs(run(graph))
    assert json.loads(merged["report"])["items"][0]["nfe_backward"] > 0 and all_finite(merged)
    assert not torch.equal(merged["best_latent"]["samples"], plain["best_latent"]["samples"])
