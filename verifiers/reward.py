"""A verifier as a search reward: decode the latents, score the images against the prompt.

``reward(x0) = verifier(decode(x0), prompt)`` maps clean latents ``x0 [B, ...]`` (the search's
``x0_hat``, model space) to ``Tensor[B]`` (float32, on ``x0``'s device, higher is better).
``decode`` maps the latents to ComfyUI images ``[B, H, W, 3]`` in [0, 1] (e.g. a VAE decode),
or to clips ``[B, F, H, W, 3]``, each scored by `base.score_clip` (sampled frames, mean or min).

The reward carries what a search must know about it:

- ``differentiable``: the verifier's scores have gradients w.r.t. the pixels (then the
  reward keeps the autograd graph through ``decode`` when gradients are enabled, which is
  what guidance needs); a non-differentiable verifier runs under ``torch.no_grad()``;
- ``batch_relative``: scores depend on the other samples of the same call (a rank
  ensemble): the search must score a population in one call and not compare scores of
  different calls;
- ``timings``: wall-clock seconds spent decoding and in the verifier (CUDA work is
  synchronised before the clock is read), and the calls and samples scored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from .base import Verifier, score_clip

Decode = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class RewardTimings:
    """Running totals of one reward: seconds in ``decode`` and in the verifier, calls made
    and samples (images or clips) scored."""

    decode: float = 0.0
    verifier: float = 0.0
    calls: int = 0
    samples: int = 0

    def reset(self) -> None:
        self.decode = self.verifier = 0.0
        self.calls = self.samples = 0

    def to_json(self) -> dict[str, float | int]:
        return {
            "decode_seconds": self.decode,
            "verifier_seconds": self.verifier,
            "calls": self.calls,
            "samples": self.samples,
        }


def _clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


class VerifierReward:
    """``reward(x0 [B, ...]) -> Tensor[B]``; see the module docstring. Made by
    `reward_from_verifier`."""

    def __init__(
        self,
        verifier: Verifier,
        decode: Decode,
        prompt: str | Sequence[str],
        *,
        frames: str = "ends",
        every: int = 1,
        aggregate: str = "mean",
    ) -> None:
        if not isinstance(verifier, Verifier):
            raise ValueError(f"verifier must be a Verifier, got {type(verifier).__name__}")
        if not callable(decode):
            raise ValueError(f"decode must be callable (latents -> images), got {decode!r}")
        if isinstance(prompt, str):
            prompts: tuple[str, ...] = (prompt,)
        else:
            prompts = tuple(prompt)
            if not prompts or not all(isinstance(p, str) for p in prompts):
                raise ValueError("prompt must be a string or a non-empty list of strings")
        self.verifier, self.decode, self.prompts = verifier, decode, prompts
        self.frames, self.every, self.aggregate = frames, every, aggregate
        self.differentiable = bool(verifier.differentiable)
        self.batch_relative = bool(verifier.batch_relative)
        self.timings = RewardTimings()

    def _prompts_for(self, batch: int) -> list[str]:
        if len(self.prompts) == 1:
            return list(self.prompts) * batch
        if len(self.prompts) != batch:
            raise ValueError(
                f"the reward has {len(self.prompts)} prompts for a batch of {batch} latents; "
                "give one prompt, or one per latent"
            )
        return list(self.prompts)

    def _decoded(self, x0: torch.Tensor) -> torch.Tensor:
        images = self.decode(x0)
        if not isinstance(images, torch.Tensor) or images.ndim not in (4, 5):
            got = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images)
            raise ValueError(
                "decode must return images [B, H, W, 3] or clips [B, F, H, W, 3] in [0, 1]; "
                f"got {got}"
            )
        if images.shape[0] != x0.shape[0] or images.shape[-1] != 3:
            raise ValueError(
                f"decode turned {x0.shape[0]} latents {tuple(x0.shape)} into "
                f"{tuple(images.shape)}; expected [{x0.shape[0]}, (F,) H, W, 3]"
            )
        return images

    def _score(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        if images.ndim == 4:
            return self.verifier(images, prompts)
        clips = [
            score_clip(
                self.verifier, clip, p, mode=self.frames, every=self.every, aggregate=self.aggregate
            )
            for clip, p in zip(images, prompts, strict=True)
        ]
        return torch.stack(clips)

    def __call__(self, x0: torch.Tensor) -> torch.Tensor:
        """Rewards ``Tensor[B]`` (float32, on ``x0``'s device) of latents ``x0 [B, ...]``."""
        if not isinstance(x0, torch.Tensor) or x0.ndim < 2 or x0.shape[0] == 0:
            raise ValueError("x0 must be a non-empty batch of latents [B, ...]")
        prompts = self._prompts_for(x0.shape[0])
        keep_graph = self.differentiable and torch.is_grad_enabled()
        with torch.set_grad_enabled(keep_graph):
            t0 = _clock(x0.device)
            images = self._decoded(x0)
            t1 = _clock(images.device)
            scores = self._score(images, prompts)
            t2 = _clock(scores.device)
        self.timings.decode += t1 - t0
        self.timings.verifier += t2 - t1
        self.timings.calls += 1
        self.timings.samples += x0.shape[0]
        return scores.float().reshape(x0.shape[0]).to(x0.device)

    def __repr__(self) -> str:
        return (
            f"VerifierReward({self.verifier!r}, differentiable={self.differentiable}, "
            f"batch_relative={self.batch_relative})"
        )


def reward_from_verifier(
    verifier: Verifier,
    decode: Decode,
    prompt: str | Sequence[str],
    *,
    frames: str = "ends",
    every: int = 1,
    aggregate: str = "mean",
) -> VerifierReward:
    """The search reward ``x0 -> verifier(decode(x0), prompt)`` (see the module docstring).

    ``prompt``: one string for every latent, or one per latent (then every call must have
    that many). ``frames``/``every``/``aggregate`` choose how clips (5-D decodes) are scored
    (`base.score_clip`)."""
    return VerifierReward(verifier, decode, prompt, frames=frames, every=every, aggregate=aggregate)
