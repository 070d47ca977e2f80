"""The mutable bookkeeping of one search run, shared by a context and its sub-grid views."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import torch

from .population import Evaluated
from .result import StepRecord, Timings

#: How many of the latest populations a search holds so that a pick can finish one.
KEEP_POPULATIONS = 3


class StopSearch(Exception):
    """Raised inside a method when ``should_stop()`` or a `SearchControl` asks to stop."""


class PickSearch(Exception):
    """Raised inside a method when a `SearchControl` picks particle ``index`` of
    ``population``."""

    def __init__(self, population: int, index: int) -> None:
        super().__init__(population, index)
        self.population, self.index = population, index


@dataclass
class Ledger:
    """Everything a search accumulates besides its particles.

    NFEs are counted in one place, the context's `PathDenoiser` (``nfe``); the ledger holds
    the rest: backward passes, non-finite rewards, the trace, timings, the best sample so
    far, the latest population, the keyed-noise draw counter and the populations a pick
    may still name."""

    nfe_backward: int = 0
    nonfinite: int = 0
    trace: list[StepRecord] = field(default_factory=list)
    timings: Timings = field(default_factory=Timings)
    best: tuple[float, torch.Tensor, bool] | None = None  # (reward, x0, is_final)
    latest: Evaluated | None = None  # the last evaluated population, scored or not
    draws: int = 0  # keyed-noise draws so far (the draw index of the next one)
    step: int = 0  # step of the latest "step" event
    populations: OrderedDict[int, tuple[Evaluated, list[float]]] = field(
        default_factory=OrderedDict
    )
    next_population: int = 0

    def next_draw(self) -> int:
        d, self.draws = self.draws, self.draws + 1
        return d

    def publish(self, ev: Evaluated, grid: list[float]) -> tuple[int, list[int]]:
        """Hold population ``ev`` (on ``grid``) for picks; returns its id and the ids dropped."""
        pid = self.next_population
        self.next_population += 1
        self.populations[pid] = (ev, grid)
        dropped = []
        while len(self.populations) > KEEP_POPULATIONS:
            dropped.append(self.populations.popitem(last=False)[0])
        return pid, dropped

    @property
    def latest_population(self) -> int:
        return next(reversed(self.populations)) if self.populations else -1
