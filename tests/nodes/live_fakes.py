"""Stand-ins shared by the live-panel tests: a clock, event streams, controls, sessions."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch

from flowsearch.nodes.live_session import LiveSession
from flowsearch.samplers import SearchControl, SearchEvent


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def Event(  # noqa: N802 (reads like the record it builds)
    kind: str,
    step: int,
    nfe_used: int,
    best_reward: float | None,
    rewards: tuple[float, ...] | None = None,
    parents: tuple[int, ...] | None = None,
    population: int = 0,
    events: dict[str, Any] | None = None,
    population_x0: torch.Tensor | None = None,
    best_x0: torch.Tensor | None = None,
    s: float | None = None,
) -> SearchEvent:
    """The core's `SearchEvent` of an SMC-like run (10 steps, 400 NFE budget)."""
    return SearchEvent(
        kind=kind,
        method="smc",
        step=step,
        steps=10,
        nfe_used=nfe_used,
        nfe_budget=400,
        best_reward=None if best_reward is None or not math.isfinite(best_reward) else best_reward,
        rewards=rewards,
        parents=parents,
        events=events or {},
        s=s,
        population=population,
        best_x0=best_x0,
        population_x0=population_x0,
    )


def running_control(populations: dict[int, int] | None = None) -> SearchControl:
    """The core's `SearchControl` as a running search leaves it: begun, offering
    ``populations`` (id -> size; default populations 0-3 of 4 particles) for picks, the
    first held (as a panel showing it holds it) so that all of them can be picked."""
    control = SearchControl()
    control.begin()
    for k, (population, size) in enumerate((populations or {p: 4 for p in range(4)}).items()):
        control.offer(population, size)
        if k == 0:
            control.hold(population)
    return control


def run_events(
    steps: int = 10,
    n: int = 4,
    chunks: int = 2,
    done_events: dict | None = None,
    final_population: bool = False,
    done: dict | None = None,
):
    """An SMC-like stream: per step `chunks` "nfe" events then one "step" event; then "done"
    (its `SearchEvent` fields updated with ``done``: ``stopped``, ``picked``, ...)."""
    nfe, best = 0, -math.inf
    for k in range(1, steps + 1):
        for _ in range(chunks):
            nfe += n // chunks
            yield Event("nfe", k, nfe, best)
        rewards = tuple(k + i / 10 for i in range(n))
        best = max(best, *rewards)
        parents = None if k == 1 else tuple([0] * n)
        x0 = torch.full((n, 2, 4, 4), float(k))
        yield Event(
            "step", k, nfe, best, rewards, parents, k, {"ess": n / 2}, x0, x0[-1:], s=1 - k / steps
        )
    final = x0 if final_population else None  # the core's done event: best_x0 only
    end = Event("done", steps, nfe, best, rewards, None, steps, done_events or {}, final, x0[-1:])
    yield replace(end, **(done or {}))


def preview(x0: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x0[:, :1].movedim(1, -1)).expand(-1, -1, -1, 3)


def make_session(
    clock: Clock | None = None, listening=True, controls=None, **kw
) -> tuple[LiveSession, list]:
    sent: list[tuple[str, dict]] = []
    session = LiveSession(
        prompt_id="p1",
        node_id="7",
        client_id="c1",
        controls=controls if controls is not None else [running_control()],
        send=lambda name, data: sent.append((name, data)),
        listening=(lambda: listening) if not callable(listening) else listening,
        preview=kw.pop("preview", preview),
        clock=clock or Clock(),
        **kw,
    )
    return session, sent


def feed(
    session: LiveSession, events, clock: Clock | None = None, dt: float = 0.0, batch: int = 0
) -> None:
    for event in events:
        if clock is not None:
            clock.t += dt
        session(batch, event)
