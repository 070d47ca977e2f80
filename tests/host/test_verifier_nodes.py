"""Score Images and Verifier Ensemble in a real ComfyUI (test verifier: brightness)."""

from __future__ import annotations

import json

import pytest
import torch
from comfy_host_harness import GraphError
from node_fixtures import register_test_nodes

# Three flat images: dark grey, pure red, light grey (batch order 0, 1, 2).
COLORS = (0x202020, 0xFF0000, 0xC0C0C0)


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


def image_batch() -> dict:
    nodes = {
        f"i{k}": {
            "class_type": "EmptyImage",
            "inputs": {"width": 16, "height": 8, "batch_size": 1, "color": c},
        }
        for k, c in enumerate(COLORS)
    }
    nodes["b1"] = {"class_type": "ImageBatch", "inputs": {"image1": ["i0", 0], "image2": ["i1", 0]}}
    nodes["b2"] = {"class_type": "ImageBatch", "inputs": {"image1": ["b1", 0], "image2": ["i2", 0]}}
    return nodes


def score_graph(verifier: dict, prompt: str = "") -> dict:
    graph = image_batch() | {"v": verifier}
    graph["s"] = {
        "class_type": "FlowSearch_ScoreImages",
        "inputs": {"images": ["b2", 0], "verifier": ["v", 0], "prompt": prompt},
    }
    graph["out"] = {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["s", 3]}}
    graph["out2"] = {"class_type": "PreviewImage", "inputs": {"images": ["s", 0]}}
    return graph


def brightness(channel: int = -1) -> dict:
    return {"class_type": "FlowSearchTest_Brightness", "inputs": {"channel": channel}}


def test_score_images_ranks_a_batch(run):
    out = run(score_graph(brightness()))["s"]
    ranked, best, scores, report = (out[i][0] for i in range(4))
    means = [((c >> 16 & 255) + (c >> 8 & 255) + (c & 255)) / (3 * 255) for c in COLORS]
    order = sorted(range(3), key=lambda i: -means[i])  # light grey, red, dark grey
    assert [row["index"] for row in json.loads(report)] == order
    assert out[2] == pytest.approx([means[i] for i in order], abs=1e-6)  # FLOAT list output
    assert ranked.shape == (3, 8, 16, 3) and torch.equal(best, ranked[:1])
    assert [float(ranked[k].mean()) for k in range(3)] == pytest.approx(sorted(means)[::-1])
    assert isinstance(scores, float)


def test_ensemble_weights_change_the_winner(run):
    """Red channel alone prefers the red image; red + 3 x mean brightness the light grey."""
    graph = score_graph(
        {
            "class_type": "FlowSearch_VerifierEnsemble",
            "inputs": {
                "verifier_1": ["r", 0],
                "weight_1": 1.0,
                "verifier_2": ["a", 0],
                "weight_2": 0.0,
                "weight_3": 1.0,
                "weight_4": 1.0,
                "mode": "zscore",
            },
        }
    )
    graph |= {"r": brightness(0), "a": brightness(-1)}
    first = lambda g: json.loads(run(g)["s"][3][0])[0]["index"]  # noqa: E731
    assert first(graph) == 1
    graph["v"]["inputs"]["weight_2"] = 3.0
    assert first(graph) == 2
    graph["v"]["inputs"]["mode"] = "rank"
    assert first(graph) == 2


def test_ensemble_all_zero_weights_fail_validation(run):
    graph = score_graph(
        {
            "class_type": "FlowSearch_VerifierEnsemble",
            "inputs": {
                "verifier_1": ["r", 0],
                "weight_1": 0.0,
                "verifier_2": ["r", 0],
                "weight_2": 0.0,
                "weight_3": 1.0,
                "weight_4": 1.0,
                "mode": "rank",
            },
        }
    ) | {"r": brightness(0)}
    with pytest.raises(GraphError, match="validation") as info:
        run(graph)
    assert "weight 0" in str(info.value.details)


def test_bad_combo_fails_validation(run):
    graph = score_graph(
        {
            "class_type": "FlowSearch_VerifierEnsemble",
            "inputs": {
                "verifier_1": ["r", 0],
                "weight_1": 1.0,
                "verifier_2": ["r", 0],
                "weight_2": 1.0,
                "weight_3": 1.0,
                "weight_4": 1.0,
                "mode": "median",
            },
        }
    ) | {"r": brightness(0)}
    with pytest.raises(GraphError, match="validation") as info:
        run(graph)
    assert "mode must be one of ['rank', 'zscore']" in str(info.value.details)
