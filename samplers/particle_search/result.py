"""What a search returns: the best sample, the final population and a per-step trace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class StepRecord:
    """One step of a search.

    ``nfe``: per-particle denoiser evaluations spent in this step; ``rewards``: the
    population's (look-ahead) rewards after the step, ``None`` where a method scores only
    final samples; ``parents``: for each particle, the index of its parent in the previous
    population (lineage); ``events``: method-specific facts (e.g. RBF proposals tried,
    accepted index, quota rolled over; SMC ESS and resampling).
    """

    step: int
    s: float
    nfe: int
    rewards: list[float] | None = None
    parents: list[int] | None = None
    events: dict[str, Any] = field(default_factory=dict)


@dataclass
class Timings:
    """Wall-clock seconds split into denoiser, reward and everything else (search overhead)."""

    denoiser: float = 0.0
    reward: float = 0.0
    total: float = 0.0

    @property
    def overhead(self) -> float:
        return max(0.0, self.total - self.denoiser - self.reward)


@dataclass
class SearchResult:
    """Outcome of `flowsearch.samplers.search`.

    ``x0`` ``[1, *shape]`` is the best final sample and ``reward`` its score (non-finite
    rewards count as ``-inf``); ``candidates`` ``[N, *shape]`` / ``rewards`` ``[N]`` are the
    final population sorted best first (``weights``: SMC's normalised importance weights in
    the same order, else ``None``); ``nfe`` is the exact number of per-particle denoiser
    evaluations; ``stopped`` is True when ``should_stop`` ended the search early (then the
    population is what was available: final samples if any, else the best look-ahead
    estimates ``x0_hat``).
    """

    x0: torch.Tensor
    reward: float
    nfe: int
    nfe_budget: int
    candidates: torch.Tensor
    rewards: torch.Tensor
    method: str
    stopped: bool = False
    weights: torch.Tensor | None = None
    trace: list[StepRecord] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    nonfinite_rewards: int = 0
    nfe_backward: int = 0
