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
    """``keep_bytes``: the most recent decodes are kept (up to that many bytes of images) so
    the final candidates, already decoded for their reward, are not decoded twice."""

    def __init__(self, vae: Any, model: Any, chunk: int, keep_bytes: int = 0) -> None:
        self.vae = vae
        self.model = model  # the diffusion ModelPatcher (for process_latent_out and eviction)
        self.chunk = max(1, int(chunk))
        self.keep_bytes = keep_bytes
        self.kept: list[tuple[torch.Tensor, torch.Tensor]] = []  # (latent row, image row)
        self.seconds = 0.0
        self.calls = 0
        self.evictions = 0
        self.reused = 0

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
        images = torch.cat(parts)
        self._keep(x0, images)
        self.seconds += time.perf_counter() - start
        return images

    def _keep(self, x0: torch.Tensor, images: torch.Tensor) -> None:
        if self.keep_bytes <= 0 or x0.requires_grad:
            return
        per_row = images[0].numel() * images.element_size()
        limit = self.keep_bytes // max(1, per_row)
        rows = list(zip(x0.detach(), images.detach(), strict=True))
        self.kept = (self.kept + rows)[-limit:] if limit else []

    def decode_known(self, x0: torch.Tensor, vae: Any) -> torch.Tensor:
        """Decode with ``vae``, reusing kept images of identical latents decoded by it."""
        if vae is not self.vae or not self.kept:
            return LatentDecoder(vae, self.model, self.chunk)(x0)
        out = [next((img for lat, img in self.kept if torch.equal(lat, row)), None) for row in x0]
        missing = [i for i, img in enumerate(out) if img is None]
        if missing:
            fresh = LatentDecoder(vae, self.model, self.chunk)(x0[missing])
            for i, img in zip(missing, fresh, strict=True):
                out[i] = img
        self.reused += len(x0) - len(missing)
        return torch.stack(out)


def prepare_latent(latent: dict[str, Any], model: Any) -> dict[str, Any]:
    out = latent.copy()
    out["samples"] = comfy.sample.fix_empty_latent_channels(model, latent["samples"])
    return out


def flatten_frames(images: torch.Tensor) -> torch.Tensor:
    if images.ndim == 5:
        return images.reshape(-1, *images.shape[-3:])
    return images
