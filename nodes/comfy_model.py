"""What a ComfyUI MODEL is, for the checks and choices FlowSearch makes about it.

- `model_facts`: the model's ComfyUI config, model type and sampling (for the ``auto``
  regime, `regime.detect_regime`);
- `require_flow_model`: FlowSearch samples flow-matching models only (``CONST`` prediction
  with model times in [0, 1]); anything else is refused with the reason and the fix;
- `time_shift`: the model's time warp ``t -> w(t)`` from its ``model_sampling``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import comfy.model_sampling

from .regime import ModelFacts

_PREDICTIONS = ("CONST", "COSMOS_RFLOW", "IMG_TO_IMG", "X0", "EDM", "V_PREDICTION", "EPS")


def model_sampling_of(model: Any) -> Any:
    """The ``model_sampling`` object in effect for a ModelPatcher (object patches included,
    e.g. after ComfyUI's ModelSamplingFlux / ModelSamplingSD3 nodes)."""
    return model.get_model_object("model_sampling")


def prediction_of(sampling: Any) -> str:
    """Name of the prediction class mixed into a ``model_sampling`` (most specific first)."""
    for cls in type(sampling).__mro__:
        if cls.__module__ == comfy.model_sampling.__name__ and cls.__name__ in _PREDICTIONS:
            return cls.__name__
    return type(sampling).__name__


def model_facts(model: Any) -> ModelFacts:
    base = model.model
    config = getattr(base, "model_config", None)
    unet = getattr(config, "unet_config", {}) or {}
    sampling = model_sampling_of(model)
    shift = getattr(sampling, "shift", None)
    model_type = getattr(base, "model_type", None)
    return ModelFacts(
        config=type(config).__name__ if config is not None else "unknown",
        image_model=unet.get("image_model"),
        guidance_embed=unet.get("guidance_embed"),
        model_type=getattr(model_type, "name", str(model_type)),
        prediction=prediction_of(sampling),
        sampling=type(sampling).__mro__[1].__name__ if type(sampling).__mro__[1:] else "",
        shift=float(shift) if isinstance(shift, int | float) else None,
    )


def require_flow_model(model: Any, node: str) -> Any:
    """Return the model's ``model_sampling`` or raise ``ValueError`` naming what is wrong.

    FlowSearch integrates the linear path ``x_t = (1 - t) x0 + t eps``: ComfyUI's ``CONST``
    prediction (FLUX, SD3.x, Wan, HunyuanVideo, Chroma, Qwen-Image, ...) with sigmas in [0, 1].
    """
    sampling = model_sampling_of(model)
    kind = prediction_of(sampling)
    if kind != "CONST":
        facts = model_facts(model)
        raise ValueError(
            f"{node}: the connected model is not a flow-matching model: ComfyUI samples it "
            f"with {kind} prediction ({facts.describe()}). FlowSearch needs a flow model "
            "(CONST prediction: FLUX, SD3.x, Wan, HunyuanVideo, Chroma, Qwen-Image, ...). "
            "Use a core sampler for this model, or connect a flow model."
        )
    sigma_max = float(getattr(sampling, "sigma_max", 1.0))
    if sigma_max > 1.0 + 1e-4:
        raise ValueError(
            f"{node}: the model's sigmas reach {sigma_max:.4g} > 1; FlowSearch needs flow-model "
            "times in [0, 1] (t = 1 noise)."
        )
    return sampling


def time_shift(model: Any) -> Callable[[float], float]:
    """``w(t)``: the model's own map from unshifted to shifted model time (increasing,
    ``w(0) = 0``, ``w(1) = 1``), via ``model_sampling.percent_to_sigma(1 - t)``."""
    sampling = model_sampling_of(model)

    def warp(t: float) -> float:
        if t <= 0.0:
            return 0.0
        if t >= 1.0:
            return 1.0
        return float(sampling.percent_to_sigma(1.0 - t))

    return warp
