"""A real ComfyUI server with the pack loaded, over HTTP and in headless Chromium.

Proves the server and browser fixtures the web-panel tests build on: the pack and the test
nodes register on a real server, a tiny prompt queued over HTTP runs to a saved image, and
the pinned front end boots with no console errors, shows our nodes and turns the
hand-written workflow into the same API prompt as `workflow_convert` does.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path

from browser_harness import (
    is_known_front_end_error,
    queue_from_page,
    record_socket_events,
    wait_for_comfy_app,
)
from comfy_host_harness import sampling_prompt
from model_files import FLUX_VAE_FILE
from workflow_convert import ui_to_api, widget_slots

WORKFLOW = Path(__file__).resolve().parent / "workflows" / "flux_dev_sampler_custom_advanced.json"
PACK_NODE = "FlowSearch_StochasticSampler"
TEST_NODES = {"FlowSearchTest_TinyUNet", "FlowSearchTest_TinyCLIP", "FlowSearchTest_TinyVAE"}


def tiny_image_prompt(noise_seed: int = 0) -> dict:
    """Tiny FLUX + our stochastic sampler, 2 steps, decoded by the tiny ``ae.safetensors``
    through the real VAELoader and saved by SaveImage. (The server caches node outputs:
    a new ``noise_seed`` makes the sampler run again.)"""
    sampler = {"class_type": PACK_NODE, "inputs": {"interpolant": "linear", "stochastic": True}}
    sampler["inputs"].update(
        diffusion="square", diffusion_scale=3.0, grid="sigmas", beta_min=0.1, beta_max=20.0
    )
    prompt = sampling_prompt(sampler, steps=2, noise_seed=noise_seed)
    del prompt["8"]  # the latent sink: SaveImage is the output here
    prompt["13"] = {"class_type": "VAELoader", "inputs": {"vae_name": FLUX_VAE_FILE}}
    prompt["14"] = {"class_type": "VAEDecode", "inputs": {"samples": ["7", 0], "vae": ["13", 0]}}
    prompt["15"] = {
        "class_type": "SaveImage",
        "inputs": {"images": ["14", 0], "filename_prefix": "flowsearch_server_test"},
    }
    return prompt


def test_server_lists_the_pack_and_the_test_nodes(comfy_server):
    info = comfy_server.object_info()
    assert PACK_NODE in info
    assert info[PACK_NODE]["python_module"] == "custom_nodes.flowsearch"
    assert TEST_NODES <= set(info)
    assert FLUX_VAE_FILE in info["VAELoader"]["input"]["required"]["vae_name"][0]


def test_prompt_over_http_runs_to_a_saved_image(comfy_server):
    entry = comfy_server.run(tiny_image_prompt())
    (image,) = entry["outputs"]["15"]["images"]
    assert image["filename"].startswith("flowsearch_server_test") and image["type"] == "output"
    query = urllib.parse.urlencode(
        {"filename": image["filename"], "subfolder": image["subfolder"], "type": "output"}
    )
    png = comfy_server.get_bytes(f"/view?{query}")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000


def test_front_end_loads_and_converts_like_our_converter(page, comfy_server, artifacts_dir):
    page.goto(comfy_server.url)
    wait_for_comfy_app(page)
    registered = page.evaluate("() => Object.keys(window.LiteGraph.registered_node_types)")
    assert PACK_NODE in registered and TEST_NODES <= set(registered)

    # The converter's widget order is the front end's, for our nodes and tricky core ones.
    info = comfy_server.object_info()
    kinds = sorted(n for n in info if n.startswith(("FlowSearch", "FlowSearchTest_")))
    kinds += ["KSampler", "RandomNoise", "EmptySD3LatentImage"]
    # (widgets that are not saved, like the live panel on Flow Search, have no value slot)
    create = (
        "(kinds) => kinds.map(k => (window.LiteGraph.createNode(k).widgets || [])"
        "  .filter(w => w.serialize !== false).map(w => w.name))"
    )
    drawn = page.evaluate(create, kinds)
    # Image loaders with an empty input folder ask the server for a preview of no file
    # (404/400 console errors): their errors are dropped, theirs alone.
    seen = len(page.console_errors)
    drawn += page.evaluate(create, ["LoadImage", "LoadImageOutput"])
    kinds += ["LoadImage", "LoadImageOutput"]
    for _ in range(50):  # both previews failed (the errors arrive asynchronously)
        if len(page.console_errors) >= seen + 2:
            break
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)
    del page.console_errors[seen:]
    for kind, names in zip(kinds, drawn):
        slots = widget_slots(info[kind])
        assert len(names) == len(slots), (kind, names, slots)
        assert [n for n, s in zip(names, slots) if s is not None] == [s for s in slots if s], kind

    workflow = json.loads(WORKFLOW.read_text(encoding="utf-8"))
    page.evaluate("async (wf) => { await window.app.loadGraphData(wf) }", workflow)
    front_end = page.evaluate("async () => (await window.app.graphToPrompt()).output")
    ours = ui_to_api(workflow, comfy_server.object_info())

    def strip(prompt: dict) -> dict:
        return {k: (v["class_type"], v["inputs"]) for k, v in prompt.items()}

    assert strip(front_end) == strip(ours)

    # A prompt queued from the page reports its progress to the page's socket.
    record_socket_events(page, ("executing", "progress", "executed"))
    prompt_id = queue_from_page(page, tiny_image_prompt(noise_seed=7))
    comfy_server.wait_for(prompt_id)
    page.wait_for_function(  # the front end's "executing null": the prompt is done
        "() => window.__flowsearchEvents.some(e => e.type === 'executing' && e.detail === null)"
    )
    events = page.evaluate("() => window.__flowsearchEvents")
    steps = [e["detail"] for e in events if e["type"] == "progress" and e["detail"]["node"] == "7"]
    assert [s["value"] for s in steps][-1:] == [2] and steps[-1]["max"] == 2
    assert any(e["type"] == "executed" and e["detail"]["node"] == "15" for e in events)
    page.wait_for_timeout(500)  # let the canvas draw the loaded graph
    page.screenshot(path=str(artifacts_dir / "comfyui_front_end.png"))
    assert page.console_errors == [], "\n".join(page.console_errors)


def test_console_filter_keeps_every_other_error():
    known = (
        "Failed to load resource: the server responded with a status of 404 (Not Found) "
        "(http://127.0.0.1:8188/api/userdata/user.css:0)"
    )
    assert is_known_front_end_error(known)
    assert not is_known_front_end_error(known.replace("user.css", "flowsearch.css"))
    assert not is_known_front_end_error(
        "uncaught: Cannot read properties of undefined (reading 'id')\n    at panel.js:3"
    )
