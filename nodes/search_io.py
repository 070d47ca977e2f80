"""Latents in and images out around a search: decoding, the start latent, candidates.

- `LatentDecoder`: model-space ``x0`` (what the sampler sees, after ``process_latent_in``)
  -> IMAGE through a VAE, in chunks; it times itself and counts how often decoding made
  ComfyUI evict (part of) the diffusion model from its device, which the report shows.
- `prepare_latent`: a copy of the LATENT dict with an empty latent given the model's
  channel count (as SamplerCustomAdvanced does); the input dict is never touched.
- `flatten_frames`: video decodes ``[N, T, H, W, 3]`` -> ``[N*T, H, W, 3]`` (VAEDecode's rule).
"""

from __future__ import annotations

import time
from typing import Any

import comfy.sample
import torch


class LatentDecoder:
    def __init__(self, vae: Any, model: Any, chunk: int) -> None:
        self.vae = vae
        self.model = model  # the diffusion ModelPatcher (for process_latent_out and eviction)
        self.chunk = max(1, int(chunk))
        self.seconds = 0.0
        self.calls = 0
        self.evictions = 0

    def __call__(self, x0: torch.Tensor) -> torch.Tensor:
        """``x0 [N, C, (T,) h, w]`` model-space latents -> images ``[N, (T,) H, W, 3]``."""
        start = time.perf_counter()
        before = self.model.loaded_size()
        outer = self.model.model.process_latent_out(x0)
        parts = [
            self.vae.decode(outer[i : i + self.chunk]) for i in range(0, len(outer), self.chunk)
        ]
        if self.model.loaded_size() < before:
            self.evictions += 1
        self.calls += 1
        self.seconds += time.perf_counter() - start
        return torch.cat(parts)


def prepare_latent(latent: dict[str, Any], model: Any) -> dict[str, Any]:
    out = latent.copy()
    out["samples"] = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    return out


def flatten_frames(images: torch.Tensor) -> torch.Tensor:
    if images.ndim == 5:
        return images.reshape(-1, *images.shape[-3:])
    return images
