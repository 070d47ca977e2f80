"""ComfyUI-facing nodes: the only layer of FlowSearch that imports ComfyUI.

ComfyUI calls the root package's `comfy_entrypoint`, which imports this module and awaits
`comfy_entrypoint` here (V3 extension API).
"""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from .sampler import FlowSearchSampler


class FlowSearchExtension(ComfyExtension):
    """The FlowSearch node pack."""

    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [FlowSearchSampler]


async def comfy_entrypoint() -> FlowSearchExtension:
    """ComfyUI V3 entry point."""
    return FlowSearchExtension()


__all__ = ["FlowSearchExtension", "FlowSearchSampler", "comfy_entrypoint"]
