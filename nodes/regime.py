"""Which sampling settings suit which model: the regime table behind the ``auto`` choice.

Two regimes (see docs/nodes.md, "auto"):

- ``distilled``: few-step distilled flow models such as FLUX.1-schnell (ComfyUI config
  ``FluxSchnell``: FLUX without a guidance embedding, model type ``FLOW``, shift 1). Their
  ``x0_hat`` is sharp early; the RBF paper's setting was measured on exactly this model:
  VP-SDE with ``g(s) = 3 s^2`` on the paper's adaptive grid. On our distilled Fashion-MNIST
  student the VP-SDE was never worse than the linear SDE beyond noise and held the best
  cells at 50 and 100 NFE (docs/search.md, "Which method for which model").
- ``full``: every other flow model (FLUX.1-dev with its guidance embedding and
  time shift, SD3.x, Wan, ...). On our full (non-distilled) Fashion-MNIST teacher the
  best method on the linear-path SDE beat the best on the VP-SDE at equal NFE
  (classifier B at 100 NFE: 78% vs 58%; at 500: 98% vs 90%), so ``full`` samples the
  linear-path SDE, on the connected SIGMAS: the user's scheduler (e.g. with FLUX.1-dev's
  shift) decides the grid; the FlowSearch Time Schedule node makes the adaptive one.

Pure data and logic (never imports ComfyUI); `comfy_model.model_facts` reads the facts
from a ComfyUI model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Named sampling presets: fields of the core's ``SamplerSettings``.
PRESETS: dict[str, dict[str, Any]] = {
    "vp_sde_paper": {
        "interpolant": "vp",
        "stochastic": True,
        "diffusion": "square",
        "diffusion_scale": 3.0,
        "grid": "adaptive",
    },
    "linear_sde": {
        "interpolant": "linear",
        "stochastic": True,
        "diffusion": "square",
        "diffusion_scale": 3.0,
        "grid": "sigmas",
    },
    "linear_ode": {
        "interpolant": "linear",
        "stochastic": False,
        "diffusion": "square",
        "diffusion_scale": 3.0,
        "grid": "sigmas",
    },
}
#: The ``auto`` table: regime -> preset.
REGIME_PRESET = {"distilled": "vp_sde_paper", "full": "linear_sde"}
#: ComfyUI model configs known to be few-step distilled.
DISTILLED_CONFIGS = ("FluxSchnell",)


@dataclass(frozen=True)
class ModelFacts:
    """What ComfyUI says about a model (strings, so this stays host-free)."""

    config: str  # supported_models class name, e.g. "FluxSchnell"
    image_model: str | None  # unet_config["image_model"], e.g. "flux"
    guidance_embed: bool | None  # FLUX: True for dev (CFG-distilled guidance input)
    model_type: str  # ModelType name: "FLOW", "FLUX", "EPS", ...
    prediction: str  # model_sampling's prediction class: "CONST", "EPS", "V_PREDICTION", ...
    sampling: str  # model_sampling's schedule class, e.g. "ModelSamplingFlux"
    shift: float | None  # model_sampling.shift when it has one

    def describe(self) -> str:
        shift = "" if self.shift is None else f", shift {self.shift:g}"
        return f"{self.config} ({self.model_type}, {self.prediction}, {self.sampling}{shift})"


def detect_regime(facts: ModelFacts) -> tuple[str, str]:
    """``(regime, why)`` for the ``auto`` choice."""
    if facts.config in DISTILLED_CONFIGS:
        return "distilled", (
            f"ComfyUI detected the model as {facts.config}, a few-step distilled flow model"
        )
    if facts.image_model == "flux" and facts.guidance_embed is False:
        return "distilled", "a FLUX model without guidance embedding (FLUX.1-schnell type)"
    return "full", f"{facts.describe()} is not a known few-step distilled model"


def auto_settings(facts: ModelFacts) -> tuple[str, str, dict[str, Any]]:
    """``(regime, why, preset fields)`` picked for ``auto`` on this model."""
    regime, why = detect_regime(facts)
    return regime, why, dict(PRESETS[REGIME_PRESET[regime]])
