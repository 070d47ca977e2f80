"""The pack's `ComfyExtension`: which nodes ComfyUI registers."""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from .method_nodes import METHOD_NODES, FlowSearchSamplingMode
from .sampler import FlowSearchSampler
from .schedule_node import FlowSearchTimeSchedule
from .verifier_nodes import FlowSearchScoreImages, FlowSearchVerifierEnsemble


class FlowSearchExtension(ComfyExtension):
    """The FlowSearch node pack."""

    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return [
            FlowSearchSampler,
            FlowSearchTimeSchedule,
            FlowSearchScoreImages,
            FlowSearchVerifierEnsemble,
            *METHOD_NODES,
            FlowSearchSamplingMode,
        ]
