"""What a running search tells the outside world, and how the outside world steers it.

- `SearchEvent`: one frozen record per denoiser chunk (``"nfe"``), per method step
  (``"step"``) and at the end (``"done"``), with a strict-JSON form (`to_json`) a browser
  can parse (non-finite numbers become ``null``, tensors are left out).
- `SearchControl`: thread-safe "stop now" / "keep this particle" requests that another
  thread (a web route) makes and the search honours at its next denoiser chunk, and the
  bookkeeping of which populations a pick may still name (the latest
  `KEEP_POPULATIONS`, plus the one a viewer holds).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

EVENT_KINDS = ("nfe", "step", "done")

#: How many of the latest populations a search holds so that a pick can finish one (a
#: population held by `SearchControl.hold` is kept on top of these).
KEEP_POPULATIONS = 3


def json_safe(value: Any) -> Any:
    """A strict-JSON copy of plain data: non-finite floats -> ``None``, tuples -> lists,
    tensors -> lists (0-d -> number), mapping keys -> str."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, torch.Tensor):
        return json_safe(value.detach().cpu().tolist())
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    raise TypeError(f"not JSON data: {type(value).__name__}")


@dataclass(frozen=True)
class SearchEvent:
    """One progress report of a search (see docs/search.md for when each kind fires).

    ``kind``: ``"nfe"`` after every denoiser chunk, ``"step"`` after every method step,
    ``"done"`` once at the end. ``nfe_used`` never decreases and ends at the result's
    ``nfe``. ``best_reward``: the best reward seen so far (final samples win over
    look-ahead estimates). ``rewards`` / ``parents``: the current population's rewards
    (``None`` where the method does not score intermediate states) and each particle's
    parent index in the previous population. ``events``: method facts (RBF quota /
    accepted / rolled_over, SMC ess / resampled, ...). ``s``: interpolant time of the step
    (or of the chunk). ``population``: id of the population shown (``-1``: none), the id a
    `SearchControl.pick` names. ``best_x0`` ``[1, *shape]`` and ``population_x0``
    ``[N, *shape]`` (``"step"`` events): clean-sample estimates in the model's space.

    The ``"done"`` event says how the search ended: ``population_x0`` / ``rewards`` are the
    final candidates best first (the result's ``candidates`` / ``rewards``), ``stopped``,
    ``picked`` ``(population, index)``, ``pick_error`` and ``nfe_finish`` (a pick's
    finishing NFEs, outside the budget) as in the result.
    """

    kind: str
    method: str
    step: int
    steps: int
    nfe_used: int
    nfe_budget: int
    best_reward: float | None = None
    rewards: tuple[float, ...] | None = None
    parents: tuple[int, ...] | None = None
    events: Mapping[str, Any] = field(default_factory=dict)
    s: float | None = None
    population: int = -1
    best_x0: torch.Tensor | None = None
    population_x0: torch.Tensor | None = None
    stopped: bool = False
    picked: tuple[int, int] | None = None
    pick_error: str | None = None
    nfe_finish: int = 0

    def to_json(self) -> dict[str, Any]:
        """Strict JSON (``json.dumps(..., allow_nan=False)`` works): no tensors."""
        return {
            "kind": self.kind,
            "method": self.method,
            "step": self.step,
            "steps": self.steps,
            "nfe_used": self.nfe_used,
            "nfe_budget": self.nfe_budget,
            "best_reward": json_safe(self.best_reward),
            "rewards": json_safe(self.rewards),
            "parents": json_safe(self.parents),
            "events": json_safe(dict(self.events)),
            "s": json_safe(self.s),
            "population": self.population,
            "stopped": self.stopped,
            "picked": json_safe(self.picked),
            "pick_error": self.pick_error,
            "nfe_finish": self.nfe_finish,
        }


class SearchControl:
    """Stop or pick requests for one running search; safe to call from any thread.

    ``stop()``: end at the next denoiser chunk and return the best so far
    (``result.stopped``). ``pick(population, index)``: end at the next chunk, finish that
    particle alone from its current state on the remaining grid (keyed noise, so the same
    pick gives the same sample) and return it as the best (``result.picked``). A pick
    names a population from a ``"step"`` event; the search keeps the latest
    `KEEP_POPULATIONS`, plus the one last named by ``hold(population)`` (what a viewer
    shows, so it stays pickable however fast the search moves on), plus the population of
    a pick not yet taken. A pick of one it does not hold (or an index outside it) is a
    `ValueError` here. A pick that is still pending when the search ends is honoured then.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = False
        self._pick: tuple[int, int] | None = None
        self._available: dict[int, int] = {}  # population id -> size
        self._recent: list[int] = []  # the latest KEEP_POPULATIONS offered, oldest first
        self._held: int | None = None
        self._running = False

    def stop(self) -> None:
        """Ask the search to stop now and keep the best so far."""
        with self._lock:
            self._stop = True

    def pick(self, population: int, index: int) -> None:
        """Ask the search to finish particle ``index`` of ``population`` and return it."""
        _check_ints("pick", population=population, index=index)
        with self._lock:
            size = self._size_of("pick", population)
            if not 0 <= index < size:
                raise ValueError(
                    f"pick: index {index} is outside population {population} (size {size})"
                )
            self._pick = (population, index)

    def hold(self, population: int) -> None:
        """Keep ``population`` pickable until another is held or the search ends (e.g. the
        one whose thumbnails a panel shows); the population held before it is released
        unless it is among the latest `KEEP_POPULATIONS`. Memory: at most one population
        more than the search holds anyway."""
        _check_ints("hold", population=population)
        with self._lock:
            self._size_of("hold", population)
            old, self._held = self._held, population
            if old is not None and old != population and old not in self._recent:
                if self._pick is None or self._pick[0] != old:
                    self._available.pop(old, None)

    @property
    def held(self) -> int | None:
        """The population last held (``None``: none, or the search ended)."""
        with self._lock:
            return self._held

    @property
    def stop_requested(self) -> bool:
        with self._lock:
            return self._stop

    def _size_of(self, what: str, population: int) -> int:
        if not self._running:
            raise ValueError(f"{what}: no search is running on this control")
        size = self._available.get(population)
        if size is None:
            raise ValueError(
                f"{what}: population {population} is not available; the search holds "
                f"{sorted(self._available) or 'none yet'} (the latest {KEEP_POPULATIONS} "
                "step events and the one held for display)"
            )
        return size

    # -- the search's side ------------------------------------------------------------------
    def begin(self) -> None:
        """A search starts on this control: forget populations, holds and picks of earlier
        runs (a stop requested before the start still applies)."""
        with self._lock:
            self._available, self._recent, self._held = {}, [], None
            self._pick, self._running = None, True

    def end(self) -> None:
        with self._lock:
            self._available, self._recent, self._held, self._running = {}, [], None, False

    def offer(self, population: int, size: int) -> list[int]:
        """Population ``population`` (``size`` particles) can be picked. Returns the ids the
        search must keep (every other population may be freed): the latest
        `KEEP_POPULATIONS`, the held one and that of a pending pick."""
        with self._lock:
            self._available[population] = size
            self._recent = [*self._recent, population][-KEEP_POPULATIONS:]
            keep = {*self._recent}
            if self._held is not None:
                keep.add(self._held)
            if self._pick is not None:
                keep.add(self._pick[0])
            self._available = {p: n for p, n in self._available.items() if p in keep}
            return sorted(self._available)

    def take(self) -> tuple[int, int] | str | None:
        """The pending request: a pick ``(population, index)`` (wins over a stop), ``"stop"``
        or ``None``. A pick is consumed; a stop stays set."""
        with self._lock:
            if self._pick is not None:
                pick, self._pick = self._pick, None
                return pick
            return "stop" if self._stop else None


def _check_ints(what: str, **values: Any) -> None:
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{what}: {name} must be an integer; got {v!r}")
