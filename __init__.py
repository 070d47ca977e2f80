"""FlowSearch: inference-time scaling for flow models.

Importing this package never imports ComfyUI. ComfyUI finds `comfy_entrypoint` (its V3
extension API) and `WEB_DIRECTORY` here; the ComfyUI-facing code in `nodes/` is imported
only when ComfyUI calls the entry point.
"""

from __future__ import annotations

__version__ = "0.1.0"

WEB_DIRECTORY = "./web"


async def comfy_entrypoint():
    """ComfyUI V3 entry point: returns the pack's `ComfyExtension`."""
    from .nodes import comfy_entrypoint as _entrypoint

    return await _entrypoint()


__all__ = ["WEB_DIRECTORY", "__version__", "comfy_entrypoint"]
