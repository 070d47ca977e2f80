"""Every example workflow, as the front end saves it, converted to the prompt it queues and
run in a real ComfyUI with tiny models substituted for the model files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from node_fixtures import register_test_nodes
from workflow_convert import TINY_FLUX_SUBSTITUTIONS, widget_slots

from flowsearch.nodes.verifier_specs import loader_spec, node_id
from flowsearch.verifiers.registry import availability

EXAMPLES = Path(__file__).resolve().parents[2] / "example_workflows"
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nodes"))  # workflow_builder
TEXT_FAMILIES = ("vqascore", "image_reward", "pickscore", "counting", "clip_score", "hpsv2")


def tiny_clip_loader(inputs: dict) -> dict:
    values = loader_spec(availability("clip_score"), ("tiny-clip",)).defaults()
    return {"class_type": node_id("clip_score"), "inputs": values | {"model": "tiny-clip"}}


def substitutions() -> dict:
    rules = dict(TINY_FLUX_SUBSTITUTIONS)
    for family in TEXT_FAMILIES:
        rules[node_id(family)] = tiny_clip_loader
    for latent in ("EmptySD3LatentImage", "EmptyLatentImage"):
        rules[latent] = lambda inputs, latent=latent: {
            "class_type": latent,
            "inputs": inputs | {"width": 64, "height": 64},
        }
    return rules


@pytest.fixture(scope="module")
def ready(comfy_host, host_dirs, pack_node_ids):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "verifiers"))
    from support.tiny_models import write_tiny_checkpoint

    register_test_nodes(comfy_host)
    write_tiny_checkpoint("clip_score", host_dirs.model_folder("verifiers"), seed=0)
    write_tiny_checkpoint("aesthetic", host_dirs.model_folder("verifiers"), seed=0)  # real (d)
    return pack_node_ids


def test_our_widget_order_is_the_front_ends(ready, object_info):
    from workflow_builder import our_specs

    info = object_info()
    for node, spec in our_specs().items():
        if node not in info:
            continue  # a loader whose family cannot load here
        slots = [s for s in widget_slots(info[node]) if s is not None]
        assert slots == [f.name for f in spec.widgets()], node


def test_core_nodes_of_the_examples_exist_in_this_release(ready, object_info):
    from workflow_builder import CORE

    info = object_info()
    for node, (_sockets, widgets, outputs) in CORE.items():
        assert node in info, node
        slots = [s for s in widget_slots(info[node]) if s is not None]
        assert slots == widgets, node
        assert [o for o in info[node]["output"]] == [t for _, t in outputs], node


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_example_runs_with_tiny_models(ready, ui_to_api, run_graph, name):
    workflow = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    prompt = ui_to_api(workflow, substitutions())
    out = run_graph(prompt)
    searches = [k for k, v in prompt.items() if v["class_type"] == "FlowSearch_FlowSearch"]
    for k in searches:
        report = json.loads(out[k][3][0])
        budget = prompt[k]["inputs"]["nfe_budget"]
        assert 0 < report["nfe"]["used"] <= budget
        assert out[k][1][0].shape[-1] == 3
        guided = report["guidance_scale"] > 0  # (d): through FLUX, TAEF1 and the aesthetic
        assert all((it["nfe_backward"] > 0) == guided for it in report["items"])
    ranked = [k for k, v in prompt.items() if v["class_type"] == "FlowSearch_ScoreImages"]
    for k in ranked:
        assert len(json.loads(out[k][3][0])) == 4
    assert searches or ranked or "FlowSearch_StochasticSampler" in json.dumps(prompt)
