"""ComfyUI-facing nodes: the only layer of FlowSearch that imports ComfyUI.

ComfyUI calls the root package's `comfy_entrypoint`, which awaits `comfy_entrypoint` here
(V3 extension API). ComfyUI itself is imported only then (`extension.py` and the node
modules); the pure helpers of this package (`spec`, the catalogs, `regime`, `schedule`,
`report`) import without a host, so their tests run everywhere.
"""

from __future__ import annotations


async def comfy_entrypoint():
    """ComfyUI V3 entry point: the pack's `ComfyExtension`."""
    from .extension import FlowSearchExtension

    return FlowSearchExtension()


__all__ = ["comfy_entrypoint"]
