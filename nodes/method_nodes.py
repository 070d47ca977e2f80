"""One node per search method -> FLOWSEARCH_METHOD, and the Sampling Mode node.

The method nodes are generated from `method_specs.METHOD_SPECS` (one class per method in
the core's `METHODS`); each builds its method's typed options record, so a bad value or a
bad combination is reported at validation time, before anything runs.
"""

from __future__ import annotations

from typing import Any

from comfy_api.latest import io

from .catalog_sampling import SAMPLING_MODE, beta_checks
from .comfy_schema import SpecNode
from .method_specs import METHOD_SPECS
from .methods import MethodChoice, options_from_widgets, settings_from_widgets


class MethodNode(SpecNode):
    """Base of the generated method nodes: ``METHOD`` names the core's method."""

    METHOD: str

    @classmethod
    def checks(cls, values: dict[str, Any]) -> list[str]:
        options = {
            k: v
            for k, v in values.items()
            if k not in ("sampling", "sampling_settings", "guidance_scale")
        }
        if None in options.values():
            return []  # a linked option: the record checks it when the node runs
        try:
            options_from_widgets(cls.METHOD, options)
        except ValueError as err:
            return [str(err)]
        return []

    @classmethod
    def execute(
        cls, guidance_scale: float, sampling: str, sampling_settings=None, **options: Any
    ) -> io.NodeOutput:
        record = options_from_widgets(cls.METHOD, options)
        choice = MethodChoice(cls.METHOD, record, guidance_scale, sampling, sampling_settings)
        return io.NodeOutput(choice)


def _method_node(method: str) -> type[MethodNode]:
    spec = METHOD_SPECS[method]
    name = "FlowSearch" + spec.node_id.removeprefix("FlowSearch_")
    return type(name, (MethodNode,), {"SPEC": spec, "METHOD": method, "__doc__": spec.description})


METHOD_NODES = [_method_node(m) for m in METHOD_SPECS]


class FlowSearchSamplingMode(SpecNode):
    """Explicit sampling settings for a method node (overrides its ``sampling`` choice)."""

    SPEC = SAMPLING_MODE

    @classmethod
    def checks(cls, values: dict) -> list[str]:
        if None in values.values():
            return beta_checks(values)
        try:
            settings_from_widgets(values)
        except ValueError as err:
            return [str(err)]
        return []

    @classmethod
    def execute(cls, **values: Any) -> io.NodeOutput:
        return io.NodeOutput(settings_from_widgets(values))
