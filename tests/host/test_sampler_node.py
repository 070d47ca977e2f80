"""`FlowSearch_StochasticSampler` inside a real ComfyUI: registration, graphs, time convention."""

from __future__ import annotations

import sys

import pytest
import torch
from comfy_host_harness import GraphError, sampling_prompt

NODE_ID = "FlowSearch_StochasticSampler"
EULER = {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}}
VP_T1 = 0.9934711772509035  # linear time of the default VP path at s = 1 (alpha(1) ~ 0.0066)


def flowsearch(**inputs) -> dict:
    """Our SAMPLER node entry with the node's defaults, overridden by ``inputs``."""
    values = {
        "interpolant": "linear",
        "stochastic": True,
        "diffusion": "square",
        "diffusion_scale": 3.0,
        "grid": "sigmas",
        "beta_min": 0.1,
        "beta_max": 20.0,
    }
    values.update(inputs)
    return {"class_type": NODE_ID, "inputs": values}


def final_latent(run_graph, sampler: dict, **kwargs) -> torch.Tensor:
    return run_graph(sampling_prompt(sampler, **kwargs))["7"][0][0]["samples"]


def test_node_registers_through_comfyui_loader(comfy_host, pack_node_ids):
    assert NODE_ID in pack_node_ids
    node_cls = comfy_host.nodes.NODE_CLASS_MAPPINGS[NODE_ID]
    schema = node_cls.GET_SCHEMA()
    assert [out.io_type for out in schema.outputs] == ["SAMPLER"]
    assert schema.description
    assert all(inp.tooltip for inp in schema.inputs)
    assert node_cls.RELATIVE_PYTHON_MODULE.startswith("custom_nodes.")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"interpolant": "vp", "grid": "adaptive"},
        {"interpolant": "vp", "stochastic": False, "grid": "uniform"},
        {"diffusion": "sigma", "diffusion_scale": 1.0},
        {"diffusion": "constant", "diffusion_scale": 0.5, "grid": "uniform"},
    ],
)
def test_graph_with_our_sampler_gives_finite_latents(run_graph, options):
    out = run_graph(sampling_prompt(flowsearch(**options), steps=6, size=64, batch=2))
    latent, denoised = out["7"][0][0]["samples"], out["7"][1][0]["samples"]
    assert latent.shape == (2, 16, 8, 8)
    assert bool(torch.isfinite(latent).all()) and bool(torch.isfinite(denoised).all())
    assert 0.5 < float(latent.std()) < 50.0


@pytest.mark.parametrize("steps", [4, 8])
def test_linear_ode_matches_comfyui_euler(run_graph, steps):
    """Same noise, same sigmas: our deterministic linear sampler is ComfyUI's `euler`."""
    ours = final_latent(run_graph, flowsearch(stochastic=False), steps=steps, noise_seed=3)
    euler = final_latent(run_graph, EULER, steps=steps, noise_seed=3)
    scale = float(euler.abs().max())
    assert scale > 1.0
    torch.testing.assert_close(ours, euler, rtol=0.0, atol=1e-5 * scale)


def test_vp_ode_converges_to_the_linear_ode_solution(run_graph):
    """The VP probability-flow ODE is the linear one in other coordinates: started at the
    same state (first sigma = t(s=1)), its Euler solution approaches the fine linear one."""
    ref = final_latent(run_graph, EULER, steps=400, first_sigma=VP_T1)
    vp = flowsearch(interpolant="vp", stochastic=False)
    err = [
        float((final_latent(run_graph, vp, steps=n, first_sigma=VP_T1) - ref).abs().max())
        for n in (25, 100)
    ]
    assert err[1] < 0.4 * err[0]
    assert err[1] < 0.05 * float(ref.abs().max())


def test_sde_same_seed_identical_other_seed_differs(run_graph):
    sde = flowsearch(interpolant="vp", grid="adaptive")
    a = final_latent(run_graph, sde, steps=6, noise_seed=11)
    b = final_latent(run_graph, sde, steps=6, noise_seed=11)
    c = final_latent(run_graph, sde, steps=6, noise_seed=12)
    ode = final_latent(run_graph, flowsearch(interpolant="vp", stochastic=False), steps=6)
    assert torch.equal(a, b)
    assert float((a - c).abs().max()) > 0.1
    assert float((a - ode).abs().max()) > 0.1


def test_sde_noise_comes_from_the_seed_not_global_rng(comfy_host, pack_node_ids):
    """The sampler function seeds its own CPU generator from ``extra_args["seed"]``, and its
    stream is not ComfyUI's initial noise for that seed (``torch.manual_seed(seed)``)."""
    module = sys.modules[comfy_host.nodes.NODE_CLASS_MAPPINGS[NODE_ID].__module__]
    sigmas = torch.linspace(1.0, 0.0, 5)
    x = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))

    def model(x, t, **extra):  # exact denoiser of N(0, I) data on the linear path
        t = t.view(-1, *[1] * (x.ndim - 1))
        return (1 - t) * x / ((1 - t) ** 2 + t**2)

    def run(seed, global_seed):
        torch.manual_seed(global_seed)
        return module.flowsearch_sample(model, x, sigmas, {"seed": seed})

    assert torch.equal(run(5, 0), run(5, 1))
    assert not torch.equal(run(5, 0), run(6, 0))
    initial = torch.randn(x.shape, generator=torch.manual_seed(5))
    sde = torch.randn(x.shape, generator=module.sde_generator(5))
    assert not torch.allclose(initial, sde)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"interpolant": "cosine"}, "interpolant must be one of ['linear', 'vp']; got 'cosine'"),
        ({"diffusion": "cubic"}, "diffusion must be one of"),
        ({"grid": "karras"}, "grid must be one of ['sigmas', 'uniform', 'adaptive']"),
        ({"interpolant": "vp", "beta_min": 30.0, "beta_max": 20.0}, "beta_min < beta_max"),
    ],
)
def test_bad_options_fail_validation_with_clear_errors(run_graph, options, message):
    """ComfyUI 0.3.64 does not check V3 combo values against their options: the node's
    ``validate_inputs`` does, before anything runs."""
    with pytest.raises(GraphError, match="validation") as info:
        run_graph(sampling_prompt(flowsearch(**options)))
    assert message in str(info.value.details)


def test_out_of_range_scale_fails_comfyui_validation(run_graph):
    with pytest.raises(GraphError, match="validation") as info:
        run_graph(sampling_prompt(flowsearch(diffusion_scale=-1.0)))
    assert "diffusion_scale" in str(info.value.details)


def test_vp_on_too_fine_sigmas_explains_the_fix(run_graph):
    """200 'simple' sigmas put 0.995 above t(s=1) ~ 0.9935: the VP grid collapses."""
    with pytest.raises(GraphError, match="adaptive"):
        run_graph(sampling_prompt(flowsearch(interpolant="vp"), steps=200))
