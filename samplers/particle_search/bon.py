"""Best-of-N (random search) and its gradient-guided twin (DPS): N independent
trajectories, keep the best final reward."""

from __future__ import annotations

from dataclasses import dataclass

from .base import Outcome, budget_error, need
from .context import SearchContext


@dataclass(frozen=True)
class BoNOptions:
    """No options: ``N = nfe_budget // steps`` trajectories."""


@dataclass(frozen=True)
class DPSOptions:
    """``guidance_scale`` (``1/beta``): weight of ``grad_x r(x0_hat(x))`` added to the score."""

    guidance_scale: float = 1.0

    def __post_init__(self) -> None:
        need(
            self.guidance_scale > 0,
            f"guidance_scale must be > 0 for 'dps'; got {self.guidance_scale}",
        )


def run_independent(ctx: SearchContext, method: str, guidance_scale: float) -> Outcome:
    """``N = budget // steps`` trajectories in lockstep; rewards only where needed."""
    n = ctx.nfe_budget // ctx.steps
    if n < 1:
        raise budget_error(method, ctx.nfe_budget, ctx.steps, "one trajectory of `steps` NFEs")
    ev = ctx.evaluate(ctx.initial_states(n), 0, guidance_scale, score=False)
    ctx.record(0, n, ev.reward, range(n))
    while ev.i < ctx.steps - 1:
        ev = ctx.evaluate(ctx.step(ev), ev.i + 1, guidance_scale, score=False)
        ctx.record(ev.i, n, ev.reward, range(n))
    return Outcome(ev)


def run_bon(ctx: SearchContext, opts: BoNOptions) -> Outcome:
    return run_independent(ctx, "bon", 0.0)


def run_dps(ctx: SearchContext, opts: DPSOptions) -> Outcome:
    return run_independent(ctx, "dps", opts.guidance_scale)
