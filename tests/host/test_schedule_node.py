"""`FlowSearch_TimeSchedule` in a real ComfyUI: model times, the model's shift, refusals."""

from __future__ import annotations

import math

import pytest
import torch
from comfy_host_harness import GraphError
from node_fixtures import register_test_nodes

from flowsearch.nodes.schedule import schedule_model_times
from flowsearch.samplers import LinearInterpolant, VPInterpolant

NODE_ID = "FlowSearch_TimeSchedule"


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


def schedule_graph(model: list, **inputs) -> dict:
    values = {
        "interpolant": "vp",
        "grid": "adaptive",
        "steps": 10,
        "denoise": 1.0,
        "apply_model_shift": True,
        "beta_min": 0.1,
        "beta_max": 20.0,
    } | inputs
    return {
        "1": {"class_type": "FlowSearchTest_TinyFlux", "inputs": {"seed": 0}},
        "2": {"class_type": NODE_ID, "inputs": {"model": model} | values},
        "3": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["2", 0]}},
        "4": {
            "class_type": "ModelSamplingFlux",
            "inputs": {
                "model": ["1", 0],
                "max_shift": 1.15,
                "base_shift": 0.5,
                "width": 1024,
                "height": 1024,
            },
        },
        "5": {
            "class_type": "ModelSamplingDiscrete",
            "inputs": {"model": ["1", 0], "sampling": "eps", "zsnr": False},
        },
    }


def sigmas(run, model=("1", 0), **inputs) -> list[float]:
    out = run(schedule_graph(list(model), **inputs))["2"][0][0]
    assert out.dtype == torch.float32 and out.ndim == 1
    return out.tolist()


def test_registered_with_tooltips(comfy_host, pack_node_ids):
    assert NODE_ID in pack_node_ids
    schema = comfy_host.nodes.NODE_CLASS_MAPPINGS[NODE_ID].GET_SCHEMA()
    assert [o.io_type for o in schema.outputs] == ["SIGMAS"]
    assert all(i.tooltip for i in schema.inputs)


@pytest.mark.parametrize("interpolant", ["linear", "vp"])
@pytest.mark.parametrize("grid", ["adaptive", "uniform"])
def test_schnell_sigmas_are_the_grid_in_model_time(run, interpolant, grid):
    """FLUX.1-schnell's shift is 1: the node returns the pure schedule."""
    path = VPInterpolant() if interpolant == "vp" else LinearInterpolant()
    got = sigmas(run, interpolant=interpolant, grid=grid, steps=6)
    assert got == pytest.approx(schedule_model_times(path, grid, 6), abs=1e-6)
    assert got[-1] == 0.0 and len(got) == 7


def test_flux_shift_warps_the_times(run):
    """ModelSamplingFlux at 1024x1024 gives mu = 1.15: w(t) = e^mu / (e^mu + 1/t - 1)."""
    plain = sigmas(run, interpolant="linear", grid="uniform", steps=4)
    shifted = sigmas(run, ("4", 0), interpolant="linear", grid="uniform", steps=4)
    off = sigmas(
        run, ("4", 0), interpolant="linear", grid="uniform", steps=4, apply_model_shift=False
    )
    mu = 1.15
    expected = [math.exp(mu) / (math.exp(mu) + 1 / t - 1) if t > 0 else 0.0 for t in plain]
    assert shifted == pytest.approx(expected, abs=1e-5)
    assert off == pytest.approx(plain, abs=1e-7)


def test_denoise_and_zero_denoise(run):
    part = sigmas(run, interpolant="linear", grid="uniform", steps=4, denoise=0.5)
    assert part == pytest.approx([0.5, 0.375, 0.25, 0.125, 0.0], abs=1e-7)
    assert sigmas(run, denoise=0.0) == []


def test_sigmas_drive_a_core_sampler(run):
    """The SIGMAS plug into SamplerCustomAdvanced with ComfyUI's own euler."""
    prompt = schedule_graph(["1", 0], steps=5)
    prompt.update(
        {
            "6": {"class_type": "RandomNoise", "inputs": {"noise_seed": 1}},
            "7": {
                "class_type": "BasicGuider",
                "inputs": {"model": ["1", 0], "conditioning": ["1", 1]},
            },
            "8": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
            "9": {
                "class_type": "EmptySD3LatentImage",
                "inputs": {"width": 64, "height": 64, "batch_size": 1},
            },
            "10": {
                "class_type": "SamplerCustomAdvanced",
                "inputs": {
                    "noise": ["6", 0],
                    "guider": ["7", 0],
                    "sampler": ["8", 0],
                    "sigmas": ["2", 0],
                    "latent_image": ["9", 0],
                },
            },
            "11": {"class_type": "FlowSearchTest_LatentSink", "inputs": {"samples": ["10", 0]}},
        }
    )
    latent = run(prompt)["10"][0][0]["samples"]
    assert latent.shape == (1, 16, 8, 8) and bool(torch.isfinite(latent).all())


def test_eps_model_is_refused_with_the_reason(run):
    with pytest.raises(GraphError, match="not a flow-matching model") as info:
        sigmas(run, ("5", 0))
    assert "EPS" in str(info.value)


def test_bad_betas_fail_validation(run):
    with pytest.raises(GraphError, match="validation") as info:
        sigmas(run, beta_min=30.0, beta_max=20.0)
    assert "beta_min < beta_max" in str(info.value.details)
