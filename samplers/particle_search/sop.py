"""Search over paths (Ma et al., arXiv 2501.09732).

Integrate ``width`` noises down to level ``start``; then repeat: give each kept sample
``branches`` exact re-noisings forward by ``forward`` (the path's forward kernel),
integrate each back by ``backward`` (> forward, so the level drops each round), and keep
the ``width`` best of all branches by look-ahead reward; the round that reaches ``s = 0``
ends the search. Levels are interpolant times ``s`` (reported: 0.11 / 0.78 / 0.81, i.e.
four rounds). Segments use the search grid's points inside them plus their endpoints, or
``segment_steps`` uniform steps each (the reference implementation uses 4).

``width`` is the largest that fits the budget; the per-width cost is computed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..steps import forward_kernel
from .context import SearchContext
from .population import Evaluated, Outcome, budget_error, need


@dataclass(frozen=True)
class SoPOptions:
    start: float = 0.11
    forward: float = 0.78
    backward: float = 0.81
    branches: int = 4
    segment_steps: int | None = None

    def __post_init__(self) -> None:
        ss = self.segment_steps
        need(
            ss is None or (isinstance(ss, int) and ss >= 1),
            f"segment_steps must be an integer >= 1 or None; got {ss!r}",
        )
        need(0.0 < self.start < 1.0, f"start must be in (0, 1); got {self.start}")
        need(self.forward > 0, f"forward (Δf) must be > 0; got {self.forward}")
        need(
            self.backward > self.forward,
            f"backward (Δb={self.backward}) must exceed forward (Δf={self.forward}) so the level drops",
        )
        need(
            isinstance(self.branches, int) and self.branches >= 1,
            f"branches must be an integer >= 1; got {self.branches!r}",
        )


def segment(grid: list[float], hi: float, lo: float, steps: int | None = None) -> list[float]:
    """Descending times from ``hi`` to ``lo``: through the grid points strictly between, or
    ``steps`` uniform steps."""
    if steps is not None:
        return [hi + (lo - hi) * k / steps for k in range(steps)] + [lo]
    return [hi] + [s for s in grid if lo < s < hi] + [lo]


def levels(opts: SoPOptions) -> list[tuple[float, float, float]]:
    """``(from, hi, lo)`` of every round: re-noise ``from -> hi``, integrate ``hi -> lo``."""
    out, lo = [], opts.start
    while lo > 0.0:
        hi = min(1.0, lo + opts.forward)
        out.append((lo, hi, max(0.0, hi - opts.backward)))
        lo = out[-1][2]
    return out


def segment_cost(seg: list[float]) -> int:
    """NFEs to run one particle along ``seg`` and score it at the end: one per level above 0."""
    return sum(1 for s in seg if s > 0)


def run_segment(ctx: SearchContext, x: torch.Tensor) -> Evaluated:
    """Integrate states ``x`` from ``ctx.grid[0]`` along the grid and score the last
    evaluation above 0 (the end level, or the final samples when the grid ends at 0)."""
    last = max(i for i, s in enumerate(ctx.grid) if s > 0)
    return ctx.rollout(ctx.evaluate(x, 0, score=last == 0), last)


def run_sop(ctx: SearchContext, opts: SoPOptions) -> Outcome:
    if ctx.grid[-1] > 0:
        raise ValueError(
            f"sop's rounds end at s = 0, but the grid stops at s = {ctx.grid[-1]:.4g} (split "
            "sampling); use another method or timesteps that end at 0"
        )
    if ctx.grid[0] <= opts.start:
        raise ValueError(
            f"sop needs the grid to start above its start level {opts.start}; it starts at "
            f"s = {ctx.grid[0]:.4g} (lower start=, or start the search earlier)"
        )
    plan = levels(opts)
    seed = segment(ctx.grid, ctx.grid[0], opts.start, opts.segment_steps)
    segs = [segment(ctx.grid, hi, lo, opts.segment_steps) for _, hi, lo in plan]
    per_width = segment_cost(seed) + opts.branches * sum(segment_cost(s) for s in segs)
    width = ctx.nfe_budget // per_width
    if width < 1:
        raise budget_error(
            "sop", ctx.nfe_budget, per_width, "one kept sample through the seed and every round"
        )
    kept = run_segment(ctx.on_grid(seed), ctx.initial_states(width))
    ctx.record(0, ctx.nfe, kept, range(width), s=opts.start, level=opts.start)
    for r, ((frm, hi, lo), seg) in enumerate(zip(plan, segs), start=1):
        nfe0 = ctx.nfe
        parents = torch.arange(width).repeat_interleave(opts.branches)
        x = kept.x[parents]
        x = forward_kernel(x, frm, hi, ctx.interpolant, ctx.randn(x.shape[0]))
        kids = run_segment(ctx.on_grid(seg), x)
        order = torch.argsort(kids.reward, descending=True, stable=True)[:width]
        kept = kids.select(order)
        ctx.record(r, ctx.nfe - nfe0, kept, parents[order], s=lo, forward_to=hi, back_to=lo)
    return Outcome(kept)
