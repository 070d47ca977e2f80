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

What a child must beat (``acceptance``; the quota, rollover and forced moves are the same):

- ``"running_best"`` (the paper's rule, the default): the best reward the chain has seen.
  Look-ahead rewards rise along a trajectory as ``x0_hat`` sharpens, so on most steps the
  first proposal already beats rewards measured at noisier levels, and the budget rolls
  over to the last step (docs/search.md, "RBF's rollover").
- ``"step_best"`` (ours): the best of the step's first ``ceil(explore * quota)`` proposals,
  proposed together; then the first later batch holding a better child is accepted. Both
  sides of the comparison are measured at the same level, as in the secretary problem
  (``explore = 1/e`` maximises the chance of stopping at the step's best proposal).
- ``"threshold"`` (Verifier-Threshold, Sundaresha et al., arXiv 2512.08985; method
  ``"vt"``): a fixed reward ``threshold``, in the reward's own units. The chain advances
  as soon as a proposal clears it; steps where none does spend their whole quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .context import SearchContext
from .population import Evaluated, Outcome, budget_error, need

#: What a proposal must beat to be accepted (see the module doc).
ACCEPTANCE = ("running_best", "step_best")


@dataclass(frozen=True)
class RBFOptions:
    initial_particles: int | None = None  # per chain; None = 5% of the budget per chain
    chains: int = 1
    proposal_batch: int = 1
    acceptance: str = "running_best"  # the paper's rule; "step_best": see the module doc
    explore: float = 1 / math.e  # step_best: share of a step's quota proposed up front

    def __post_init__(self) -> None:
        for name in ("chains", "proposal_batch"):
            v = getattr(self, name)
            need(isinstance(v, int) and v >= 1, f"{name} must be an integer >= 1; got {v!r}")
        ip = self.initial_particles
        need(
            ip is None or (isinstance(ip, int) and ip >= 1),
            f"initial_particles must be an integer >= 1 or None; got {ip!r}",
        )
        need(
            self.acceptance in ACCEPTANCE,
            f"acceptance must be one of {list(ACCEPTANCE)}; got {self.acceptance!r} "
            "(for a fixed reward threshold use method='vt')",
        )
        e = self.explore
        need(
            not isinstance(e, bool) and isinstance(e, (int, float)) and 0 < e <= 1,
            f"explore must be a number in (0, 1]; got {e!r}",
        )


@dataclass(frozen=True)
class VTOptions:
    """Verifier-Threshold: RBF's budget and rollover, accepting a proposal once its reward
    clears ``threshold`` (in the reward's units, e.g. ``log 0.9`` for a log-probability)."""

    threshold: float | None = None
    initial_particles: int | None = None
    chains: int = 1
    proposal_batch: int = 1

    def __post_init__(self) -> None:
        t = self.threshold
        need(
            not isinstance(t, bool) and isinstance(t, (int, float)) and math.isfinite(t),
            f"vt needs threshold=<a finite reward value a good sample reaches>; got {t!r}",
        )
        RBFOptions(self.initial_particles, self.chains, self.proposal_batch)  # same checks

    def as_rbf(self) -> RBFOptions:
        return RBFOptions(self.initial_particles, self.chains, self.proposal_batch)


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


def run_vt(ctx: SearchContext, opts: VTOptions) -> Outcome:
    return run_rbf(ctx, opts.as_rbf(), threshold=float(opts.threshold))


def run_rbf(ctx: SearchContext, opts: RBFOptions, threshold: float | None = None) -> Outcome:
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
        bar, explore = running_best, None
        if threshold is not None:
            bar = torch.full_like(running_best, threshold)
        elif opts.acceptance == "step_best" and not last:
            explore = [min(a, math.ceil(opts.explore * a)) for a in allow]
        chains, used, accepted = _propose_step(
            ctx, chains, bar, allow, opts.proposal_batch, last, explore
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
    bar: torch.Tensor,
    allow: list[int],
    batch: int,
    exhaust: bool,
    explore: list[int] | None = None,
) -> tuple[Evaluated, list[int], list[int | None]]:
    """One RBF step for all chains; proposals of active chains are batched together.

    A child is accepted when it beats the chain's ``bar``. With ``explore`` (step_best),
    each chain first proposes ``explore[j]`` children together, without a test, and its
    bar becomes their best reward. Returns the chains' new states, proposals used per
    chain, and for each chain the index (in proposal order) of the accepted child, or
    ``None`` if it was forced."""
    c = len(chains)
    used = [0] * c
    accepted: list[int | None] = [None] * c
    step_best: list[Evaluated | None] = [None] * c
    bar = bar.clone()
    active = [j for j in range(c) if allow[j] > 0]
    while active:
        # the last step keeps its best child whatever the order: no need to go k at a time
        sizes = [allow[j] - used[j] if exhaust else min(batch, allow[j] - used[j]) for j in active]
        if explore is not None and not any(used):
            sizes = [explore[j] for j in active]
        parents = torch.tensor([j for j, k in zip(active, sizes) for _ in range(k)])
        kids = ctx.evaluate(ctx.step(chains.select(parents)), chains.i + 1)
        offset, still = 0, []
        for j, k in zip(active, sizes):
            part = kids.select(torch.arange(offset, offset + k))
            offset += k
            b = int(torch.argmax(part.reward))
            if step_best[j] is None or part.reward[b] > step_best[j].reward[0]:
                step_best[j] = part.select(torch.tensor([b]))
            if explore is not None and used[j] == 0:
                bar[j] = part.reward[b]  # the explored best: later children must beat it
            elif not exhaust and part.reward[b] > bar[j]:
                accepted[j] = used[j] + b
            used[j] += k
            if accepted[j] is None and used[j] < allow[j]:
                still.append(j)
        active = still
    assert all(b is not None for b in step_best), "every chain proposes at least once per step"
    return Evaluated.cat(step_best), used, accepted
