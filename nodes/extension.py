"""The pack's `ComfyExtension`: which nodes ComfyUI registers."""

from __future__ import annotations

from comfy_api.latest import ComfyExtension, io

from . import live
from .flow_search import FlowSearchFlowSearch
from .method_nodes import METHOD_NODES, FlowSearchSamplingMode
from .sampler import FlowSearchSampler
from .schedule_node import FlowSearchTimeSchedule
from .verifier_loaders import loader_nodes, register_folder
from .verifier_nodes import FlowSearchScoreImages, FlowSearchVerifierEnsemble


class FlowSearchExtension(ComfyExtension):
    """The FlowSearch node pack."""

    async def on_load(self) -> None:
        register_folder()

    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        register_folder()  # (again: a host that skips on_load still finds the weights)
        live.install_routes()  # before ComfyUI builds its web app (0.3.64 never calls on_load)
        return [
            FlowSearchFlowSearch,
            FlowSearchSampler,
            FlowSearchTimeSchedule,
            FlowSearchScoreImages,
            FlowSearchVerifierEnsemble,
            *METHOD_NODES,
            FlowSearchSamplingMode,
            *loader_nodes(),
        ]
