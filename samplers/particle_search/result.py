"""What a search returns: the best sample, the final population and a per-step trace."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from .events import json_safe


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

    def to_json(self) -> dict[str, float]:
        return {
            "denoiser": self.denoiser,
            "reward": self.reward,
            "overhead": self.overhead,
            "total": self.total,
        }


@dataclass
class SearchResult:
    """Outcome of `flowsearch.samplers.search`.

    ``x0`` ``[1, *shape]`` is the best final sample and ``reward`` its score (non-finite
    rewards count as ``-inf``); ``candidates`` ``[N, *shape]`` / ``rewards`` ``[N]`` are the
    final population sorted best first (``weights``: SMC's normalised importance weights in
    the same order, else ``None``); ``nfe`` is the exact number of per-particle denoiser
    evaluations (never above ``nfe_budget``); ``stopped`` is True when ``should_stop`` or a
    control's ``stop()`` ended the search early (then the population is what was available:
    final samples if any, else the best look-ahead estimates ``x0_hat``).

    ``picked``: ``(population, index)`` when a control's ``pick`` chose the returned sample
    (finished alone with ``nfe_finish`` further NFEs, not counted in ``nfe``);
    ``pick_error``: why a requested pick could not be honoured. ``final_state``
    ``[N, *shape]`` (same order as ``candidates``): when the grid stops above 0, the state
    at its last time in the model's (linear-path) space, else ``None``. ``seed``: the base
    seed of the run's keyed noise streams. ``settings`` / ``options`` / ``guidance_scale``:
    what ran.
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
    settings: Any = None  # SamplerSettings (typed loosely: settings.py sits above this module)
    options: Any = None
    guidance_scale: float = 0.0
    seed: int | None = None
    picked: tuple[int, int] | None = None
    pick_error: str | None = None
    nfe_finish: int = 0
    final_state: torch.Tensor | None = None

    def to_json(self) -> dict[str, Any]:
        """Strict-JSON report (no tensors; non-finite numbers -> ``null``): method, options,
        settings, NFE used / budget, rewards, timings and the trace."""
        opts = self.options
        return json_safe(
            {
                "method": self.method,
                "options": dataclasses.asdict(opts) if dataclasses.is_dataclass(opts) else {},
                "settings": None if self.settings is None else self.settings.to_json(),
                "guidance_scale": self.guidance_scale,
                "seed": self.seed,
                "nfe": self.nfe,
                "nfe_budget": self.nfe_budget,
                "nfe_finish": self.nfe_finish,
                "nfe_backward": self.nfe_backward,
                "reward": self.reward,
                "rewards": self.rewards,
                "weights": self.weights,
                "stopped": self.stopped,
                "picked": self.picked,
                "pick_error": self.pick_error,
                "nonfinite_rewards": self.nonfinite_rewards,
                "timings": self.timings.to_json(),
                "trace": [dataclasses.asdict(r) for r in self.trace],
            }
        )
