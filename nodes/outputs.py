"""The Flow Search node's outputs after the search: images, held-out scores, report, plot.

All final images use the main VAE (the cheap VAE only ever scores intermediate states).
Latents from the core are in the model's space (after ``process_latent_in``) and go
through ``process_latent_out`` before decoding. Video decodes are flattened to frames.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import comfy.model_management
import torch

from .methods import ResolvedMethod
from .plot import Series, render
from .report import build_report, split_timings
from .search_io import LatentDecoder, flatten_frames


def decode_outputs(
    results: list[Any], vae: Any, decoder: LatentDecoder
) -> tuple[torch.Tensor, list[torch.Tensor], float]:
    """``(best images [B*, H, W, 3], candidates per item (best first), seconds)``; images
    the search already decoded with the main VAE are reused (`LatentDecoder.decode_known`)."""
    start = time.perf_counter()
    device = comfy.model_management.intermediate_device()
    best = [flatten_frames(decoder.decode_known(r.x0, vae)).to(device) for r in results]
    candidates = [
        flatten_frames(decoder.decode_known(r.candidates, vae)).to(device) for r in results
    ]
    return torch.cat(best), candidates, time.perf_counter() - start


def held_out_scores(
    verifier: Any, best: torch.Tensor, candidates: list[torch.Tensor], prompt: str
) -> tuple[dict[str, Any] | None, float]:
    """The held-out verifier's scores of the returned images (``None`` if not connected)."""
    if verifier is None:
        return None, 0.0
    start = time.perf_counter()
    with torch.no_grad():
        best_scores = verifier(best, prompt).float().cpu().tolist()
        cand_scores = [verifier(c, prompt).float().cpu().tolist() for c in candidates]
    out = {"verifier": getattr(verifier, "name", type(verifier).__name__), "best": best_scores}
    out["candidates"] = cand_scores
    return out, time.perf_counter() - start


def plot_image(series: list[Series], nfe_budget: int) -> torch.Tensor:
    """The reward-vs-NFE plot as an IMAGE ``[1, H, W, 3]``."""
    pixels = torch.from_numpy(render(series, nfe_budget).copy()).float() / 255.0
    return pixels.unsqueeze(0)


def _item(result: Any, seed: int) -> dict[str, Any]:
    data = result.to_json()
    data["item_seed"] = seed
    return data


def search_report(
    *,
    resolved: ResolvedMethod,
    seed: int,
    nfe_budget: int,
    max_particles: int,
    prompt: str,
    verifier: Any,
    results: list[Any],
    reward: Any,
    decoder: LatentDecoder,
    held_out: dict[str, Any] | None,
    seconds: dict[str, float],
) -> str:
    """The JSON report: the method as run, per-item core reports, timings, memory."""
    model = sum(r.timings.denoiser for r in results)
    reward_times = getattr(reward, "timings", None)
    decode_s = float(getattr(reward_times, "decode", decoder.seconds) or 0.0)
    verifier_s = float(getattr(reward_times, "verifier", 0.0) or 0.0)
    used = sum(r.nfe for r in results)
    timings = split_timings(seconds["search"], model, decode_s, verifier_s, used)
    timings |= {k: v for k, v in seconds.items() if k != "search"}
    method = {
        "method": resolved.method,
        "options": dataclasses.asdict(resolved.options),
        "guidance_scale": resolved.guidance_scale,
        "sampling": resolved.choice,
        "settings": resolved.settings.to_json(),
    }
    memory = {
        "reward_decodes": decoder.calls,
        "output_images_reused_from_reward_decodes": decoder.reused,
        "diffusion_model_evictions_by_decode": decoder.evictions,
        "diffusion_model_bytes_evicted_by_decode": decoder.evicted_bytes,
    }
    return build_report(
        method=method,
        seed=seed,
        nfe_budget=nfe_budget,
        max_particles=max_particles,
        prompt=prompt,
        verifier=getattr(verifier, "name", type(verifier).__name__),
        items=[_item(r, seed + b) for b, r in enumerate(results)],
        held_out=held_out,
        timings=timings,
        extra={"memory": memory, "stopped": any(r.stopped for r in results)},
    )
