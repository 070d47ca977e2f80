"""Best-of-N (random search): N independent trajectories, keep the best final reward.

With ``guidance_scale > 0`` (search-level) the trajectories are gradient-guided: that is
DPS, also reachable as ``method="dps"``. Particle ``j`` draws only its own keyed noise, so
a larger budget keeps the smaller budget's candidates bitwise (docs/search.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from .context import SearchContext
from .population import Outcome, budget_error


@dataclass(frozen=True)
class BoNOptions:
    """No options: ``N = nfe_budget // steps`` trajectories."""


def run_bon(ctx: SearchContext, opts: BoNOptions) -> Outcome:
    """``N = budget // steps`` trajectories in lockstep; rewards only where needed."""
    n = ctx.nfe_budget // ctx.steps
    if n < 1:
        raise budget_error(ctx.method, ctx.nfe_budget, ctx.steps, "one trajectory of `steps` NFEs")
    ev = ctx.evaluate(ctx.initial_states(n), 0, score=False)
    ctx.record(0, n, ev, range(n))
    ev = ctx.rollout(ev, ctx.steps - 1, each=lambda e: ctx.record(e.i, n, e, range(n)))
    return Outcome(ev)
