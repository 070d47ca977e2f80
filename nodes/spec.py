"""Declarative node specs: what each node's inputs and outputs are, as plain data.

A `NodeSpec` is the single description of a node's interface. `comfy_schema.to_schema`
turns it into ComfyUI's V3 ``io.Schema``; tests read it without a host (tooltips, ranges,
defaults) and check example workflows' widget values against it (`NodeSpec.check_widgets`).
This module never imports ComfyUI.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: Input types that are widgets (a value typed on the node) rather than sockets.
WIDGET_TYPES = ("INT", "FLOAT", "BOOLEAN", "STRING", "COMBO")
#: Largest seed / count ComfyUI's front end handles as an exact integer.
INT_MAX = 0xFFFF_FFFF_FFFF_FFFF


@dataclass(frozen=True)
class Field:
    """One node input. ``type`` is a widget type (`WIDGET_TYPES`) or a socket type
    (``"GUIDER"``, ``"VERIFIER"``, ...). Numbers carry ``min``/``max``/``step``; combos
    their ``options``; a seed sets ``control_after_generate`` (the front end then stores
    one extra widget value after it)."""

    name: str
    type: str
    tooltip: str
    default: Any = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    options: tuple[str, ...] = ()
    optional: bool = False
    multiline: bool = False
    display_name: str | None = None
    control_after_generate: bool = False

    @property
    def is_widget(self) -> bool:
        return self.type in WIDGET_TYPES

    def problems(self) -> list[str]:
        """Defects of the spec itself (empty when sane): tooltip, ranges, default fits."""
        out = []
        where = f"input '{self.name}'"
        if not self.tooltip or len(self.tooltip.strip()) < 10:
            out.append(f"{where} has no useful tooltip")
        if self.type in ("INT", "FLOAT"):
            if self.min is None or self.max is None or not self.min < self.max:
                out.append(f"{where} needs min < max; got [{self.min}, {self.max}]")
            if self.step is not None and self.step <= 0:
                out.append(f"{where} has step {self.step} <= 0")
        if self.type == "COMBO" and not self.options:
            out.append(f"{where} is a combo without options")
        if self.is_widget and self.default is None:
            out.append(f"{where} is a widget without a default")
        elif self.is_widget and (err := self.check(self.default)):
            out.append(f"default: {err}")
        return out

    def check(self, value: Any) -> str | None:
        """Why ``value`` does not fit this widget, as "<name> must ..." (``None`` if it fits)."""
        if self.type == "BOOLEAN" and not isinstance(value, bool):
            return f"{self.name} must be a boolean; got {value!r}"
        if self.type == "STRING" and not isinstance(value, str):
            return f"{self.name} must be a string; got {value!r}"
        if self.type == "COMBO" and value not in self.options:
            return f"{self.name} must be one of {list(self.options)}; got {value!r}"
        if self.type in ("INT", "FLOAT"):
            number = (int, float) if self.type == "FLOAT" else (int,)
            if isinstance(value, bool) or not isinstance(value, number):
                return f"{self.name} must be an {self.type} number; got {value!r}"
            if not math.isfinite(value) or value < self.min or value > self.max:
                return f"{self.name} must be in [{self.min}, {self.max}]; got {value!r}"
        if not self.is_widget:
            return f"{self.name} is a {self.type} socket, not a widget"
        return None


@dataclass(frozen=True)
class Output:
    name: str
    type: str
    tooltip: str
    is_list: bool = False


@dataclass(frozen=True)
class NodeSpec:
    """A node's identity and interface. ``node_id`` is what workflows store as its type."""

    node_id: str
    display_name: str
    category: str
    description: str
    inputs: tuple[Field, ...]
    outputs: tuple[Output, ...]
    output_node: bool = False

    def input(self, name: str) -> Field:
        for f in self.inputs:
            if f.name == name:
                return f
        raise KeyError(f"{self.node_id} has no input '{name}'")

    def widgets(self) -> tuple[Field, ...]:
        """Widget inputs in schema order (the order of a UI workflow's ``widgets_values``)."""
        return tuple(f for f in self.inputs if f.is_widget)

    def defaults(self) -> dict[str, Any]:
        return {f.name: f.default for f in self.widgets()}

    def problems(self) -> list[str]:
        out = [p for f in self.inputs for p in f.problems()]
        names = [f.name for f in self.inputs] + [o.name for o in self.outputs]
        if len(set(names)) != len(names):
            out.append(f"{self.node_id}: input/output names are not unique: {names}")
        if not self.node_id.startswith("FlowSearch"):
            out.append(f"{self.node_id}: node ids carry the pack prefix 'FlowSearch'")
        if not self.category.startswith("FlowSearch/"):
            out.append(f"{self.node_id}: category {self.category!r} is not under FlowSearch/")
        if len(self.description) < 40:
            out.append(f"{self.node_id}: description too short")
        out += [f"output '{o.name}' has no tooltip" for o in self.outputs if not o.tooltip]
        return out

    def check_widgets(self, values: Sequence[Any]) -> list[str]:
        """Check a UI workflow's ``widgets_values`` (positional; a seed with
        ``control_after_generate`` is followed by its mode, e.g. ``"fixed"``)."""
        errors, i = [], 0
        for f in self.widgets():
            if i >= len(values):
                errors.append(f"missing value for '{f.name}'")
                return errors
            if err := f.check(values[i]):
                errors.append(err)
            i += 1
            if f.control_after_generate:
                if i >= len(values) or values[i] not in CONTROL_MODES:
                    errors.append(f"'{f.name}' must be followed by one of {CONTROL_MODES}")
                i += 1
        if i != len(values):
            errors.append(f"{len(values) - i} widget value(s) too many: {list(values[i:])}")
        return errors

    def check_values(self, values: Mapping[str, Any]) -> list[str]:
        """Check named widget values (an API-format prompt's constants). ``None`` means
        "linked, not known yet" (what ComfyUI passes to ``validate_inputs`` for a link)."""
        known = {f.name for f in self.inputs}
        errors = [f"{self.node_id} has no input '{k}'" for k in values if k not in known]
        for f in self.widgets():
            value = values.get(f.name)
            if value is not None and (err := f.check(value)):
                errors.append(err)
        return errors


CONTROL_MODES = ("fixed", "increment", "decrement", "randomize")
