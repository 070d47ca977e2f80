"""API-format graphs around the Flow Search node for host tests (tiny models).

`flow_search_graph` builds: tiny FLUX (``FlowSearchTest_TinyUNet`` + random conditioning
from ``FlowSearchTest_TinyFlux``) -> guider, scheduler, empty latent, RandomNoise, tiny VAE,
a verifier node and a method node -> ``FlowSearch_FlowSearch`` (node ``"fs"``) -> sinks.
Every part can be overridden by keyword. `video_graph`: the same around the tiny Wan 2.1
(``FlowSearchTest_TinyWan`` / ``..._TinyWanVAE``, 5-D latents from ``EmptyHunyuanLatentVideo``).
"""

from __future__ import annotations

from typing import Any

from flowsearch.nodes.method_specs import METHOD_SPECS

FS = "fs"


def method_node(method: str = "bon", **values: Any) -> dict:
    spec = METHOD_SPECS[method]
    return {"class_type": spec.node_id, "inputs": spec.defaults() | values}


def flow_search_graph(
    *,
    method: dict | None = None,
    nfe_budget: int = 16,
    max_particles: int = 8,
    steps: int = 4,
    denoise: float = 1.0,
    seed: int = 0,
    batch: int = 1,
    size: int = 64,
    verifier: dict | None = None,
    prompt: str = "",
    variant: str = "schnell",
    guider: dict | None = None,
    latent: dict | None = None,
    extra: dict | None = None,
    **inputs: Any,
) -> dict:
    graph = {
        "unet": {
            "class_type": "FlowSearchTest_TinyUNet",
            "inputs": {"variant": variant, "seed": 0},
        },
        "cond": {"class_type": "FlowSearchTest_TinyFlux", "inputs": {"seed": 0}},
        "noise": {"class_type": "RandomNoise", "inputs": {"noise_seed": seed}},
        "guider": guider
        or {
            "class_type": "BasicGuider",
            "inputs": {"model": ["unet", 0], "conditioning": ["cond", 1]},
        },
        "sched": {
            "class_type": "BasicScheduler",
            "inputs": {
                "model": ["unet", 0],
                "scheduler": "simple",
                "steps": steps,
                "denoise": denoise,
            },
        },
        "latent": latent
        or {
            "class_type": "EmptySD3LatentImage",
            "inputs": {"width": size, "height": size, "batch_size": batch},
        },
        "vae": {"class_type": "FlowSearchTest_TinyVAE", "inputs": {"seed": 0}},
        "verifier": verifier
        or {"class_type": "FlowSearchTest_Brightness", "inputs": {"channel": -1}},
        "method": method or method_node("bon"),
        FS: {
            "class_type": "FlowSearch_FlowSearch",
            "inputs": {
                "noise": ["noise", 0],
                "guider": ["guider", 0],
                "sigmas": ["sched", 0],
                "latent_image": ["latent", 0],
                "vae": ["vae", 0],
                "verifier": ["verifier", 0],
                "prompt": prompt,
                "method": ["method", 0],
                "nfe_budget": nfe_budget,
                "max_particles": max_particles,
            }
            | inputs,
        },
        "sink_latent": {"class_type": "FlowSearchTest_LatentSink", "inputs": {"samples": [FS, 0]}},
        "sink_report": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": [FS, 3]}},
        "sink_images": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": [FS, 2]}},
        "sink_plot": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": [FS, 4]}},
        "sink_best": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": [FS, 1]}},
    }
    graph.update(extra or {})
    return graph


FRAMES = 5  # frames of the video graph's clips (2 latent frames)


def video_graph(method: dict, **kwargs) -> dict:
    graph = flow_search_graph(method=method, **kwargs)
    graph["unet"] = {"class_type": "FlowSearchTest_TinyWan", "inputs": {"seed": 0}}
    graph["guider"]["inputs"]["conditioning"] = ["unet", 1]
    graph["vae"] = {"class_type": "FlowSearchTest_TinyWanVAE", "inputs": {"seed": 0}}
    graph["latent"] = {
        "class_type": "EmptyHunyuanLatentVideo",
        "inputs": {"width": 64, "height": 64, "length": FRAMES, "batch_size": 1},
    }
    return graph


def outputs(result: dict) -> dict[str, Any]:
    """The Flow Search node's outputs by name (first list entry of each)."""
    names = ("best_latent", "best_image", "candidates", "report", "plot")
    return {n: result[FS][i][0] for i, n in enumerate(names)}
