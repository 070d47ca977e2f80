"""Populations of particles and the small helpers every search method shares."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Evaluated:
    """A population at grid index ``i``: state, Tweedie estimate, reward and guided estimate."""

    x: torch.Tensor
    x0_hat: torch.Tensor
    reward: torch.Tensor | None  # [N] float64 on CPU, non-finite as -inf; None if unscored
    i: int
    x0_step: torch.Tensor | None = None  # x0_hat corrected by gradient guidance, if any

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def for_step(self) -> torch.Tensor:
        return self.x0_hat if self.x0_step is None else self.x0_step

    def select(self, idx: torch.Tensor) -> Evaluated:
        x0s = None if self.x0_step is None else self.x0_step[idx]
        r = None if self.reward is None else self.reward[idx]
        return Evaluated(self.x[idx], self.x0_hat[idx], r, self.i, x0s)

    @staticmethod
    def cat(parts: list[Evaluated]) -> Evaluated:
        x0s = None if parts[0].x0_step is None else torch.cat([p.x0_step for p in parts])
        return Evaluated(
            torch.cat([p.x for p in parts]),
            torch.cat([p.x0_hat for p in parts]),
            torch.cat([p.reward for p in parts]),
            parts[0].i,
            x0s,
        )


@dataclass(frozen=True)
class Outcome:
    """A method's final population (samples in ``x0_hat``) and optional importance weights."""

    final: Evaluated
    weights: torch.Tensor | None = None


def need(condition: bool, message: str) -> None:
    """`ValueError` for a bad method option (user input, not an internal invariant)."""
    if not condition:
        raise ValueError(message)


def budget_error(method: str, nfe_budget: int, minimum: int, why: str) -> ValueError:
    return ValueError(
        f"nfe_budget={nfe_budget} is too small for method '{method}': the minimum is {minimum} ({why})"
    )


def mask_nonfinite(r: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Rewards with NaN/inf replaced by ``-inf`` (the worst score), and how many there were."""
    bad = ~torch.isfinite(r)
    n_bad = int(bad.sum())
    if n_bad == 0:  # the common case: skip the masking ops
        return r, 0
    return torch.where(bad, torch.full_like(r, -torch.inf), r), n_bad


def cat_parts(parts: list[torch.Tensor]) -> torch.Tensor:
    """``torch.cat`` without a copy for a single part."""
    return parts[0] if len(parts) == 1 else torch.cat(parts)


def int_list(values) -> list[int]:
    """Plain ints; a tensor goes through one ``tolist()`` (element-wise iteration creates a
    0-d tensor per item and cost SMC/SVDD ~20% of their per-step overhead)."""
    if isinstance(values, torch.Tensor):
        values = values.tolist()
    return [int(v) for v in values]
