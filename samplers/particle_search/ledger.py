"""The mutable bookkeeping of one search run, shared by a context and its sub-grid views."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field

import torch

from .events import KEEP_POPULATIONS
from .population import Evaluated
from .result import StepRecord, Timings


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

    def publish(self, ev: Evaluated, grid: list[float]) -> int:
        """Hold population ``ev`` (on ``grid``) for picks; returns its id."""
        pid = self.next_population
        self.next_population += 1
        self.populations[pid] = (ev, grid)
        return pid

    def retain(self, keep: Collection[int] | None) -> None:
        """Free every held population but ``keep`` (``None``: the latest
        `KEEP_POPULATIONS`; with a `SearchControl`, what its ``offer`` says)."""
        keep = set(list(self.populations)[-KEEP_POPULATIONS:] if keep is None else keep)
        for pid in [p for p in self.populations if p not in keep]:
            del self.populations[pid]

    @property
    def latest_population(self) -> int:
        return next(reversed(self.populations)) if self.populations else -1
