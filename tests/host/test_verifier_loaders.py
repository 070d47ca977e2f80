"""Verifier loader nodes in a real ComfyUI: real loading from a tiny checkpoint in
``models/verifiers/<family>/``, missing weights at validation, and the Flow Search node's
checks that run before any model call."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from comfy_host_harness import GraphError
from node_fixtures import CALLS, register_test_nodes
from search_graphs import FS, flow_search_graph, method_node

from flowsearch.nodes.verifier_specs import node_id

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "verifiers"))
from support.tiny_models import write_tiny_checkpoint  # noqa: E402

COUNTED = {
    "class_type": "FlowSearchTest_CountCalls",
    "inputs": {"model": ["unet", 0], "label": "pre"},
}


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


@pytest.fixture(scope="module")
def tiny_clip(comfy_host, host_dirs) -> str:
    """A tiny CLIPScore checkpoint written where ComfyUI users put verifier weights."""
    path = write_tiny_checkpoint("clip_score", host_dirs.model_folder("verifiers"), seed=0)
    return path.name


def clip_loader(model: str, **options) -> dict:
    from flowsearch.nodes.verifier_specs import loader_spec
    from flowsearch.verifiers.registry import availability

    values = loader_spec(availability("clip_score"), (model,)).defaults() | options
    return {"class_type": node_id("clip_score"), "inputs": values | {"model": model}}


def test_one_loader_per_available_family(comfy_host, pack_node_ids):
    from flowsearch.verifiers import available_verifiers

    offered = {f for f, a in available_verifiers().items() if a.available}
    assert {"clip_score", "pickscore", "aesthetic"} <= offered
    loaders = {i for i in pack_node_ids if i.startswith("FlowSearch_LoadVerifier_")}
    assert loaders == {node_id(f) for f in offered}
    for family in offered:
        schema = comfy_host.nodes.NODE_CLASS_MAPPINGS[node_id(family)].GET_SCHEMA()
        assert all(i.tooltip for i in schema.inputs) and schema.description


def test_a_family_that_cannot_load_gets_no_node_and_the_log_says_why(
    comfy_host, pack_node_ids, monkeypatch, caplog
):
    import dataclasses

    from node_fixtures import pack_module

    loaders = pack_module(comfy_host, "nodes.verifier_loaders")
    families = loaders.available_verifiers()
    reason = "needs the package 'open_clip_torch': pip install flowsearch[hpsv2]"
    families["hpsv2"] = dataclasses.replace(families["hpsv2"], available=False, reason=reason)
    monkeypatch.setattr(loaders, "available_verifiers", lambda: families)
    with caplog.at_level(logging.INFO, logger="flowsearch.nodes"):
        nodes = loaders.loader_nodes()
    assert "hpsv2" not in {n.FAMILY for n in nodes} and "clip_score" in {n.FAMILY for n in nodes}
    assert "'hpsv2'" in caplog.text and reason in caplog.text


def test_extra_model_paths_yaml_folders_are_listed_and_loaded(run, comfy_host, tmp_path):
    """A ``verifiers:`` entry of ``extra_model_paths.yaml``, read by ComfyUI's own loader."""
    from utils.extra_config import load_extra_path_config

    write_tiny_checkpoint("clip_score", tmp_path / "extra" / "verifiers", seed=1)
    (tmp_path / "extra" / "verifiers" / "clip_score" / "tiny-clip").rename(
        tmp_path / "extra" / "verifiers" / "clip_score" / "tiny-clip-extra"
    )
    yaml = tmp_path / "extra_model_paths.yaml"
    yaml.write_text(f"test_extra:\n  base_path: {tmp_path / 'extra'}\n  verifiers: verifiers\n")
    load_extra_path_config(str(yaml))
    out = run(
        {
            "v": clip_loader("tiny-clip-extra"),
            "out": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["v", 0]}},
        }
    )
    assert type(out["v"][0][0]).__name__ == "CLIPScore"


def test_model_combo_lists_the_verifiers_folder(comfy_host, tiny_clip, object_info):
    info = object_info()[node_id("clip_score")]["input"]["required"]["model"]
    options = info[1]["options"] if isinstance(info[0], str) else info[0]
    assert tiny_clip in options


def test_tiny_checkpoint_loads_and_scores_through_score_images(run, tiny_clip):
    graph = {
        "v": clip_loader(tiny_clip),
        "img": {
            "class_type": "EmptyImage",
            "inputs": {"width": 32, "height": 32, "batch_size": 3, "color": 0x8080FF},
        },
        "s": {
            "class_type": "FlowSearch_ScoreImages",
            "inputs": {"images": ["img", 0], "verifier": ["v", 0], "prompt": "a blue square"},
        },
        "out": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["s", 3]}},
    }
    out = run(graph)
    scores = [row["score"] for row in json.loads(out["s"][3][0])]
    assert len(scores) == 3 and all(isinstance(x, float) for x in scores)
    assert type(out["v"][0][0]).__name__ == "CLIPScore"


def test_missing_weights_fail_validation_naming_folder_files_and_docs(run, tiny_clip):
    graph = {
        "v": clip_loader("clip-vit-large-patch14"),
        "out": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["v", 0]}},
    }
    with pytest.raises(GraphError, match="validation") as info:
        run(graph)
    text = str(info.value.details)
    assert "models" in text and "verifiers" in text and "clip_score" in text
    assert "docs/verifiers/clip_score.md" in text and "never downloads" in text


def _refused(run, graph: dict, match: str) -> str:
    graph["counted"] = COUNTED
    graph["guider"]["inputs"]["model"] = ["counted", 0]
    CALLS.pop("pre", None)
    with pytest.raises(GraphError, match=match) as info:
        run(graph)
    assert CALLS.get("pre", {"rows": 0})["rows"] == 0  # refused before any model call
    return str(info.value)


def test_empty_prompt_with_a_text_verifier_is_refused(run, tiny_clip):
    graph = flow_search_graph(verifier=clip_loader(tiny_clip), prompt="  ")
    _refused(run, graph, "prompt is empty")


def test_text_verifier_with_a_prompt_runs_a_search(run, tiny_clip):
    out = run(
        flow_search_graph(verifier=clip_loader(tiny_clip), prompt="a red apple", nfe_budget=8)
    )
    report = json.loads(out[FS][3][0])
    assert report["verifier"] == "clip_score" and report["nfe"]["used"] == 8


def test_budget_below_the_minimum_names_the_minimum_and_the_sigmas(run):
    graph = flow_search_graph(method=method_node("svdd", children=3), nfe_budget=5, steps=4)
    text = _refused(run, graph, "too small")
    assert "minimum is 10" in text and "SIGMAS have 4 steps" in text


def test_eps_model_is_refused(run):
    graph = flow_search_graph()
    graph["eps"] = {
        "class_type": "ModelSamplingDiscrete",
        "inputs": {"model": ["unet", 0], "sampling": "eps", "zsnr": False},
    }
    graph["guider"]["inputs"]["model"] = ["eps", 0]
    with pytest.raises(GraphError, match="not a flow-matching model"):
        run(graph)


def test_disabled_noise_is_refused(run):
    graph = flow_search_graph()
    graph["noise"] = {"class_type": "DisableNoise", "inputs": {}}
    _refused(run, graph, "DisableNoise")


def test_batch_relative_ensemble_with_rbf_is_refused(run):
    graph = flow_search_graph(method=method_node("rbf"), nfe_budget=16)
    graph["verifier"] = {
        "class_type": "FlowSearch_VerifierEnsemble",
        "inputs": {
            "verifier_1": ["b1", 0],
            "weight_1": 1.0,
            "verifier_2": ["b2", 0],
            "weight_2": 1.0,
            "weight_3": 1.0,
            "weight_4": 1.0,
            "mode": "rank",
        },
    }
    graph["b1"] = {"class_type": "FlowSearchTest_Brightness", "inputs": {"channel": 0}}
    graph["b2"] = {"class_type": "FlowSearchTest_Brightness", "inputs": {"channel": 1}}
    _refused(run, graph, "batch-relative")
