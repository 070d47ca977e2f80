"""Test-only nodes and models for the node tests (beside the harness's own).

`register_test_nodes` adds, once per session:

- ``FlowSearchTest_Sink``: an output node taking any type (so a graph ending in SIGMAS,
  STRING, VERIFIER, ... runs);
- ``FlowSearchTest_TinyFluxDev``: a tiny FLUX.1-dev-type model (ComfyUI config ``Flux``:
  guidance embedding, model type ``FLUX``, ``ModelSamplingFlux`` shift 1.15) + conditioning;
- ``FlowSearchTest_Brightness``: a VERIFIER scoring mean brightness (``channel``: one colour
  channel or all), a real differentiable `Verifier` whose optimum the tests can see.
"""

from __future__ import annotations

import importlib
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


def pack_module(host: Any, name: str) -> Any:
    """Submodule ``name`` of the pack *as ComfyUI loaded it* (``custom_nodes.<folder>``):
    its classes are the ones the nodes check against, not those of ``import flowsearch``."""
    node_module = host.nodes.NODE_CLASS_MAPPINGS["FlowSearch_StochasticSampler"].__module__
    root = node_module.rsplit(".nodes.", 1)[0]
    return importlib.import_module(f"{root}.{name}")


def brightness_verifier(host: Any, channel: int = -1) -> Any:
    """A real differentiable `Verifier`: score = mean pixel value of one channel (0, 1, 2)
    or of all (-1); it ignores prompts."""
    base = pack_module(host, "verifiers").Verifier

    class Brightness(base):
        name = "brightness"
        differentiable = True
        needs_prompt = False

        def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
            x = images if channel < 0 else images[..., channel]
            return x.reshape(x.shape[0], -1).mean(dim=1)

    return Brightness()


def test_nodes(host: Any) -> list[type]:
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

    class BrightnessNode(io.ComfyNode):
        @classmethod
        def define_schema(cls) -> io.Schema:
            return io.Schema(
                node_id="FlowSearchTest_Brightness",
                category="_for_testing",
                inputs=[io.Int.Input("channel", default=-1, min=-1, max=2)],
                outputs=[io.Custom("VERIFIER").Output()],
            )

        @classmethod
        def execute(cls, channel: int) -> io.NodeOutput:
            return io.NodeOutput(brightness_verifier(host, channel))

    return [Sink, TinyFluxDev, BrightnessNode]


def register_test_nodes(host: Any) -> None:
    for cls in test_nodes(host):
        host.nodes.NODE_CLASS_MAPPINGS.setdefault(cls.GET_SCHEMA().node_id, cls)
