"""Latents in and images out around a search: decoding, the start latent, candidates.

- `LatentDecoder`: model-space ``x0`` (what the sampler sees, after ``process_latent_in``)
  -> IMAGE through a VAE, in chunks; it times itself and counts how often decoding made
  ComfyUI evict (part of) the diffusion model from its device and how many bytes, which the
  report shows. (ComfyUI 0.3.64 frees device memory for a VAE load only on a non-CPU device;
  there it may partially unload the diffusion model in use, which then streams the evicted
  weights for the rest of the search.)
- `prepare_latent`: a copy of the LATENT dict with an empty latent given the model's
  channel count (as SamplerCustomAdvanced does); the input dict is never touched.
- `flatten_frames`: video decodes ``[N, T, H, W, 3]`` -> ``[N*T, H, W, 3]`` (VAEDecode's rule).
"""

from __future__ import annotations

import time
from typing import Any

import comfy.sample
import torch

from .autograd import with_normal_tensors


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
        self.evicted_bytes = 0
        self.reused = 0
        self._guided_format: Any = None

    def __call__(self, x0: torch.Tensor) -> torch.Tensor:
        """``x0 [N, C, (T,) h, w]`` model-space latents -> images ``[N, (T,) H, W, 3]``."""
        start = time.perf_counter()
        before = self.model.loaded_size()
        outer = self._latent_format(x0).process_out(x0)
        parts = [
            self.vae.decode(outer[i : i + self.chunk]) for i in range(0, len(outer), self.chunk)
        ]
        after = self.model.loaded_size()
        if after < before:
            self.evictions += 1
            self.evicted_bytes += before - after
        self.calls += 1
        images = torch.cat(parts)
        self._keep(x0, images)
        self.seconds += time.perf_counter() - start
        return images

    def _latent_format(self, x0: torch.Tensor) -> Any:
        """The model's latent format; for a guided decode one whose tensors autograd may
        save (ComfyUI made them in inference mode), without changing the model's."""
        fmt = self.model.model.latent_format
        if not x0.requires_grad:
            return fmt
        if self._guided_format is None:
            self._guided_format = with_normal_tensors(fmt)
        return self._guided_format

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
