"""UI-format workflow (what the ComfyUI front end saves) -> API-format prompt (what it queues).

Pure Python, no ComfyUI import: the node definitions come in as ``object_info`` (the JSON of
``GET /object_info``, or `comfy_host_harness.object_info` in-process). The rules follow the
front end pinned by ComfyUI 0.3.64 (``comfyui-frontend-package==1.27.10``):

- Saved format (version 0.4): ``nodes`` with ``id``, ``type``, ``mode``, ``inputs`` (sockets:
  ``name``, ``type``, ``link``; a widget that is linked also appears here, with
  ``widget: {"name": ...}``; unlinked widgets do not), ``widgets_values``; ``links`` as
  ``[id, origin_id, origin_slot, target_id, target_slot, type]``.
- ``widgets_values`` is in widget order: the node's inputs in ``input_order`` (required,
  then optional), those whose type has a widget (INT, FLOAT, STRING, BOOLEAN, a combo
  list or COMBO, ...) unless ``forceInput``. Extra values that never reach the API:
  ``control_after_generate`` after an INT that asks for it (or, when it does not say, is
  named ``seed`` / ``noise_seed``); after a combo that asks for it, the control and a
  filter string; after a remote combo (a file list the front end fetches), an auto-refresh
  toggle and, if it has one, a refresh button; and an ``upload`` value after all inputs
  for a media-upload combo. A
  linked widget keeps a (stale) value in ``widgets_values``; the link wins.
- Modes: 0 runs; 2 (muted) and 4 (bypassed) nodes are left out. A link from a bypassed
  node goes to its input of the same slot when the types fit, else the first input of the
  link's type (the front end's rule). Links to muted or missing nodes are dropped.
- Virtual nodes are resolved and left out: ``Reroute`` (pass-through), ``PrimitiveNode``
  (its value goes into the widgets it feeds), ``Note`` and ``MarkdownNote``.
- Array widget values are wrapped as ``{"__value__": [...]}`` (arrays mean links).

Subgraphs and legacy group nodes raise `WorkflowError` (no example of ours uses them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

MODE_NEVER, MODE_BYPASS = 2, 4
VIRTUAL_TYPES = frozenset({"Reroute", "PrimitiveNode", "Note", "MarkdownNote"})
# Input types the front end draws as widgets (its ComfyWidgets table).
WIDGET_TYPES = frozenset(
    {
        "INT",
        "FLOAT",
        "STRING",
        "BOOLEAN",
        "COMBO",
        "MARKDOWN",
        "IMAGEUPLOAD",
        "FILEUPLOAD",
        "COLOR",
        "IMAGECOMPARE",
        "TREESELECT",
        "MULTISELECT",
        "CHART",
        "GALLERIA",
        "SELECTBUTTON",
        "TEXTAREA",
    }
)
UPLOAD_FLAGS = ("image_upload", "video_upload", "animated_image_upload")
SEED_NAMES = ("seed", "noise_seed")


class WorkflowError(ValueError):
    """The workflow cannot be converted; the message names the node and what is wrong."""


def widget_slots(node_info: Mapping[str, Any]) -> list[str | None]:
    """The node's widgets in the order of its ``widgets_values``: the input name for a
    value that goes to the API, ``None`` for front-end-only values (seed control, combo
    filter, upload button)."""
    inputs = node_info.get("input", {})
    order = node_info.get("input_order") or {k: list(v) for k, v in inputs.items()}
    slots: list[str | None] = []
    upload = False
    for section in ("required", "optional"):
        specs = inputs.get(section) or {}
        names = [n for n in order.get(section, []) if n in specs]
        names += [n for n in specs if n not in names]
        for name in names:
            kind, options = _spec(specs[name])
            if options.get("forceInput") or kind not in WIDGET_TYPES:
                continue
            slots.append(name)
            remote = options.get("remote")
            if kind == "COMBO" and isinstance(remote, dict):  # auto-refresh toggle, button
                slots += [None, None] if remote.get("refresh_button") else [None]
            control = options.get("control_after_generate")
            if kind == "INT" and (control if control is not None else name in SEED_NAMES):
                slots.append(None)
            elif kind == "COMBO" and control:
                slots += [None, None]
            if section == "required" and kind == "COMBO":
                upload = upload or any(options.get(flag) for flag in UPLOAD_FLAGS)
    return slots + [None] if upload else slots


def ui_to_api(
    workflow: Mapping[str, Any],
    object_info: Mapping[str, Mapping[str, Any]],
    *,
    extra_widget_values: Mapping[str, int] | None = None,
) -> dict[str, dict]:
    """Convert a saved UI workflow into the API prompt the front end would queue.

    ``extra_widget_values[type] = n`` allows ``n`` trailing values after a node type's
    schema widgets (widgets a front-end extension adds); any other count mismatch raises
    `WorkflowError` listing the expected widget names and the values found.
    """
    graph = _Graph(workflow, object_info)
    extra = dict(extra_widget_values or {})
    prompt: dict[str, dict] = {}
    for node in graph.nodes.values():
        if node["type"] in VIRTUAL_TYPES or node.get("mode", 0) in (MODE_NEVER, MODE_BYPASS):
            continue
        info = object_info[node["type"]]
        inputs = _widget_inputs(node, info, extra.get(node["type"], 0))
        for slot in node.get("inputs") or []:
            if slot.get("link") is None:
                continue
            source = graph.resolve_link(slot["link"], slot.get("type", "*"))
            if source is None:  # nothing upstream: a widget keeps its own value
                continue
            if source[0] == "value":
                inputs[slot["name"]] = _wrap(source[1])
            else:
                inputs[slot["name"]] = [str(source[1]), int(source[2])]
        title = node.get("title") or info.get("display_name") or node["type"]
        prompt[str(node["id"])] = {
            "inputs": inputs,
            "class_type": node["type"],
            "_meta": {"title": title},
        }
    for entry in prompt.values():  # links into nodes that were left out
        inputs = entry["inputs"]
        for name in [n for n, v in inputs.items() if _is_link(v) and v[0] not in prompt]:
            del inputs[name]
    return prompt


def substitute(
    prompt: Mapping[str, dict], rules: Mapping[str, Callable[[dict], dict | None]]
) -> dict[str, dict]:
    """A copy of ``prompt`` with nodes replaced: ``rules[class_type](inputs)`` returns the
    replacement ``{"class_type", "inputs"}`` (same output slots) or ``None`` to keep the
    node. Links to a replaced node stay as they are."""
    out = {}
    for node_id, entry in prompt.items():
        rule = rules.get(entry["class_type"])
        new = rule(dict(entry["inputs"])) if rule else None
        if new is None:
            out[node_id] = {**entry, "inputs": dict(entry["inputs"])}
        else:
            out[node_id] = {"class_type": new["class_type"], "inputs": dict(new["inputs"])}
            out[node_id]["_meta"] = {"title": f"{entry['class_type']} -> {new['class_type']}"}
    return out


def _tiny_variant(unet_name: str) -> str:
    return "schnell" if "schnell" in unet_name.lower() else "dev"


# Loaders of a FLUX graph -> the test nodes of `tiny_nodes` (``VAELoader`` stays: the
# session's models folder holds a tiny ``ae.safetensors``). FLUX.1-schnell files give the
# schnell variant (FLOW, no guidance), every other file the dev variant.
TINY_FLUX_SUBSTITUTIONS: dict[str, Callable[[dict], dict | None]] = {
    "UNETLoader": lambda inputs: {
        "class_type": "FlowSearchTest_TinyUNet",
        "inputs": {"variant": _tiny_variant(str(inputs.get("unet_name", ""))), "seed": 0},
    },
    "DualCLIPLoader": lambda inputs: {
        "class_type": "FlowSearchTest_TinyCLIP",
        "inputs": {"seed": 1},
    },
    "CheckpointLoaderSimple": lambda inputs: {
        "class_type": "FlowSearchTest_TinyCheckpoint",
        "inputs": {"variant": _tiny_variant(str(inputs.get("ckpt_name", ""))), "seed": 0},
    },
}
# Optional extra rule: any VAELoader -> the in-process tiny VAE node (no file read).
TINY_VAE_SUBSTITUTION: dict[str, Callable[[dict], dict | None]] = {
    "VAELoader": lambda inputs: {"class_type": "FlowSearchTest_TinyVAE", "inputs": {"seed": 0}},
}


class _Graph:
    """Nodes and links of a saved workflow, with the front end's link resolution."""

    def __init__(self, workflow: Mapping[str, Any], object_info: Mapping[str, Any]) -> None:
        if not isinstance(workflow.get("nodes"), list) or not isinstance(
            workflow.get("links"), list
        ):
            raise WorkflowError(
                "not a UI-format workflow (needs 'nodes' and 'links' lists); an API-format "
                "prompt is already what ComfyUI queues"
            )
        self.nodes = {n["id"]: n for n in workflow["nodes"]}
        self.links = {}
        for link in workflow["links"]:
            if isinstance(link, dict):  # the object form some savers use
                link = [link[k] for k in ("id", "origin_id", "origin_slot", "target_id")]
            self.links[link[0]] = (link[1], link[2])
        subgraphs = {s["id"] for s in (workflow.get("definitions") or {}).get("subgraphs", [])}
        for node in self.nodes.values():
            kind = node["type"]
            if kind in subgraphs or kind.startswith(("workflow>", "workflow/")):
                raise WorkflowError(
                    f"node {node['id']} ({kind}) is a subgraph or group node; "
                    "unpack it in the front end first"
                )
            if kind not in VIRTUAL_TYPES and kind not in object_info:
                raise WorkflowError(
                    f"node {node['id']} has type {kind!r}, which this ComfyUI does not know "
                    "(a custom node that is not loaded?)"
                )

    def resolve_link(self, link_id: int, want: str = "*", depth: int = 0):
        """``("node", id, slot)``, ``("value", v)`` (a primitive's value) or ``None``."""
        if depth > len(self.nodes) + 1:
            raise WorkflowError(f"link {link_id} loops through reroutes or bypassed nodes")
        if link_id not in self.links:
            raise WorkflowError(f"link {link_id} is used by a node but not in 'links'")
        origin_id, slot = self.links[link_id]
        origin = self.nodes.get(origin_id)
        if origin is None or origin.get("mode", 0) == MODE_NEVER:
            return None
        kind = origin["type"]
        if kind == "PrimitiveNode":
            values = origin.get("widgets_values") or []
            return ("value", values[0]) if values else None
        if kind == "Reroute" or origin.get("mode", 0) == MODE_BYPASS:
            index = 0 if kind == "Reroute" else self._bypass_input(origin, slot, want)
            inputs = origin.get("inputs") or []
            if index < 0 or index >= len(inputs) or inputs[index].get("link") is None:
                return None
            return self.resolve_link(inputs[index]["link"], want, depth + 1)
        if kind in VIRTUAL_TYPES:
            return None
        return ("node", origin_id, slot)

    @staticmethod
    def _bypass_input(node: Mapping[str, Any], slot: int, want: str) -> int:
        inputs = node.get("inputs") or []
        outputs = node.get("outputs") or []
        out_type = outputs[slot]["type"] if slot < len(outputs) else want
        if want in ("*", ""):
            return slot if len(inputs) > slot else 0
        if slot < len(inputs):
            opposite = inputs[slot]["type"]
            if _fits(opposite, out_type) and _fits(opposite, want):
                return slot
        for i, item in enumerate(inputs):
            if item["type"] == want:
                return i
        for i, item in enumerate(inputs):
            if _fits(item["type"], out_type) and _fits(item["type"], want):
                return i
        return -1


def _widget_inputs(node: Mapping[str, Any], info: Mapping[str, Any], extra: int) -> dict:
    slots = widget_slots(info)
    values = node.get("widgets_values")
    if values is None:
        values = []
    if isinstance(values, Mapping):
        return {n: _wrap(values[n]) for n in slots if n is not None and n in values}
    if not (len(slots) <= len(values) <= len(slots) + extra):
        raise WorkflowError(
            f"node {node['id']} ({node['type']}): {len(values)} widget values {list(values)!r} "
            f"for widgets {slots!r} (None = front-end-only value); does the workflow match "
            "this node's schema?"
        )
    return {name: _wrap(v) for name, v in zip(slots, values) if name is not None}


def _spec(spec: Any) -> tuple[str, dict]:
    kind = spec[0] if isinstance(spec, (list, tuple)) and spec else spec
    options = spec[1] if isinstance(spec, (list, tuple)) and len(spec) > 1 else {}
    options = options if isinstance(options, dict) else {}
    if isinstance(kind, (list, tuple)):
        kind = "COMBO"
    return str(options.get("widgetType") or kind), options


def _fits(a: str, b: str) -> bool:
    """LiteGraph's type check: equal, a wildcard, or overlapping comma-separated sets."""
    if a in ("*", "", 0) or b in ("*", "", 0):
        return True
    left = {t.strip().upper() for t in str(a).split(",")}
    right = {t.strip().upper() for t in str(b).split(",")}
    return bool(left & right)


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)


def _wrap(value: Any) -> Any:
    return {"__value__": value} if isinstance(value, list) else value
