"""The UI -> API workflow converter against ComfyUI's real node definitions.

The hand-written workflow in ``workflows/`` is a standard FLUX.1-dev
``SamplerCustomAdvanced`` graph in the format the pinned front end (1.27.10) saves, with the
cases the converter must handle: linked widgets fed by primitive nodes, a bypassed node, a
reroute, a muted node, a note and a seed widget with its ``control_after_generate`` value.
The front end's own example templates (package ``comfyui-workflow-templates``, installed
with ComfyUI's requirements) are converted too, read from where pip put them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch
from workflow_convert import (
    TINY_FLUX_SUBSTITUTIONS,
    TINY_VAE_SUBSTITUTION,
    VIRTUAL_TYPES,
    WorkflowError,
    substitute,
    widget_slots,
)
from workflow_convert import ui_to_api as convert

WORKFLOWS = Path(__file__).resolve().parent / "workflows"


def load(name: str) -> dict:
    return json.loads((WORKFLOWS / name).read_text(encoding="utf-8"))


FLUX_SCA = "flux_dev_sampler_custom_advanced.json"
EXPECTED_FLUX_SCA = {
    "1": ("UNETLoader", {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}),
    "2": (
        "DualCLIPLoader",
        {
            "clip_name1": "clip_l.safetensors",
            "clip_name2": "t5xxl_fp16.safetensors",
            "type": "flux",
            "device": "default",
        },
    ),
    "3": (
        "CLIPTextEncode",
        {"text": "a photo of a red fox in fresh snow, golden hour", "clip": ["2", 0]},
    ),
    "4": ("FluxGuidance", {"guidance": 3.5, "conditioning": ["3", 0]}),
    # ModelSamplingFlux (5) is bypassed: its MODEL output resolves to its MODEL input.
    "6": ("BasicGuider", {"model": ["1", 0], "conditioning": ["4", 0]}),
    "7": ("KSamplerSelect", {"sampler_name": "euler"}),
    "8": ("BasicScheduler", {"scheduler": "simple", "steps": 4, "denoise": 1, "model": ["1", 0]}),
    "9": ("RandomNoise", {"noise_seed": 42}),
    # width/height come from the primitive nodes (64), not the stale 1024 widget values.
    "10": ("EmptySD3LatentImage", {"width": 64, "height": 64, "batch_size": 1}),
    "13": (
        "SamplerCustomAdvanced",
        {
            "noise": ["9", 0],
            "guider": ["6", 0],
            "sampler": ["7", 0],
            "sigmas": ["8", 0],
            "latent_image": ["10", 0],
        },
    ),
    "14": ("VAELoader", {"vae_name": "ae.safetensors"}),
    "16": ("VAEDecode", {"samples": ["13", 0], "vae": ["14", 0]}),  # through the reroute
    "17": ("SaveImage", {"filename_prefix": "flowsearch_test", "images": ["16", 0]}),
}


def test_widget_slots_follow_the_front_end(object_info):
    info = object_info()
    assert widget_slots(info["RandomNoise"]) == ["noise_seed", None]
    assert widget_slots(info["KSampler"]) == [
        "seed",
        None,
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "denoise",
    ]
    assert widget_slots(info["LoadImage"]) == ["image", None]  # + upload button
    # A remote file list: auto-refresh toggle and refresh button, then the upload button.
    assert widget_slots(info["LoadImageOutput"]) == ["image", None, None, None]
    # A seed input that says control_after_generate=False gets no control value.
    assert widget_slots(info["FlowSearchTest_TinyUNet"]) == ["variant", "seed"]
    assert widget_slots(info["SamplerCustomAdvanced"]) == []


def test_hand_written_flux_graph_converts(ui_to_api):
    prompt = ui_to_api(load(FLUX_SCA))
    got = {k: (v["class_type"], v["inputs"]) for k, v in prompt.items()}
    assert got == EXPECTED_FLUX_SCA
    assert prompt["3"]["_meta"]["title"] == "CLIP Text Encode (Positive Prompt)"


def test_muted_producer_drops_the_links_and_bypass_finds_the_input_by_type(ui_to_api):
    workflow = load(FLUX_SCA)
    nodes = {n["id"]: n for n in workflow["nodes"]}
    nodes[4]["mode"] = 4  # bypass FluxGuidance: CONDITIONING passes through
    nodes[9]["mode"] = 2  # mute RandomNoise: SamplerCustomAdvanced loses its noise input
    prompt = ui_to_api(workflow)
    assert "4" not in prompt and "9" not in prompt
    assert prompt["6"]["inputs"]["conditioning"] == ["3", 0]
    assert "noise" not in prompt["13"]["inputs"]


def test_converted_flux_graph_runs_with_tiny_models(ui_to_api, run_graph, host_dirs):
    prompt = ui_to_api(load(FLUX_SCA), TINY_FLUX_SUBSTITUTIONS)
    assert prompt["1"]["class_type"] == "FlowSearchTest_TinyUNet"
    assert prompt["1"]["inputs"]["variant"] == "dev"
    assert prompt["2"]["class_type"] == "FlowSearchTest_TinyCLIP"
    before = set(host_dirs.output.iterdir())
    out = run_graph(prompt)
    images = out["16"][0][0]
    assert images.shape == (1, 64, 64, 3) and bool(torch.isfinite(images).all())
    saved = sorted(set(host_dirs.output.iterdir()) - before)
    assert [p.name.startswith("flowsearch_test") and p.suffix == ".png" for p in saved] == [True]
    # The in-process VAE node gives the same image as the tiny ae.safetensors file.
    again = run_graph(substitute(prompt, TINY_VAE_SUBSTITUTION))
    assert torch.equal(again["16"][0][0], images)


def test_conversion_errors_name_the_node(ui_to_api):
    workflow = load(FLUX_SCA)
    broken = copy.deepcopy(workflow)
    broken["nodes"][0]["widgets_values"] = ["flux1-dev.safetensors"]
    with pytest.raises(WorkflowError, match=r"node 1 \(UNETLoader\): 1 widget values"):
        ui_to_api(broken)
    unknown = copy.deepcopy(workflow)
    unknown["nodes"][0]["type"] = "NoSuchLoader"
    with pytest.raises(WorkflowError, match="'NoSuchLoader'"):
        ui_to_api(unknown)
    with pytest.raises(WorkflowError, match="UI-format"):
        ui_to_api({"1": {"class_type": "KSamplerSelect", "inputs": {}}})
    extended = copy.deepcopy(workflow)
    extended["nodes"][16]["widgets_values"].append("panel state")
    assert ui_to_api(extended, extra_widget_values={"SaveImage": 1})["17"]["inputs"] == {
        "filename_prefix": "flowsearch_test",
        "images": ["16", 0],
    }


def front_end_templates() -> list[Path]:
    """The example workflows bundled with the front end, saved by front ends >= 1.16."""
    try:
        import comfyui_workflow_templates
    except ImportError:
        return []
    folder = Path(comfyui_workflow_templates.__file__).resolve().parent / "templates"
    found = []
    for path in sorted(folder.glob("*.json")):
        workflow = json.loads(path.read_text(encoding="utf-8"))
        if "nodes" in workflow and (workflow.get("extra") or {}).get("frontendVersion"):
            found.append(path)
    return found


def test_front_end_templates_convert_to_well_formed_prompts(object_info):
    """Every bundled template whose nodes this ComfyUI has converts to a prompt whose
    required inputs are all present and whose links point at real outputs of the right
    type (the checks ComfyUI's validation starts with)."""
    templates = front_end_templates()
    if not templates:
        pytest.skip("comfyui-workflow-templates is not installed")
    info = object_info()
    converted = 0
    for path in templates:
        workflow = json.loads(path.read_text(encoding="utf-8"))
        if (workflow.get("definitions") or {}).get("subgraphs"):
            continue
        if any(n["type"] not in info and n["type"] not in VIRTUAL_TYPES for n in workflow["nodes"]):
            continue  # API or audio nodes, not loaded in-process
        # The 3D save node carries one widget of a front-end extension (a preview).
        prompt = convert(workflow, info, extra_widget_values={"SaveGLB": 1})
        for node_id, entry in prompt.items():
            spec = info[entry["class_type"]]
            missing = set(spec["input"].get("required", {})) - set(entry["inputs"])
            assert not missing, (path.name, node_id, entry["class_type"], missing)
            for name, value in entry["inputs"].items():
                if isinstance(value, list):
                    source = info[prompt[value[0]]["class_type"]]
                    kind = source["output"][value[1]]
                    wanted = spec["input"].get("required", {}) | spec["input"].get("optional", {})
                    expected = wanted[name][0]
                    assert (
                        kind == expected or "*" in (kind, expected) or isinstance(expected, list)
                    ), (path.name, node_id, name, kind, expected)
        converted += 1
    assert converted >= 40, converted
