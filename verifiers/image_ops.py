"""Differentiable image preprocessing for verifiers, in plain torch (no torchvision, no PIL).

Every verifier that declares ``differentiable = True`` resizes and normalises with these
functions so gradients reach the ComfyUI pixels ``[B, H, W, 3]`` in ``[0, 1]``.

The geometry follows the reference pipelines:

- ``"shortest_crop"`` (OpenAI CLIP, HF ``CLIPImageProcessor``, BLIP): scale the shorter side
  to ``size`` (longer side ``int(size * long / short)``), then centre-crop ``size x size``;
  the crop offset is ``round((H - size) / 2)`` as in torchvision's ``CenterCrop``.
- ``"square"`` (HF ``SiglipImageProcessor``): resize straight to ``size x size``.
- ``"longest_pad"`` (HPSv2's ``ResizeMaxSize``): scale the longer side to ``size``
  (each side ``round(dim * scale)``), then pad to ``size x size`` with ``fill`` centred,
  the odd pixel going right/bottom.

Resampling is ``F.interpolate`` bicubic/bilinear with ``antialias=True`` (what PIL and
torchvision >= 0.17 do when downscaling). PIL-based references work on uint8 and so clip
the bicubic overshoot to ``[0, 1]``; ``clamp=True`` reproduces that. Finally
``x_norm = (x - mean) / std`` per channel. All arithmetic runs in float32; the result is
cast to the model dtype at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

OPENAI_CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
INCEPTION_MEAN = (0.5, 0.5, 0.5)
INCEPTION_STD = (0.5, 0.5, 0.5)

_GEOMETRIES = ("shortest_crop", "square", "longest_pad")


@dataclass(frozen=True)
class ImagePreprocess:
    """How one verifier turns ``[B, H, W, 3]`` in ``[0, 1]`` into normalised ``[B, 3, S, S]``."""

    size: int
    geometry: str = "shortest_crop"
    resize: int | None = None  # shortest side before the crop (``None`` = ``size``)
    resample: str = "bicubic"
    mean: tuple[float, float, float] = OPENAI_CLIP_MEAN
    std: tuple[float, float, float] = OPENAI_CLIP_STD
    clamp: bool = True
    antialias: bool = True
    fill: float = 0.0

    def __post_init__(self) -> None:
        if self.size < 1:
            raise ValueError(f"preprocess size must be >= 1, got {self.size}")
        if self.geometry not in _GEOMETRIES:
            raise ValueError(f"geometry must be one of {_GEOMETRIES}, got {self.geometry!r}")
        if self.resample not in ("bicubic", "bilinear"):
            raise ValueError(f"resample must be 'bicubic' or 'bilinear', got {self.resample!r}")

    def __call__(self, images: torch.Tensor, *, device: torch.device, dtype: torch.dtype):
        """``[B, H, W, 3]`` -> normalised ``[B, 3, size, size]`` on ``device`` in ``dtype``."""
        x = images.to(device=device, dtype=torch.float32).permute(0, 3, 1, 2)
        if self.geometry == "shortest_crop":
            short = self.resize or self.size
            x = resize_shortest_side(x, short, self.resample, self.antialias)
            x = center_crop(x, self.size)
        elif self.geometry == "square":
            x = _resize(x, (self.size, self.size), self.resample, self.antialias)
        else:
            x = resize_longest_and_pad(x, self.size, self.resample, self.antialias, self.fill)
        if self.clamp:
            x = x.clamp(0.0, 1.0)
        return normalize(x, self.mean, self.std).to(dtype)


def _resize(x: torch.Tensor, size: tuple[int, int], mode: str, antialias: bool) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=antialias)


def resize_shortest_side(
    x: torch.Tensor, size: int, mode: str = "bicubic", antialias: bool = True
) -> torch.Tensor:
    """``[B, C, H, W]`` -> shorter side ``size``, longer side ``int(size * long / short)``."""
    h, w = x.shape[-2:]
    if h <= w:
        new = (size, int(size * w / h))
    else:
        new = (int(size * h / w), size)
    return _resize(x, new, mode, antialias)


def center_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """Centre ``size x size`` crop of ``[B, C, H, W]`` (torchvision ``CenterCrop`` offsets)."""
    h, w = x.shape[-2:]
    if h < size or w < size:
        raise ValueError(f"cannot centre-crop {size}x{size} from an image of {h}x{w}")
    top = int(round((h - size) / 2.0))
    left = int(round((w - size) / 2.0))
    return x[..., top : top + size, left : left + size]


def resize_longest_and_pad(
    x: torch.Tensor, size: int, mode: str = "bicubic", antialias: bool = True, fill: float = 0.0
) -> torch.Tensor:
    """HPSv2 ``ResizeMaxSize``: longer side to ``size``, then centred pad to a square."""
    h, w = x.shape[-2:]
    scale = size / float(max(h, w))
    new_h, new_w = (round(h * scale), round(w * scale))
    x = _resize(x, (new_h, new_w), mode, antialias)
    pad_h, pad_w = size - new_h, size - new_w
    if pad_h or pad_w:
        pads = (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)
        x = F.pad(x, pads, mode="constant", value=fill)
    return x


def normalize(x: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """Per-channel ``(x - mean) / std`` on ``[B, 3, H, W]``."""
    m = torch.tensor(mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x - m) / s


def to_pil(images: torch.Tensor) -> list[Any]:
    """ComfyUI images ``[B, H, W, 3]`` in [0, 1] -> list of RGB ``PIL.Image`` (uint8,
    ``round(255 x)``), for verifiers whose models take PIL images (not differentiable)."""
    from PIL import Image

    arr = (images.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
    return [Image.fromarray(np.ascontiguousarray(a)) for a in arr]
