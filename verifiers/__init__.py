"""Verifiers: reward models that score images against a prompt (higher is better).

Every verifier takes ComfyUI IMAGE tensors ``[B, H, W, 3]`` in [0, 1] and a prompt (or one
per image) and returns ``Tensor[B]``; see `base.Verifier` and ``docs/verifiers/README.md``.
Weights load from local files only (never a download, never ``trust_remote_code``, pickles
only ``weights_only=True``) and are checked tensor by tensor at load time. Optional
dependencies are imported when a family is loaded; `available_verifiers` (in `registry`)
tells which families this environment can load and, for the others, why not.
`reward_from_verifier` turns a verifier into a search reward on latents.

This module only re-exports. Never imports ComfyUI.
"""

from __future__ import annotations

from .aesthetic import AestheticOptions, AestheticScore, load_aesthetic
from .base import Verifier, frame_indices, normalize_prompts, score_clip, validate_images
from .clip_score import CLIPScore, CLIPScoreOptions, load_clip_score
from .counting import CountingOptions, CountingVerifier, load_counting, parse_count_spec
from .ensemble import Ensemble
from .files import COMFY_FOLDER, MissingDependencyError, MissingWeightsError, WeightSource
from .hps import HPSv2, HPSv2Options, load_hps
from .image_reward import ImageReward, ImageRewardOptions, load_image_reward
from .ocr import OCROptions, OCRVerifier, load_ocr
from .options import LoaderOptions, OptionSpec
from .pickscore import PickScore, PickScoreOptions, load_pickscore
from .registry import (
    FAMILIES,
    Availability,
    VerifierFamily,
    available_verifiers,
    load_verifier,
    options_for,
    unavailable_reason,
)
from .reward import RewardTimings, VerifierReward, reward_from_verifier
from .safety import SafetyOptions, SafetyPenalty, load_safety
from .vlm_grader import VLMGrader, VLMGraderOptions, load_vlm_grader, parse_score
from .vqascore import VQAScore, VQAScoreOptions, load_vqascore

__all__ = [
    "COMFY_FOLDER",
    "FAMILIES",
    "AestheticOptions",
    "AestheticScore",
    "Availability",
    "CLIPScore",
    "CLIPScoreOptions",
    "CountingOptions",
    "CountingVerifier",
    "Ensemble",
    "HPSv2",
    "HPSv2Options",
    "ImageReward",
    "ImageRewardOptions",
    "LoaderOptions",
    "MissingDependencyError",
    "MissingWeightsError",
    "OCROptions",
    "OCRVerifier",
    "OptionSpec",
    "PickScore",
    "PickScoreOptions",
    "RewardTimings",
    "SafetyOptions",
    "SafetyPenalty",
    "VLMGrader",
    "VLMGraderOptions",
    "VQAScore",
    "VQAScoreOptions",
    "Verifier",
    "VerifierFamily",
    "VerifierReward",
    "WeightSource",
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
    "options_for",
    "parse_count_spec",
    "parse_score",
    "reward_from_verifier",
    "score_clip",
    "unavailable_reason",
    "validate_images",
]
