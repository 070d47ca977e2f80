"""Specs of the verifier loader nodes, built from the verifier registry's typed options.

One loader node per family (ComfyUI 0.3.64's V3 API has no combo whose options follow
another input). Its widgets: ``model`` (the entries of ``models/verifiers/<family>/``, for
families with weights), then the family's loader options as the registry declares them
(type, default, range or choices, tooltip), except ``path`` (that is ``model``) and
``device`` (a combo: ``auto`` = the device ComfyUI runs models on, or ``cpu``). A nullable
number is a widget whose value one below its minimum stands for ``None`` ("the default").

Pure (never imports ComfyUI).
"""

from __future__ import annotations

from typing import Any

from .spec import Field, NodeSpec, Output

VERIFIER_TYPE = "VERIFIER"
DEVICES = ("auto", "cpu")
INT_MAX_DEFAULT = 100_000
FLOAT_MAX_DEFAULT = 10_000.0
TITLES = {
    "clip_score": "CLIPScore",
    "pickscore": "PickScore",
    "hpsv2": "HPSv2",
    "aesthetic": "LAION Aesthetic",
    "image_reward": "ImageReward",
    "vqascore": "VQAScore",
    "vlm_grader": "VLM Grader",
    "counting": "Object Counting",
    "ocr": "OCR Text Match",
    "safety": "NSFW Penalty",
}


def node_id(family: str) -> str:
    return f"FlowSearch_LoadVerifier_{family}"


def none_value(spec: Any) -> float | int:
    """The widget value that stands for ``None`` of a nullable number option."""
    low = spec.min if spec.min is not None else 0
    return low - 1


def model_field(availability: Any, entries: tuple[str, ...]) -> Field:
    files = ", ".join(availability.files) or "the model's files"
    return Field(
        "model",
        "COMBO",
        f"A model in ComfyUI/{availability.folder} (a folder or file; expected files: "
        f"{files}). Public model: {availability.model_id}. FlowSearch never downloads: "
        f"see {availability.docs}.",
        entries[0] if entries else "",
        options=entries,
    )


def option_field(spec: Any) -> Field | None:
    """The widget of one registry `OptionSpec` (``None`` for ``path``: the model combo)."""
    if spec.name == "path":
        return None
    if spec.name == "device":
        tip = "auto: the device ComfyUI runs models on (its GPU if it has one); cpu: the CPU."
        return Field("device", "COMBO", tip, "auto", options=DEVICES)
    if spec.choices:
        return Field(spec.name, "COMBO", spec.tooltip, spec.default, options=spec.choices)
    if spec.type == "bool":
        return Field(spec.name, "BOOLEAN", spec.tooltip, spec.default)
    if spec.type in ("str", "path"):
        tip = spec.tooltip + (" (a path; empty = the default)" if spec.type == "path" else "")
        return Field(spec.name, "STRING", tip, spec.default or "")
    is_int = spec.type == "int"
    low = spec.min if spec.min is not None else (0 if is_int else -FLOAT_MAX_DEFAULT)
    high = spec.max if spec.max is not None else (INT_MAX_DEFAULT if is_int else FLOAT_MAX_DEFAULT)
    default, tip = spec.default, spec.tooltip
    if spec.nullable:
        low = none_value(spec)
        default = low if default is None else default
        tip = f"{tip} ({low} = the default)"
    step = spec.step if spec.step is not None else (None if is_int else 0.01)
    return Field(
        spec.name, "INT" if is_int else "FLOAT", tip, default, min=low, max=high, step=step
    )


def loader_spec(availability: Any, entries: tuple[str, ...] = ()) -> NodeSpec:
    """The loader node of one family; ``entries`` lists ``models/verifiers/<family>/``."""
    family = availability.family
    title = TITLES.get(family, family)
    fields = [model_field(availability, entries)] if availability.needs_weights else []
    fields += [f for s in availability.schema() if (f := option_field(s)) is not None]
    grad = (
        "differentiable (usable for gradient guidance)"
        if availability.differentiable
        else ("not differentiable")
    )
    return NodeSpec(
        node_id=node_id(family),
        display_name=f"FlowSearch Load Verifier: {title}",
        category="FlowSearch/verifiers",
        description=(
            f"Loads the {title} verifier (a reward model: images + prompt -> score, higher is "
            f"better; {grad}) from local files only. Docs: {availability.docs}."
        ),
        inputs=tuple(fields),
        outputs=(Output("verifier", VERIFIER_TYPE, "Connect to Flow Search, Score Images, ..."),),
    )


def options_from_widgets(availability: Any, values: dict[str, Any], path: str | None) -> dict:
    """The family's loader options (as a mapping for the registry) from widget values:
    ``path`` from the model combo, nullable sentinels back to ``None``; ``device`` as given
    (``auto`` is resolved by the node)."""
    out: dict[str, Any] = {}
    for spec in availability.schema():
        if spec.name == "path":
            if path is not None:
                out["path"] = path
            continue
        if spec.name not in values:
            continue
        value = values[spec.name]
        if spec.nullable and spec.type in ("int", "float") and value == none_value(spec):
            value = None
        out[spec.name] = value
    return out
