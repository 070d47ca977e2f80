"""The FLOWSEARCH_METHOD payload: a method, its typed options and a sampling choice.

A method node outputs a `MethodChoice`; the Flow Search node resolves it against the
connected model (`resolve`): ``auto`` picks the sampling settings of the model's regime
(`regime.auto_settings`), a preset name picks that preset, and explicit settings (from the
Sampling Mode node) win over both. Pure (never imports ComfyUI).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..samplers import METHODS, SamplerSettings
from .method_specs import INFO
from .regime import PRESETS, ModelFacts, auto_settings


@dataclass(frozen=True)
class MethodChoice:
    method: str
    options: Any  # the method's frozen options record
    guidance_scale: float = 0.0  # search-level gradient guidance (dps: > 0)
    sampling: str = "auto"  # "auto" or a name in regime.PRESETS
    settings: SamplerSettings | None = None  # explicit settings; win over `sampling`

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {sorted(METHODS)}; got {self.method!r}")
        if self.sampling != "auto" and self.sampling not in PRESETS:
            raise ValueError(
                f"sampling must be 'auto' or one of {sorted(PRESETS)}; got {self.sampling!r}"
            )


@dataclass(frozen=True)
class ResolvedMethod:
    """What the search runs with, and how the sampling settings were chosen (for the report)."""

    method: str
    options: Any
    settings: SamplerSettings
    guidance_scale: float
    choice: dict[str, Any]


def options_from_widgets(method: str, values: dict[str, Any]) -> Any:
    """The method's options record from node widget values (0 -> ``None`` where the field
    means "let the method choose"); the record validates itself (``ValueError``)."""
    record, _ = METHODS[method]
    hints = INFO[method].hints
    kwargs = {}
    for f in dataclasses.fields(record):
        if f.name not in values or f.name == "guidance_scale" or hints[f.name].fixed:
            continue
        value = values[f.name]
        if hints[f.name].none_means is not None and value == 0:
            value = None
        kwargs[f.name] = value
    return record(**kwargs)


def resolve(choice: MethodChoice, facts: ModelFacts) -> ResolvedMethod:
    if choice.settings is not None:
        settings, how = choice.settings, {"requested": "sampling_settings input"}
    elif choice.sampling == "auto":
        regime, why, fields = auto_settings(facts)
        preset = next(name for name, p in PRESETS.items() if p == fields)
        settings = SamplerSettings(**fields)
        how = {"requested": "auto", "regime": regime, "why": why, "preset": preset}
    else:
        settings = SamplerSettings(**PRESETS[choice.sampling])
        how = {"requested": choice.sampling, "preset": choice.sampling}
    return ResolvedMethod(
        choice.method, choice.options, settings, choice.guidance_scale,
        how | {"model": facts.describe()},
    )  # fmt: skip


SETTINGS_FIELDS = (
    "interpolant",
    "stochastic",
    "diffusion",
    "diffusion_scale",
    "grid",
    "beta_min",
    "beta_max",
)


def settings_from_widgets(values: dict[str, Any]) -> SamplerSettings:
    """The core's `SamplerSettings` from the Sampling Mode node's widgets (the betas only
    for the VP path: the record refuses them elsewhere)."""
    fields = {name: values[name] for name in SETTINGS_FIELDS}
    if fields["interpolant"] != "vp":
        del fields["beta_min"], fields["beta_max"]
    return SamplerSettings(**fields)
