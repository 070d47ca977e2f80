"""Test-only ComfyUI nodes (V3) that hand out the tiny models of `tiny_models`.

Registered in-process by `comfy_host_harness.boot`, and loaded by the ComfyUI server of
the browser tests as a custom-node package (`comfy_server.write_test_node_package`), so the
same graphs run in both. Every node is in category ``_for_testing`` and its id starts with
``FlowSearchTest_``. Substitutes for the loaders of a FLUX graph (see
`workflow_convert.TINY_FLUX_SUBSTITUTIONS`):

- ``FlowSearchTest_TinyUNet`` (variant, seed) -> MODEL      for ``UNETLoader``
- ``FlowSearchTest_TinyCLIP`` (seed) -> CLIP                for ``DualCLIPLoader``
- ``FlowSearchTest_TinyVAE`` (seed) -> VAE                  for ``VAELoader``
- ``FlowSearchTest_TinyCheckpoint`` (variant, seed) -> MODEL, CLIP, VAE
                                                            for ``CheckpointLoaderSimple``
- ``FlowSearchTest_TinyFlux`` (seed) -> MODEL, CONDITIONING (schnell + random conditioning)
- ``FlowSearchTest_LatentSink`` / ``FlowSearchTest_ImageSink``: output nodes that keep
  their input in the executor's cache and write no file.
"""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io
from tiny_models import (
    FLUX_VARIANTS,
    build_tiny_flux,
    build_tiny_flux_clip,
    build_tiny_vae,
    tiny_conditioning,
)

CATEGORY = "_for_testing"


def _seed_input(default: int = 0) -> io.Int.Input:
    return io.Int.Input("seed", default=default, min=0, max=2**31 - 1, control_after_generate=False)


def _variant_input() -> io.Combo.Input:
    return io.Combo.Input(
        "variant",
        options=list(FLUX_VARIANTS),
        tooltip="schnell: FLOW model, shift 1, no guidance; dev: FLUX model, guidance input",
    )


class TinyFlux(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_TinyFlux",
            category=CATEGORY,
            description="Tiny FLUX-schnell MODEL and a random CONDITIONING from one seed.",
            inputs=[_seed_input()],
            outputs=[io.Model.Output(), io.Conditioning.Output()],
        )

    @classmethod
    def execute(cls, seed: int) -> io.NodeOutput:
        return io.NodeOutput(build_tiny_flux(seed), tiny_conditioning(seed + 1))


class TinyUNet(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_TinyUNet",
            category=CATEGORY,
            description="Tiny FLUX MODEL (stands in for UNETLoader).",
            inputs=[_variant_input(), _seed_input()],
            outputs=[io.Model.Output()],
        )

    @classmethod
    def execute(cls, variant: str, seed: int) -> io.NodeOutput:
        return io.NodeOutput(build_tiny_flux(seed, variant))


class TinyCLIP(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_TinyCLIP",
            category=CATEGORY,
            description="Tiny FLUX text encoders CLIP-L + T5 (stands in for DualCLIPLoader).",
            inputs=[_seed_input()],
            outputs=[io.Clip.Output()],
        )

    @classmethod
    def execute(cls, seed: int) -> io.NodeOutput:
        return io.NodeOutput(build_tiny_flux_clip(seed))


class TinyVAE(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_TinyVAE",
            category=CATEGORY,
            description="Tiny taef1-layout VAE, 16 latent channels, 8x (stands in for VAELoader).",
            inputs=[_seed_input()],
            outputs=[io.Vae.Output()],
        )

    @classmethod
    def execute(cls, seed: int) -> io.NodeOutput:
        return io.NodeOutput(build_tiny_vae(seed))


class TinyCheckpoint(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_TinyCheckpoint",
            category=CATEGORY,
            description="Tiny FLUX MODEL, CLIP and VAE (stands in for CheckpointLoaderSimple).",
            inputs=[_variant_input(), _seed_input()],
            outputs=[io.Model.Output(), io.Clip.Output(), io.Vae.Output()],
        )

    @classmethod
    def execute(cls, variant: str, seed: int) -> io.NodeOutput:
        return io.NodeOutput(
            build_tiny_flux(seed, variant), build_tiny_flux_clip(seed + 1), build_tiny_vae(seed)
        )


class LatentSink(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_LatentSink",
            category=CATEGORY,
            inputs=[io.Latent.Input("samples")],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, samples: dict) -> io.NodeOutput:
        return io.NodeOutput()


class ImageSink(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearchTest_ImageSink",
            category=CATEGORY,
            inputs=[io.Image.Input("images")],
            outputs=[],
            is_output_node=True,
        )

    @classmethod
    def execute(cls, images) -> io.NodeOutput:
        return io.NodeOutput()


TEST_NODES: list[type[io.ComfyNode]] = [
    TinyFlux,
    TinyUNet,
    TinyCLIP,
    TinyVAE,
    TinyCheckpoint,
    LatentSink,
    ImageSink,
]


class TinyNodesExtension(ComfyExtension):
    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return list(TEST_NODES)


async def comfy_entrypoint() -> TinyNodesExtension:
    """V3 entry point for the server's test-node package."""
    return TinyNodesExtension()
