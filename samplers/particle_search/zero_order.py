"""Zero-order search over the initial noise (Ma et al., arXiv 2501.09732).

Start from a random pivot noise ``p``. Each round draws ``neighbors`` noises at cosine
similarity ``similarity`` to the pivot with the pivot's norm,
``n = |p| (lam p/|p| + sqrt(1 - lam^2) u)`` with ``u`` a random unit vector orthogonal to
``p``, integrates each to a sample (``steps`` NFEs) and moves the pivot to the best
neighbour if it beats the pivot; otherwise the pivot is re-drawn at random (its reward is
unknown, so the next round's best neighbour takes its place). With ``stochastic=True``
the path noise is drawn afresh for every candidate, so the search covers both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .context import SearchContext
from .population import Evaluated, Outcome, budget_error, need


@dataclass(frozen=True)
class ZeroOrderOptions:
    neighbors: int = 4
    similarity: float = 0.95

    def __post_init__(self) -> None:
        need(
            isinstance(self.neighbors, int) and self.neighbors >= 1,
            f"neighbors must be an integer >= 1; got {self.neighbors!r}",
        )
        need(
            -1.0 < self.similarity < 1.0,
            f"similarity (cosine lambda) must be in (-1, 1); got {self.similarity}",
        )


def neighbours(pivot: torch.Tensor, k: int, similarity: float, ctx: SearchContext) -> torch.Tensor:
    """``k`` noises at cosine ``similarity`` to ``pivot [1, ...]`` with its norm."""
    p = pivot.reshape(1, -1).double()
    norm = p.norm()
    unit = p / norm
    u = ctx.randn(k).reshape(k, -1).double()
    u = u - (u @ unit.T) * unit  # Gram–Schmidt: remove the pivot direction
    u = u / u.norm(dim=1, keepdim=True)
    n = norm * (similarity * unit + math.sqrt(1.0 - similarity**2) * u)
    return n.reshape(k, *ctx.shape).to(ctx.dtype)


def _integrate(ctx: SearchContext, noise: torch.Tensor) -> Evaluated:
    """Full trajectories from the start states of ``noise``; final rewards only."""
    ev = ctx.evaluate(ctx.start(noise), 0, score=False)
    return ctx.rollout(ev, ctx.steps - 1)


def run_zero_order(ctx: SearchContext, opts: ZeroOrderOptions) -> Outcome:
    m = ctx.steps
    if ctx.nfe_budget < m:
        raise budget_error("zero_order", ctx.nfe_budget, m, "one trajectory of `steps` NFEs")
    pivot = ctx.randn(1)
    pivot_ev = _integrate(ctx, pivot)
    pivot_r = float(pivot_ev.reward[0])
    finals = [pivot_ev]
    ctx.record(0, m, pivot_ev, [0], round=0, moved=True)
    rnd = 0
    while ctx.remaining >= m:
        rnd += 1
        k = min(opts.neighbors, ctx.remaining // m)
        cand = neighbours(pivot, k, opts.similarity, ctx)
        ev = _integrate(ctx, cand)
        finals.append(ev)
        b = int(torch.argmax(ev.reward))
        moved = float(ev.reward[b]) > pivot_r
        if moved:
            pivot, pivot_r = cand[b : b + 1], float(ev.reward[b])
        else:
            pivot, pivot_r = ctx.randn(1), -math.inf
        ctx.record(rnd, k * m, ev, [0] * k, round=rnd, moved=moved, redrawn=not moved)
    return Outcome(Evaluated.cat(finals))
