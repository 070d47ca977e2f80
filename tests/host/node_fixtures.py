"""Test-only nodes and models for the node tests (beside the harness's own).

`register_test_nodes` adds, once per session:

- ``FlowSearchTest_Sink``: an output node taking any type (so a graph ending in SIGMAS,
  STRING, VERIFIER, ... runs);
- ``FlowSearchTest_TinyFluxDev``: a tiny FLUX.1-dev-type model (ComfyUI config ``Flux``:
  guidance embedding, model type ``FLUX``, ``ModelSamplingFlux`` shift 1.15) + conditioning.
"""

from __future__ import annotations

from typing import Any

import torch


def build_tiny_flux_dev(seed: int = 0) -> Any:
    """Like the harness's tiny FLUX, but from ComfyUI's ``supported_models.Flux`` config."""
    import comfy.model_management as mm
    import comfy.model_patcher
    import comfy.supported_models
    from comfy_host_harness import TINY_FLUX_CONFIG, init_parameters

    config = comfy.supported_models.Flux(dict(TINY_FLUX_CONFIG, guidance_embed=True))
    config.set_inference_dtype(torch.float32, None)
    model = config.get_model({}, "", device=torch.device("cpu"))
    init_parameters(model, seed)
    return comfy.model_patcher.ModelPatcher(
        model, load_device=mm.get_torch_device(), offload_device=mm.unet_offload_device()
    )


def test_nodes() -> list[type]:
    from comfy_api.latest import io
    from comfy_host_harness import tiny_conditioning

    class Sink(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_Sink",
                category="_for_testing",
                inputs=[io.AnyType.Input("value")],
                outputs=[],
                is_output_node=True,
            )

        @classmethod
        def execute(cls, value: Any) -> io.NodeOutput:
            return io.NodeOutput()

    class TinyFluxDev(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_TinyFluxDev",
                category="_for_testing",
                inputs=[io.Int.Input("seed", default=0, min=0, max=2**31)],
                outputs=[io.Model.Output(), io.Conditioning.Output()],
            )

        @classmethod
        def execute(cls, seed: int) -> io.NodeOutput:
            return io.NodeOutput(build_tiny_flux_dev(seed), tiny_conditioning(seed + 1))

    return [Sink, TinyFluxDev]


def register_test_nodes(host: Any) -> None:
    for cls in test_nodes():
        host.nodes.NODE_CLASS_MAPPINGS.setdefault(cls.GET_SCHEMA().node_id, cls)
