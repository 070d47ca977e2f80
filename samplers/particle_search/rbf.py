"""Rollover Budget Forcing (Kim et al., arXiv 2503.19385), sequential and batched.

1. Draw ``initial_particles`` noises per chain, evaluate them at ``s_0`` and start each of
   the ``chains`` from the best of its group; the chain's *running best* reward starts there.
2. Each step that moves to a level above 0 has a per-chain quota
   ``Q = (B - initial) // (chains (M - 1))`` plus what earlier steps rolled over. The chain
   proposes children of its current state (one SDE step + one NFE each; ``proposal_batch``
   at a time). The first batch holding a child that beats the running best moves the
   chain to that batch's best child and rolls the unused quota over; if the quota runs out
   first, the chain moves to the step's best child anyway and nothing rolls over.
3. The last proposal step spends everything that is left and keeps its best child, whose
   Tweedie estimate is the final sample (the step to ``s = 0`` is deterministic).

``proposal_batch = 1`` is the paper's sequential rule; larger batches keep the accounting
exact (one NFE per proposal) and use the accelerator better. The last proposal step has no
acceptance test, so its proposals are evaluated together (in ``max_batch`` chunks) whatever
``proposal_batch`` is: with early acceptances most of the budget rolls over to that step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .context import SearchContext
from .population import Evaluated, Outcome, budget_error, need


@dataclass(frozen=True)
class RBFOptions:
    initial_particles: int | None = None  # per chain; None = 5% of the budget per chain
    chains: int = 1
    proposal_batch: int = 1

    def __post_init__(self) -> None:
        for name in ("chains", "proposal_batch"):
            v = getattr(self, name)
            need(isinstance(v, int) and v >= 1, f"{name} must be an integer >= 1; got {v!r}")
        ip = self.initial_particles
        need(
            ip is None or (isinstance(ip, int) and ip >= 1),
            f"initial_particles must be an integer >= 1 or None; got {ip!r}",
        )


def plan(nfe_budget: int, steps: int, opts: RBFOptions) -> tuple[int, int]:
    """``(initial particles per chain, base quota per chain and step)``; checks the minimum."""
    c = opts.chains
    moves = steps - 1
    init = opts.initial_particles or max(1, math.floor(0.05 * nfe_budget / c))
    minimum = c * (init + moves) if opts.initial_particles else c * (1 + moves)
    if nfe_budget < minimum:
        raise budget_error("rbf", nfe_budget, minimum, "chains * (initial_particles + steps - 1)")
    if moves == 0:
        return nfe_budget // c, 0
    if opts.initial_particles is None:
        init = min(init, nfe_budget // c - moves)
    return init, (nfe_budget - c * init) // (c * moves)


def run_rbf(ctx: SearchContext, opts: RBFOptions) -> Outcome:
    init, quota = plan(ctx.nfe_budget, ctx.steps, opts)
    c = opts.chains
    first = ctx.evaluate(ctx.initial_states(init * c), 0)
    best_idx = torch.argmax(first.reward.view(c, init), dim=1) + torch.arange(c) * init
    chains = first.select(best_idx)
    running_best = chains.reward.clone()
    ctx.record(0, init * c, chains, best_idx, initial_particles=init)
    carry = [0] * c
    while chains.i < ctx.steps - 1:
        last = chains.i == ctx.steps - 2
        allow = [quota + carry[j] for j in range(c)]
        if last:  # spend all that is left, evenly, on the final proposal step
            allow = [ctx.remaining // c + (1 if j < ctx.remaining % c else 0) for j in range(c)]
        nfe0 = ctx.nfe
        chains, used, accepted = _propose_step(
            ctx, chains, running_best, allow, opts.proposal_batch, last
        )
        for j in range(c):
            carry[j] = allow[j] - used[j] if accepted[j] is not None and not last else 0
        running_best = torch.maximum(running_best, chains.reward)
        ctx.record(
            chains.i, ctx.nfe - nfe0, chains, range(c),
            quota=allow, proposals=used, accepted=accepted, rolled_over=list(carry),
        )  # fmt: skip
    return Outcome(chains)


def _propose_step(
    ctx: SearchContext,
    chains: Evaluated,
    running_best: torch.Tensor,
    allow: list[int],
    batch: int,
    exhaust: bool,
) -> tuple[Evaluated, list[int], list[int | None]]:
    """One RBF step for all chains; proposals of active chains are batched together.

    Returns the chains' new states, proposals used per chain, and for each chain the
    index (in proposal order) of the accepted child, or ``None`` if it was forced."""
    c = len(chains)
    used = [0] * c
    accepted: list[int | None] = [None] * c
    step_best: list[Evaluated | None] = [None] * c
    active = [j for j in range(c) if allow[j] > 0]
    while active:
        # the last step keeps its best child whatever the order: no need to go k at a time
        sizes = [allow[j] - used[j] if exhaust else min(batch, allow[j] - used[j]) for j in active]
        parents = torch.tensor([j for j, k in zip(active, sizes) for _ in range(k)])
        kids = ctx.evaluate(ctx.step(chains.select(parents)), chains.i + 1)
        offset, still = 0, []
        for j, k in zip(active, sizes):
            part = kids.select(torch.arange(offset, offset + k))
            offset += k
            b = int(torch.argmax(part.reward))
            if step_best[j] is None or part.reward[b] > step_best[j].reward[0]:
                step_best[j] = part.select(torch.tensor([b]))
            if not exhaust and part.reward[b] > running_best[j]:
                accepted[j] = used[j] + b
            used[j] += k
            if accepted[j] is None and used[j] < allow[j]:
                still.append(j)
        active = still
    assert all(b is not None for b in step_best), "every chain proposes at least once per step"
    return Evaluated.cat(step_best), used, accepted
