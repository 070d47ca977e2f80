"""How a search ends: the final population (or a picked particle) becomes a `SearchResult`.

- A method's `Outcome` is sorted best first. When the grid stops above 0 (split sampling)
  the population was evaluated at ``s_{M-1}``: one more (keyed-noise) step takes it to the
  last level, reported as ``final_state`` in model space; ``x0`` stays the Tweedie estimate.
- A stop returns what exists: final samples, else the best look-ahead estimate, else the
  latest population's estimates scored now (reward calls cost no NFE).
- A pick finishes one particle of a held population alone on the remaining grid, with its
  own keyed noise stream ``(1, population, index)`` so the same pick gives the same sample;
  its NFEs go to ``nfe_finish``, outside the budget.
"""

from __future__ import annotations

import copy
import math

import torch

from ..denoiser import PathDenoiser
from .context import SearchContext
from .ledger import Ledger
from .population import Evaluated, Outcome
from .result import SearchResult

#: Keyed-noise namespace of a pick's finishing steps (the search itself uses ``(0,)``).
FINISH_STREAM = 1


def final_states(ctx: SearchContext, ev: Evaluated) -> torch.Tensor | None:
    """States at the grid's last level in model space, when it stops above 0, else None."""
    grid = ctx.grid
    if grid[-1] <= 0:
        return None
    x = ev.x if ev.i == len(grid) - 1 else ctx.step(ev)
    return x / ctx.interpolant.linear_scale(grid[-1])


def outcome_result(ctx: SearchContext, outcome: Outcome | None, stopped: bool) -> SearchResult:
    """The result of a finished or stopped run (see module doc)."""
    led = ctx.ledger
    if outcome is None and led.best is None and led.latest is not None:
        latest = led.latest
        outcome = Outcome(Evaluated(latest.x, latest.x0_hat, ctx.score(latest.x0_hat), latest.i))
    final = None
    if outcome is not None:
        order = torch.argsort(outcome.final.reward, descending=True, stable=True)
        sorted_ev = outcome.final.select(order)
        cands, rs = sorted_ev.x0_hat, sorted_ev.reward
        weights = None if outcome.weights is None else outcome.weights[order]
        if not stopped:
            final = final_states(ctx, sorted_ev)
    elif led.best is not None:
        cands, rs, weights = led.best[1], torch.tensor([led.best[0]], dtype=torch.float64), None
    else:
        cands = torch.zeros((0, *ctx.shape), dtype=ctx.dtype, device=ctx.device)
        rs, weights = torch.zeros(0, dtype=torch.float64), None
    return _result(ctx, cands, rs, weights=weights, stopped=stopped, final_state=final)


def _result(ctx: SearchContext, cands, rs, **fields) -> SearchResult:
    led = ctx.ledger
    return SearchResult(
        x0=cands[:1],
        reward=float(rs[0]) if rs.numel() else -math.inf,
        nfe=ctx.nfe,
        nfe_budget=ctx.nfe_budget,
        candidates=cands,
        rewards=rs,
        method=ctx.method,
        trace=led.trace,
        timings=led.timings,
        nonfinite_rewards=led.nonfinite,
        nfe_backward=led.nfe_backward,
        **fields,
    )


def finisher(ctx: SearchContext, grid: list[float], population: int, index: int) -> SearchContext:
    """A budget-free context for one picked particle on ``grid``: its own NFE count,
    ledger and keyed stream; no callback or control."""
    fin = copy.copy(ctx)
    fin.grid, fin.main_grid = grid, grid
    fin.path_denoiser = PathDenoiser(ctx.path_denoiser.denoiser, ctx.interpolant)
    fin.nfe_budget = math.inf
    fin.stream = (FINISH_STREAM, population, index)
    fin.ledger = Ledger()
    fin.callback = fin.should_stop = fin.control = None
    return fin


def pick_result(ctx: SearchContext, population: int, index: int) -> SearchResult | str:
    """Finish particle ``index`` of ``population`` and return it as the result, or a
    message saying why the pick cannot be honoured."""
    held = ctx.ledger.populations.get(population)
    if held is None:
        return f"population {population} is no longer held (held: {sorted(ctx.ledger.populations)})"
    ev, grid = held
    if not 0 <= index < len(ev):
        return f"index {index} is outside population {population} (size {len(ev)})"
    s = grid[ev.i]
    fin = finisher(ctx, [s] + [p for p in ctx.main_grid if p < s], population, index)
    one = ev.select(torch.tensor([index]))
    start = Evaluated(one.x, one.x0_hat, one.reward, 0, one.x0_step)
    end = fin.rollout(start, fin.steps - 1) if fin.steps > 0 else start
    if end.reward is None:  # e.g. best-of-N, which scores only its final samples
        end = Evaluated(end.x, end.x0_hat, fin.score(end.x0_hat), end.i, end.x0_step)
    ctx.ledger.nonfinite += fin.ledger.nonfinite
    ctx.ledger.nfe_backward += fin.ledger.nfe_backward
    ctx.ledger.timings.denoiser += fin.ledger.timings.denoiser
    ctx.ledger.timings.reward += fin.ledger.timings.reward
    return _result(
        ctx, end.x0_hat, end.reward, picked=(population, index),
        nfe_finish=fin.path_denoiser.nfe, final_state=final_states(fin, end),
    )  # fmt: skip
