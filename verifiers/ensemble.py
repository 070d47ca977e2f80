"""Ensembles of verifiers; an `Ensemble` is itself a `Verifier`.

For ``M`` member verifiers with weights ``w_m`` and scores ``s_m[i]`` on a batch of ``B``
images (every member scores the whole batch):

- ``mode="rank"`` (mean rank): ``score[i] = Σ_m w_m · rank_m[i] / Σ_m |w_m|`` where
  ``rank_m[i] ∈ [1, B]`` is the 1-based ascending rank of ``s_m[i]`` within the batch
  (the best image gets ``B``). Tied scores share the mean of the ranks they span, e.g.
  scores ``[3, 1, 3]`` rank ``[2.5, 1, 2.5]``, so ties never depend on image order.
  Not differentiable.
- ``mode="zscore"`` (weighted sum of standardised scores): ``score[i] = Σ_m w_m · z_m[i]``
  with ``z_m = (s_m - μ_m) / σ_m``. By default ``μ_m, σ_m`` are the batch mean and
  population standard deviation (``z_m = 0`` when ``σ_m = 0``); with ``stats=[(μ, σ), …]``
  they are fixed numbers, which makes scores comparable across calls. Differentiable when
  every member is.

Rank and per-batch z-scores are *relative to the batch*: one image alone always scores the
same, and scores from different calls cannot be compared (``batch_relative`` is True, also
when any member is batch-relative). A
search method that compares rewards across calls (e.g. RBF's best-so-far) needs
``mode="zscore"`` with fixed ``stats``. Negative weights turn a member into a penalty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .base import Prompts, Verifier, normalize_prompts, validate_images

MODES = ("rank", "zscore")


def average_ranks(scores: torch.Tensor) -> torch.Tensor:
    """1-based ascending ranks of ``scores [B]`` with ties averaged (float64).

    ``rank[i] = #{j: s_j < s_i} + (#{j: s_j == s_i} + 1) / 2``.
    """
    s = scores.detach().to(torch.float64).reshape(-1)
    less = (s[None, :] < s[:, None]).sum(dim=1).to(torch.float64)
    equal = (s[None, :] == s[:, None]).sum(dim=1).to(torch.float64)
    return less + (equal + 1.0) / 2.0


def standardize(scores: torch.Tensor, stats: tuple[float, float] | None = None) -> torch.Tensor:
    """``(s - μ) / σ``: batch mean and population std unless ``stats = (μ, σ)`` is given."""
    if stats is not None:
        return (scores - stats[0]) / stats[1]
    mean = scores.mean()
    std = scores.std(unbiased=False) if scores.numel() > 1 else scores.new_zeros(())
    if float(std.detach()) <= 1e-12 * max(1.0, float(mean.detach().abs())):
        return scores - scores.detach()  # zeros, still attached to the graph
    return (scores - mean) / std


class Ensemble(Verifier):
    """Combine verifiers by mean rank or by a weighted sum of standardised scores."""

    name = "ensemble"

    def __init__(
        self,
        members: Sequence[Verifier],
        *,
        weights: Sequence[float] | None = None,
        mode: str = "rank",
        stats: Sequence[tuple[float, float]] | None = None,
    ) -> None:
        members = list(members)
        if not members:
            raise ValueError("an Ensemble needs at least one member verifier")
        for i, m in enumerate(members):
            if not isinstance(m, Verifier):
                raise ValueError(f"members[{i}] is a {type(m).__name__}, not a Verifier")
        super().__init__(batch_size=max(m.batch_size for m in members))
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        weights = [1.0] * len(members) if weights is None else [float(w) for w in weights]
        if len(weights) != len(members):
            raise ValueError(f"weights has {len(weights)} entries for {len(members)} members")
        if not all(math.isfinite(w) for w in weights) or sum(abs(w) for w in weights) == 0:
            raise ValueError(f"weights must be finite and not all zero, got {weights}")
        if stats is not None:
            if mode != "zscore":
                raise ValueError("stats (fixed mean, std per member) only apply to mode='zscore'")
            stats = [(float(mu), float(sd)) for mu, sd in stats]
            if len(stats) != len(members) or not all(
                sd > 0 and math.isfinite(mu) for mu, sd in stats
            ):
                raise ValueError(f"stats needs one (mean, std > 0) pair per member, got {stats}")
        self.members, self.weights, self.mode, self.stats = members, weights, mode, stats
        self.differentiable = mode == "zscore" and all(m.differentiable for m in members)
        # a member's batch-relative scores make the combination batch-relative too
        self.batch_relative = stats is None or any(m.batch_relative for m in members)

    def member_scores(self, images: torch.Tensor, prompts: Prompts = "") -> torch.Tensor:
        """Raw scores of every member on the whole batch: ``[M, B]`` float32."""
        rows = []
        for m in self.members:
            s = m(images, prompts).float().reshape(-1)
            if not bool(torch.isfinite(s.detach()).all()):
                raise RuntimeError(
                    f"member verifier {m.name!r} returned non-finite scores {s.tolist()}"
                )
            rows.append(s)
        return torch.stack(rows)

    def combine(self, scores: torch.Tensor) -> torch.Tensor:
        """Member scores ``[M, B]`` -> ensemble scores ``[B]`` (see the module docstring)."""
        if scores.ndim != 2 or scores.shape[0] != len(self.members):
            raise ValueError(
                f"scores must be [M={len(self.members)}, B], got {tuple(scores.shape)}"
            )
        if self.mode == "rank":
            ranks = torch.stack([average_ranks(row) for row in scores])
            w = torch.tensor(self.weights, dtype=torch.float64, device=ranks.device)
            out = (w[:, None] * ranks).sum(dim=0) / w.abs().sum()
            return out.to(torch.float32)
        z = [
            standardize(row, None if self.stats is None else self.stats[m])
            for m, row in enumerate(scores)
        ]
        return sum(w * zm for w, zm in zip(self.weights, z, strict=True))

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        return self.combine(self.member_scores(images, prompts))

    def __call__(self, images: torch.Tensor, prompts: Prompts = "") -> torch.Tensor:
        """Score the whole batch at once (no chunking: ranks and z-scores are batch-wide)."""
        images = validate_images(images)
        prompt_list = normalize_prompts(prompts, images.shape[0])
        return self.score_batch(images, prompt_list).to(images.device)

    def __repr__(self) -> str:
        inner = ", ".join(
            f"{m.name}×{w:g}" for m, w in zip(self.members, self.weights, strict=True)
        )
        return (
            f"Ensemble(mode={self.mode!r}, members=[{inner}], differentiable={self.differentiable})"
        )
