"""Method nodes and the Sampling Mode node in a real ComfyUI."""

from __future__ import annotations

import dataclasses

import pytest
from comfy_host_harness import GraphError
from node_fixtures import register_test_nodes

from flowsearch.nodes.method_specs import INFO, METHOD_SPECS


@pytest.fixture(scope="module")
def run(comfy_host, run_graph):
    register_test_nodes(comfy_host)
    return run_graph


def method_graph(method: str, **values) -> dict:
    spec = METHOD_SPECS[method]
    inputs = spec.defaults() | values
    return {
        "m": {"class_type": spec.node_id, "inputs": inputs},
        "out": {"class_type": "FlowSearchTest_Sink", "inputs": {"value": ["m", 0]}},
    }


@pytest.mark.parametrize("method", sorted(METHOD_SPECS))
def test_every_method_node_builds_its_record_with_its_defaults(comfy_host, run, method):
    """The core record's defaults, except the node defaults whose tooltips say why."""
    node_cls = comfy_host.nodes.NODE_CLASS_MAPPINGS[METHOD_SPECS[method].node_id]
    schema = node_cls.GET_SCHEMA()
    assert [o.io_type for o in schema.outputs] == ["FLOWSEARCH_METHOD"]
    assert all(i.tooltip for i in schema.inputs)
    choice = run(method_graph(method))["m"][0][0]
    assert choice.method == method and choice.sampling == "auto" and choice.settings is None
    changed = {
        k: h.node_default for k, h in INFO[method].hints.items() if h.node_default is not None
    }
    assert dataclasses.asdict(choice.options) == dataclasses.asdict(type(choice.options)(**changed))


def test_zero_means_let_the_method_choose(run):
    choice = run(method_graph("rbf", initial_particles=0, chains=2))["m"][0][0]
    assert choice.options.initial_particles is None and choice.options.chains == 2
    choice = run(method_graph("rbf", initial_particles=7))["m"][0][0]
    assert choice.options.initial_particles == 7


@pytest.mark.parametrize(
    ("method", "values", "message"),
    [
        ("sop", {"forward": 0.9, "backward": 0.5}, "must exceed forward"),
        ("smc", {"resampling": "residual"}, "resampling must be one of"),
        ("zero_order", {"similarity": 1.5}, "similarity must be in"),
        ("rbf", {"chains": 0}, "chains must be in [1"),
        ("bon", {"sampling": "karras"}, "sampling must be one of"),
    ],
)
def test_bad_options_fail_validation(run, method, values, message):
    with pytest.raises(GraphError, match="validation") as info:
        run(method_graph(method, **values))
    assert message in str(info.value.details)


def test_sampling_mode_overrides_the_choice(run):
    graph = method_graph("bon")
    graph["m"]["inputs"]["sampling_settings"] = ["s", 0]
    graph["s"] = {
        "class_type": "FlowSearch_SamplingMode",
        "inputs": {
            "interpolant": "linear",
            "stochastic": False,
            "diffusion": "square",
            "diffusion_scale": 3.0,
            "grid": "sigmas",
            "beta_min": 0.1,
            "beta_max": 20.0,
        },
    }
    choice = run(graph)["m"][0][0]
    assert choice.settings.interpolant == "linear" and choice.settings.stochastic is False
