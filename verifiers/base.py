"""The verifier interface: images + prompts -> scores, higher is better.

Every verifier in this package follows one contract (``docs/verifiers/README.md``):

- input ``images``: ComfyUI IMAGE layout, ``[B, H, W, 3]`` float in ``[0, 1]``;
- input ``prompts``: one string for the whole batch or a list with one string per image;
- output: ``Tensor[B]`` (float32, on the images' device), higher is better;
- ``differentiable``: when True, gradients flow from the scores back to ``images``
  (the verifier's own resize/normalise included);
- ``batch_relative``: when True, an image's score depends on the other images of the same
  call (a rank ensemble): scores of different calls cannot be compared and a batch must
  not be split into chunks;
- ``input_size``: the square side the verifier resizes to (``None`` = any size);
- ``device``/``dtype``/``batch_size``: where and how its network runs; ``__call__`` splits
  the batch into chunks of ``batch_size`` so scores do not depend on how images arrive.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch

Prompts = str | Sequence[str]


def validate_images(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Check ComfyUI IMAGE layout ``[B, H, W, 3]``, float, finite, within ``[0, 1]``."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor [B, H, W, 3], got {type(images).__name__}")
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"{name} must have ComfyUI IMAGE layout [B, H, W, 3]; got shape {tuple(images.shape)}"
            " (a [B, 3, H, W] tensor must be permuted with .permute(0, 2, 3, 1))"
        )
    if images.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (shape {tuple(images.shape)})")
    if not images.is_floating_point():
        raise ValueError(
            f"{name} must be float in [0, 1]; got dtype {images.dtype} (divide uint8 by 255)"
        )
    with torch.no_grad():
        if not bool(torch.isfinite(images).all()):
            raise ValueError(f"{name} contains NaN or inf pixels")
        lo, hi = float(images.min()), float(images.max())
    tol = 1e-3
    if lo < -tol or hi > 1 + tol:
        raise ValueError(
            f"{name} must be in [0, 1]; got values in [{lo:.3g}, {hi:.3g}]"
            " (map [-1, 1] images with (x + 1) / 2)"
        )
    return images


def normalize_prompts(prompts: Prompts, batch: int, name: str = "prompts") -> list[str]:
    """One prompt per image: a single string is broadcast, a list must have length ``batch``."""
    if isinstance(prompts, str):
        return [prompts] * batch
    prompts = list(prompts)
    if not all(isinstance(p, str) for p in prompts):
        raise ValueError(f"{name} must be a string or a list of strings")
    if len(prompts) != batch:
        raise ValueError(
            f"{name} has {len(prompts)} entries for {batch} images; give one prompt, or one per image"
        )
    return prompts


class Verifier(ABC):
    """Base class: validation and chunking live here, the model call in ``score_batch``."""

    name: str = "verifier"
    differentiable: bool = False
    batch_relative: bool = False
    input_size: int | None = None

    def __init__(
        self,
        *,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 8,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.dtype = dtype
        self.batch_size = int(batch_size)

    @abstractmethod
    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        """Score one validated chunk (at most ``batch_size`` images) -> ``Tensor[B]``."""

    def __call__(self, images: torch.Tensor, prompts: Prompts = "") -> torch.Tensor:
        images = validate_images(images)
        prompt_list = normalize_prompts(prompts, images.shape[0])
        scores = [
            self.score_batch(images[i : i + self.batch_size], prompt_list[i : i + self.batch_size])
            .float()
            .reshape(-1)
            for i in range(0, images.shape[0], self.batch_size)
        ]
        out = torch.cat(scores).to(images.device)
        if out.shape[0] != images.shape[0]:
            raise RuntimeError(
                f"{self.name} returned {out.shape[0]} scores for {images.shape[0]} images"
            )
        return out

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, differentiable={self.differentiable}, "
            f"device={self.device}, dtype={self.dtype}, batch_size={self.batch_size})"
        )


def frame_indices(num_frames: int, mode: str = "ends", every: int = 1) -> list[int]:
    """Frames to score in a clip: ``"ends"`` = first/middle/last, ``"every"`` = every k-th."""
    if num_frames < 1:
        raise ValueError(f"a clip needs at least one frame, got {num_frames}")
    if mode == "ends":
        return sorted({0, (num_frames - 1) // 2, num_frames - 1})
    if mode == "every":
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        return list(range(0, num_frames, every))
    raise ValueError(f"frame mode must be 'ends' or 'every', got {mode!r}")


def score_clip(
    verifier: Verifier,
    frames: torch.Tensor,
    prompt: str,
    *,
    mode: str = "ends",
    every: int = 1,
    aggregate: str = "mean",
) -> torch.Tensor:
    """Score a video clip ``[F, H, W, 3]`` by sampling frames and aggregating.

    ``score = agg_{f in S} verifier(frames[f], prompt)`` with ``S = frame_indices(F, mode,
    every)`` and ``agg`` the mean or the min (the min asks every sampled frame to be good).
    Returns a 0-dim tensor; arguments are checked before the verifier runs. A
    ``batch_relative`` verifier (a rank ensemble) is refused: it would rank the frames of
    one clip against each other.
    """
    if verifier.batch_relative:
        raise ValueError(
            f"{verifier.name} scores images relative to their batch, so it cannot score the "
            "frames of a clip; use an Ensemble with mode='zscore' and fixed stats"
        )
    if aggregate not in ("mean", "min"):
        raise ValueError(f"aggregate must be 'mean' or 'min', got {aggregate!r}")
    if not isinstance(prompt, str):
        raise ValueError(
            f"prompt must be one string for the whole clip, got {type(prompt).__name__}"
        )
    validate_images(frames, "frames")
    idx = frame_indices(frames.shape[0], mode, every)
    scores = verifier(frames[idx], prompt)
    return scores.mean() if aggregate == "mean" else scores.min()
