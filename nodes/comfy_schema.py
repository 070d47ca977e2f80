"""`NodeSpec` -> ComfyUI V3 ``io.Schema`` (the one place that maps our specs to ``io``)."""

from __future__ import annotations

from typing import Any, ClassVar

from comfy_api.latest import io

from .spec import Field, NodeSpec, Output

#: ComfyUI's own socket types; anything else becomes ``io.Custom(type)``.
_SOCKETS = {
    "MODEL": io.Model,
    "GUIDER": io.Guider,
    "NOISE": io.Noise,
    "SIGMAS": io.Sigmas,
    "SAMPLER": io.Sampler,
    "LATENT": io.Latent,
    "VAE": io.Vae,
    "IMAGE": io.Image,
    "CONDITIONING": io.Conditioning,
}


def socket_type(name: str) -> type:
    return _SOCKETS.get(name) or io.Custom(name)


def to_input(f: Field) -> io.Input:
    common = {"display_name": f.display_name, "optional": f.optional, "tooltip": f.tooltip}
    if f.type == "INT":
        return io.Int.Input(
            f.name,
            default=f.default,
            min=int(f.min),
            max=int(f.max),
            step=None if f.step is None else int(f.step),
            control_after_generate=f.control_after_generate or None,
            **common,
        )
    if f.type == "FLOAT":
        return io.Float.Input(
            f.name, default=f.default, min=f.min, max=f.max, step=f.step, round=False, **common
        )
    if f.type == "BOOLEAN":
        return io.Boolean.Input(f.name, default=f.default, **common)
    if f.type == "STRING":
        return io.String.Input(f.name, default=f.default, multiline=f.multiline, **common)
    if f.type == "COMBO":
        return io.Combo.Input(f.name, options=list(f.options), default=f.default, **common)
    return socket_type(f.type).Input(f.name, **common)


def to_output(o: Output) -> io.Output:
    return socket_type(o.type).Output(
        o.name, display_name=o.name, tooltip=o.tooltip, is_output_list=o.is_list
    )


def to_schema(spec: NodeSpec, hidden: list[io.Hidden] | None = None) -> io.Schema:
    return io.Schema(
        node_id=spec.node_id,
        display_name=spec.display_name,
        category=spec.category,
        description=spec.description,
        inputs=[to_input(f) for f in spec.inputs],
        outputs=[to_output(o) for o in spec.outputs],
        hidden=hidden,
        is_output_node=spec.output_node,
    )


class SpecNode(io.ComfyNode):
    """A V3 node whose schema is its ``SPEC``; constants are checked at validation time.

    ComfyUI 0.3.64 does not check V3 combo values, and skips its own min/max checks for
    inputs a ``validate_inputs`` receives: `NodeSpec.check_values` does both, for every
    widget (linked inputs arrive as ``None`` and are checked when the node runs).
    `checks` adds a node's cross-input rules.
    """

    SPEC: ClassVar[NodeSpec]
    HIDDEN: ClassVar[tuple[io.Hidden, ...]] = ()

    @classmethod
    def define_schema(cls) -> io.Schema:
        return to_schema(cls.SPEC, list(cls.HIDDEN) or None)

    @classmethod
    def validate_inputs(cls, **values: Any) -> bool | str:
        errors = cls.SPEC.check_values(values)
        if not errors:
            errors = cls.checks(values)
        return "; ".join(errors) or True

    @classmethod
    def checks(cls, values: dict[str, Any]) -> list[str]:
        """Cross-input rules on the constants (override; ``[]`` = fine). A linked input is
        present with value ``None``; an unconnected optional input is absent."""
        return []
