"""`FlowSearch_FlowSearch` in a real ComfyUI: every method through the guider, exact NFEs,
batches, img2img, inpainting, CFG, determinism, caching, reports, outputs."""

from __future__ import annotations

import json

import pytest
import torch
from node_fixtures import CALLS, Executor, register_test_nodes
from search_graphs import FS, flow_search_graph, method_node, outputs

from flowsearch.nodes.method_specs import METHOD_SPECS

COUNTED = {
    "class_type": "FlowSearchTest_CountCalls",
    "inputs": {"model": ["unet", 0], "label": "fs"},
}


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


def counted_graph(**kwargs) -> dict:
    """A Flow Search graph whose model counts its calls and rows in ``CALLS["fs"]``."""
    graph = flow_search_graph(extra={"counted": COUNTED}, **kwargs)
    if graph["guider"]["class_type"] == "BasicGuider":
        graph["guider"]["inputs"]["model"] = ["counted", 0]
    else:
        graph["guider"]["inputs"]["model"] = ["counted", 0]
    CALLS.pop("fs", None)
    return graph


def report_of(result: dict) -> dict:
    return json.loads(outputs(result)["report"])


def test_schema(comfy_host, pack_node_ids):
    assert "FlowSearch_FlowSearch" in pack_node_ids
    schema = comfy_host.nodes.NODE_CLASS_MAPPINGS["FlowSearch_FlowSearch"].GET_SCHEMA()
    assert [o.io_type for o in schema.outputs] == ["LATENT", "IMAGE", "IMAGE", "STRING", "IMAGE"]
    assert all(i.tooltip for i in schema.inputs) and schema.description


METHOD_CASES = {
    "bon": {},
    "zero_order": {"neighbors": 3},
    "sop": {"branches": 2, "start": 0.5, "forward": 0.2, "backward": 0.3},
    "smc": {},
    "svdd": {"children": 2},
    "code": {"children": 2, "lookahead": 2},
    "rbf": {"proposal_batch": 2},
    "vt": {"threshold": 0.5, "proposal_batch": 2},
    "dts_star": {"children": 2},
    "dps": {},
}


@pytest.mark.parametrize("method", sorted(METHOD_SPECS))
def test_every_method_spends_exactly_what_the_core_counts(run, method):
    budget = 37
    graph = counted_graph(
        method=method_node(method, **METHOD_CASES[method]), nfe_budget=budget, max_particles=5
    )
    out = run(graph)
    report = report_of(out)
    item = report["items"][0]
    assert report["nfe"]["used"] == item["nfe"] <= budget
    assert item["nfe"] >= budget - 4 * 4  # spends (nearly) all of it
    assert CALLS["fs"]["rows"] == item["nfe"]  # one row per particle through the model (cfg 1)
    assert CALLS["fs"]["max_rows"] <= 5  # particles go through the model in chunks
    assert report["method"] == method and report["sampling"]["regime"] == "distilled"
    o = outputs(out)
    assert o["best_latent"]["samples"].shape == (1, 16, 8, 8)
    assert o["best_image"].shape == (1, 64, 64, 3)
    assert o["candidates"].shape[0] == len(item["rewards"]) >= 1
    assert item["rewards"] == sorted(item["rewards"], reverse=True)
    t = report["timings"]
    assert t["model"] > 0 and t["decode"] > 0 and t["overhead"] >= 0
    assert abs(t["model"] + t["decode"] + t["verifier"] + t["overhead"] - t["search"]) < 1e-6


def test_batch_items_are_independent_searches_seeded_seed_plus_b(run):
    two = outputs(run(flow_search_graph(batch=2, seed=5)))
    one = outputs(run(flow_search_graph(batch=1, seed=6)))
    report = json.loads(two["report"])
    assert report["item_seeds"] == [5, 6] and len(report["items"]) == 2
    assert two["best_latent"]["samples"].shape[0] == 2 and two["best_image"].shape[0] == 2
    assert torch.equal(two["best_latent"]["samples"][1], one["best_latent"]["samples"][0])
    assert not torch.equal(two["best_latent"]["samples"][0], two["best_latent"]["samples"][1])


def test_same_seed_same_image_bitwise_other_seed_differs(run):
    graph = flow_search_graph(method=method_node("rbf"), nfe_budget=24, seed=3)
    a, b = outputs(run(graph)), outputs(run(graph))
    assert torch.equal(a["best_image"], b["best_image"])
    assert torch.equal(a["best_latent"]["samples"], b["best_latent"]["samples"])
    graph[FS]["inputs"]  # same graph, new seed:
    graph["noise"]["inputs"]["noise_seed"] = 4
    c = outputs(run(graph))
    assert not torch.equal(a["best_latent"]["samples"], c["best_latent"]["samples"])


def test_search_finds_a_better_image_than_plain_sampling(run):
    """Brightness is the reward: best-of-16 beats the first candidate of best-of-1."""
    big = report_of(run(flow_search_graph(nfe_budget=64)))
    small = report_of(run(flow_search_graph(nfe_budget=4)))
    assert big["best_rewards"][0] > small["best_rewards"][0]
    # best-of-N's candidates are keyed by particle: the budget-4 sample is among budget 64's
    # (up to the model's float effects of a different particle batch size)
    assert min(abs(r - small["best_rewards"][0]) for r in big["items"][0]["rewards"]) < 1e-5


def test_cfg_guider_with_negative_prompt_counts_one_nfe_per_particle(run):
    guider = {
        "class_type": "CFGGuider",
        "inputs": {
            "model": ["counted", 0],
            "positive": ["cond", 1],
            "negative": ["neg", 1],
            "cfg": 3.0,
        },
    }
    graph = counted_graph(guider=guider, nfe_budget=16)
    graph["neg"] = {"class_type": "FlowSearchTest_TinyFlux", "inputs": {"seed": 7}}
    report = report_of(run(graph))
    assert report["nfe"]["used"] == 16
    assert CALLS["fs"]["rows"] == 2 * 16  # CFG: cond + uncond rows, one NFE
    plain = report_of(run(flow_search_graph(nfe_budget=16)))
    assert report["best_rewards"] != plain["best_rewards"]


def test_denoise_below_one_starts_from_the_input_latent(run):
    source = {"class_type": "VAEEncode", "inputs": {"pixels": ["img", 0], "vae": ["vae", 0]}}
    extra = {
        "img": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0x3060C0},
        }
    }
    part = run(flow_search_graph(latent=source, denoise=0.6, extra=extra))
    full = run(flow_search_graph(latent=source, denoise=1.0, extra=extra))
    start = part["latent"][0][0]["samples"]
    near = outputs(part)["best_latent"]["samples"]
    far = outputs(full)["best_latent"]["samples"]
    assert float((near - start).norm()) < 0.8 * float((far - start).norm())
    first_s = report_of(part)["items"][0]["trace"][0]["s"]
    assert first_s < 0.99  # the search began below pure noise


def test_inpainting_keeps_the_unmasked_region(run):
    extra = {
        "img": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": 0x804020},
        },
        "enc": {"class_type": "VAEEncode", "inputs": {"pixels": ["img", 0], "vae": ["vae", 0]}},
        "mask": {
            "class_type": "SolidMask",
            "inputs": {"value": 1.0, "width": 32, "height": 64},
        },
        "canvas": {
            "class_type": "SolidMask",
            "inputs": {"value": 0.0, "width": 64, "height": 64},
        },
        "comp": {
            "class_type": "MaskComposite",
            "inputs": {
                "destination": ["canvas", 0],
                "source": ["mask", 0],
                "x": 0,
                "y": 0,
                "operation": "add",
            },
        },
    }
    latent = {
        "class_type": "SetLatentNoiseMask",
        "inputs": {"samples": ["enc", 0], "mask": ["comp", 0]},
    }
    out = run(
        flow_search_graph(latent=latent, method=method_node("rbf"), nfe_budget=24, extra=extra)
    )
    start = out["enc"][0][0]["samples"]
    best = outputs(out)["best_latent"]["samples"]
    torch.testing.assert_close(
        best[..., 4:], start[..., 4:], rtol=0, atol=1e-4
    )  # kept (right half)
    assert float((best[..., :4] - start[..., :4]).abs().mean()) > 0.05  # repainted (left half)


def test_held_out_verifier_and_cheap_vae(run):
    extra = {
        "held": {"class_type": "FlowSearchTest_Brightness", "inputs": {"channel": 0}},
        "cheap": {"class_type": "VAELoader", "inputs": {"vae_name": "taef1"}},
        "main": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
    }
    graph = flow_search_graph(
        extra=extra, held_out_verifier=["held", 0], cheap_vae=["cheap", 0], nfe_budget=12
    )
    graph[FS]["inputs"]["vae"] = ["main", 0]
    graph["dec"] = {"class_type": "VAEDecode", "inputs": {"samples": [FS, 0], "vae": ["main", 0]}}
    graph["sink_dec"] = {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["dec", 0]}}
    out = run(graph)
    report = report_of(out)
    assert report["held_out"]["verifier"] == "brightness"
    red = float(outputs(out)["best_image"][0, ..., 0].mean())
    assert report["held_out"]["best"] == pytest.approx([red], abs=1e-5)
    assert len(report["held_out"]["candidates"][0]) == len(report["items"][0]["rewards"])
    torch.testing.assert_close(outputs(out)["best_image"], out["dec"][0][0], rtol=0, atol=1e-5)


def test_changing_only_the_budget_runs_a_new_search(comfy_host, pack_node_ids):
    register_test_nodes(comfy_host)
    ex = Executor(comfy_host)
    ok, first, _ = ex.run(flow_search_graph(nfe_budget=8))
    ok2, again, msgs = ex.run(flow_search_graph(nfe_budget=8))
    cached = [d for ev, d in msgs if ev == "execution_cached"]
    assert ok and ok2 and FS in cached[-1]["nodes"]  # identical prompt: ComfyUI's cache
    ok3, second, msgs = ex.run(flow_search_graph(nfe_budget=12))
    cached = [d for ev, d in msgs if ev == "execution_cached"]
    assert ok3 and FS not in cached[-1]["nodes"]
    assert json.loads(second[FS][3][0])["nfe"]["budget"] == 12


def test_inputs_are_not_mutated(run):
    out = run(flow_search_graph(method=method_node("smc"), nfe_budget=16))
    latent = out["latent"][0][0]
    assert set(latent) == {"samples"} and not bool(latent["samples"].any())
    model = out["unet"][0][0]
    assert "model_function_wrapper" not in model.model_options
    assert set(model.model_options) <= {"transformer_options"}


def test_plot_and_report_are_well_formed(run):
    o = outputs(run(flow_search_graph(method=method_node("smc"), nfe_budget=16)))
    assert o["plot"].shape == (1, 400, 640, 3) and 0 <= float(o["plot"].min())
    assert float(o["plot"].std()) > 0.01  # something is drawn
    report = json.loads(o["report"])  # strict JSON (no NaN)
    assert report["memory"]["diffusion_model_evictions_by_decode"] == 0
    assert report["items"][0]["trace"]
