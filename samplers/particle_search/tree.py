"""SVDD and CoDe: per-particle branching with greedy selection on look-ahead rewards.

Each of N particles proposes ``children`` (K) copies that each run ``lookahead`` (L) SDE
steps; the child with the highest look-ahead reward ``r(x0_hat)`` replaces the parent.
SVDD (Li et al.) is the ``L = 1`` case (argmax limit of its soft value); CoDe (Singh et
al.) runs L > 1 steps before selecting. The final step to ``s = 0`` is deterministic, so a
block that is only that step does not branch.

Cost per particle: 1 (first evaluation) + K NFEs per step that starts a child's move to a
level above 0 — i.e. ``1 + K (M - 1)`` for any L.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .context import SearchContext
from .population import Evaluated, Outcome, budget_error, need


@dataclass(frozen=True)
class TreeOptions:
    children: int = 4
    lookahead: int = 1

    def __post_init__(self) -> None:
        need(
            isinstance(self.children, int) and self.children >= 1,
            f"children (K) must be an integer >= 1; got {self.children!r}",
        )
        need(
            isinstance(self.lookahead, int) and self.lookahead >= 1,
            f"lookahead (L) must be an integer >= 1; got {self.lookahead!r}",
        )


@dataclass(frozen=True)
class SVDDOptions(TreeOptions):
    """SVDD: K children, one step each (``lookahead`` fixed to 1)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        need(
            self.lookahead == 1,
            "svdd selects after every step; use method='code' for lookahead > 1",
        )


def cost_per_particle(steps: int, children: int) -> int:
    return 1 + children * (steps - 1)


def run_tree(ctx: SearchContext, opts: TreeOptions, method: str = "code") -> Outcome:
    per = cost_per_particle(ctx.steps, opts.children)
    n = ctx.nfe_budget // per
    if n < 1:
        raise budget_error(
            method, ctx.nfe_budget, per, f"one particle: 1 + children * (steps - 1) = {per}"
        )
    k, big_l = opts.children, opts.lookahead
    ev = ctx.evaluate(ctx.initial_states(n), 0)
    ctx.record(0, n, ev, range(n))
    while ev.i < ctx.steps - 1:
        start, nfe0 = ev.i, ctx.nfe
        end = min(start + big_l, ctx.steps - 1)
        kids, parents = ctx.propose(ev, k)
        kid_ev = ctx.rollout(ctx.evaluate(kids, start + 1, score=start + 1 == end), end)
        ev = _best_child(kid_ev, n, k)
        chosen = parents.view(n, k)[:, 0]
        ctx.record(ev.i, ctx.nfe - nfe0, ev, chosen, children=k, lookahead=end - start)
    return Outcome(ev)


def _best_child(kids: Evaluated, n: int, k: int) -> Evaluated:
    """Per parent, the child with the highest reward (ties: the first child)."""
    best = torch.argmax(kids.reward.view(n, k), dim=1)
    return kids.select(torch.arange(n) * k + best)


def run_svdd(ctx: SearchContext, opts: SVDDOptions) -> Outcome:
    return run_tree(ctx, opts, "svdd")


def run_code(ctx: SearchContext, opts: TreeOptions) -> Outcome:
    return run_tree(ctx, opts, "code")
