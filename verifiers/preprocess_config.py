"""Read a Hugging Face ``preprocessor_config.json`` the way the transformers processor does.

The differentiable verifiers preprocess in torch (`image_ops.ImagePreprocess`), so they read
the folder's image-processor settings themselves, with the same rules as transformers'
image processors (``get_size_dict`` and the processor class defaults):

- ``size`` as an integer means ``{"shortest_edge": n}`` for processors whose
  ``default_to_square`` is False (``CLIPImageProcessor``, ``SiglipImageProcessor``) and
  ``{"height": n, "width": n}`` otherwise (``BlipImageProcessor``); a ``[h, w]`` list means
  ``{"height": h, "width": w}``; a dict is used as it is. A ``default_to_square`` key in the
  file overrides the class default.
- ``crop_size`` as an integer always means ``{"height": n, "width": n}``; it is used when
  ``do_center_crop`` (class default: True for CLIP, False for SigLIP and BLIP).
- ``resample`` (PIL codes 2 bilinear, 3 bicubic), ``image_mean``/``image_std`` (a number
  or one per channel), ``do_normalize`` (False: mean 0, std 1).
- A missing key takes the processor class's default, as in transformers.

Settings these verifiers cannot reproduce exactly (non-square outputs, no resize, another
rescale factor, other resampling filters, ``longest_edge`` limits) are refused with a
``ValueError`` naming the file and the key instead of being approximated silently.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .image_ops import (
    INCEPTION_MEAN,
    INCEPTION_STD,
    OPENAI_CLIP_MEAN,
    OPENAI_CLIP_STD,
    ImagePreprocess,
)

_RESAMPLE = {2: "bilinear", 3: "bicubic"}  # PIL codes


@dataclass(frozen=True)
class ProcessorDefaults:
    """Class defaults of one transformers image processor (what a missing key means)."""

    name: str
    default_to_square: bool
    size: dict[str, int]
    crop_size: dict[str, int] | None
    do_center_crop: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    resample: int = 3


CLIP_PROCESSOR = ProcessorDefaults(
    "CLIPImageProcessor", False, {"shortest_edge": 224}, {"height": 224, "width": 224}, True,
    OPENAI_CLIP_MEAN, OPENAI_CLIP_STD,
)  # fmt: skip
SIGLIP_PROCESSOR = ProcessorDefaults(
    "SiglipImageProcessor", False, {"height": 224, "width": 224}, None, False,
    INCEPTION_MEAN, INCEPTION_STD,
)  # fmt: skip
BLIP_PROCESSOR = ProcessorDefaults(
    "BlipImageProcessor", True, {"height": 384, "width": 384}, None, False,
    OPENAI_CLIP_MEAN, OPENAI_CLIP_STD,
)  # fmt: skip


def size_dict(value: Any, *, default_to_square: bool, name: str = "size") -> dict[str, int]:
    """transformers' ``get_size_dict``: int -> square or shortest edge, ``[h, w]`` -> height
    and width, dict -> itself (keys checked)."""
    if isinstance(value, bool):
        raise ValueError(
            f"{name} must be a number, a [height, width] list or a dict, got {value!r}"
        )
    if isinstance(value, int):
        return {"height": value, "width": value} if default_to_square else {"shortest_edge": value}
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return {"height": int(value[0]), "width": int(value[1])}
    if isinstance(value, dict):
        keys = set(value)
        valid = ({"height", "width"}, {"shortest_edge"}, {"shortest_edge", "longest_edge"},
                 {"longest_edge"}, {"max_height", "max_width"})  # fmt: skip
        if keys not in valid:
            raise ValueError(f"{name} has keys {sorted(keys)}; expected one of {valid}")
        return {k: int(v) for k, v in value.items()}
    raise ValueError(f"{name} must be a number, a [height, width] list or a dict, got {value!r}")


def _channels(value: Any, default: tuple[float, ...], name: str) -> tuple[float, float, float]:
    if value is None:
        value = default
    if isinstance(value, (int, float)):
        value = [value] * 3
    if len(value) != 3:
        raise ValueError(f"{name} needs one value per RGB channel, got {value!r}")
    return tuple(float(v) for v in value)  # type: ignore[return-value]


def _geometry(cfg: dict[str, Any], d: ProcessorDefaults) -> tuple[str, int, int | None]:
    """``(geometry, size, shortest side before the crop)`` from size/crop settings."""
    square = bool(cfg.get("default_to_square", d.default_to_square))
    size = size_dict(cfg.get("size", d.size), default_to_square=square)
    crop = None
    if cfg.get("do_center_crop", d.do_center_crop):
        raw = cfg.get("crop_size", d.crop_size)
        if raw is None:
            raise ValueError("do_center_crop is set but crop_size is not")
        crop = size_dict(raw, default_to_square=True, name="crop_size")
        if crop["height"] != crop["width"]:
            raise ValueError(f"crop_size {crop} is not square; these verifiers need square input")
    if set(size) == {"shortest_edge"}:
        short = size["shortest_edge"]
        if crop is None:
            raise ValueError(
                f"size {size} without a centre crop gives non-square images of any aspect; "
                "these verifiers need square input (set do_center_crop and crop_size)"
            )
        if crop["height"] > short:
            raise ValueError(f"crop_size {crop} is larger than the resized side {short}")
        return "shortest_crop", crop["height"], short
    if set(size) == {"height", "width"}:
        if size["height"] != size["width"]:
            raise ValueError(f"size {size} is not square; these verifiers need square input")
        if crop is not None and crop["height"] != size["height"]:
            raise ValueError(f"a crop_size {crop} smaller than size {size} is not supported")
        return "square", size["height"], None
    raise ValueError(f"size {size} is not supported (use shortest_edge or height/width)")


def preprocess_from_config(cfg: dict[str, Any], defaults: ProcessorDefaults) -> ImagePreprocess:
    """`ImagePreprocess` equal to what the ``defaults`` processor does with settings ``cfg``."""
    if not cfg.get("do_resize", True):
        raise ValueError("do_resize is false: images of any size cannot feed a fixed-size model")
    factor = cfg.get("rescale_factor", 1 / 255)
    if not cfg.get("do_rescale", True) or not math.isclose(factor, 1 / 255, rel_tol=1e-6):
        raise ValueError(
            f"only 8-bit rescaling (do_rescale, factor 1/255) is supported, got {factor}"
        )
    resample = cfg.get("resample", defaults.resample)
    if resample not in _RESAMPLE:
        raise ValueError(f"resample {resample!r} is not supported (2 bilinear or 3 bicubic)")
    geometry, size, resize = _geometry(cfg, defaults)
    if cfg.get("do_normalize", True):
        mean = _channels(cfg.get("image_mean"), defaults.mean, "image_mean")
        std = _channels(cfg.get("image_std"), defaults.std, "image_std")
    else:
        mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return ImagePreprocess(
        size=size,
        geometry=geometry,
        resize=resize,
        resample=_RESAMPLE[resample],
        mean=mean,
        std=std,
    )


def preprocess_from_hf_folder(
    folder: Path, defaults: ProcessorDefaults, image_size: int
) -> ImagePreprocess:
    """Preprocessing of a HF model folder from its ``preprocessor_config.json``; without that
    file, the processor's defaults at the model's own ``image_size``."""
    path = Path(folder) / "preprocessor_config.json"
    if not path.is_file():
        fallback = {"size": image_size, "crop_size": image_size}
        if not defaults.default_to_square and defaults.crop_size is None:
            fallback["size"] = {"height": image_size, "width": image_size}
        return preprocess_from_config(fallback, defaults)
    cfg = json.loads(path.read_text(encoding="utf-8"))
    try:
        return preprocess_from_config(cfg, defaults)
    except ValueError as exc:
        raise ValueError(
            f"'{path}' ({defaults.name} settings): {exc}. Use the preprocessor_config.json "
            "that came with the model."
        ) from exc
