"""Sequential Monte Carlo / Feynman–Kac steering (Singhal et al., arXiv 2501.06848).

N particles follow the base SDE; after each step every particle gets a potential from its
look-ahead reward ``r_i = r(x0_hat(x_{s_i}))`` and the population is resampled when the
effective sample size drops below ``ess_threshold * N``. Potentials (log, temperature
``lam``):

- ``difference``: ``(r_i - r_{i-1}) / lam`` (``r_{-1} = 0``)
- ``max``:        ``max_{j <= i} r_j / lam``
- ``sum``:        ``sum_{j <= i} r_j / lam``

At the last evaluation (which holds the final samples) the potential is replaced by
``r_final / lam - sum of the particle's earlier log-potentials along its lineage``, so the
weighted final population targets ``p(x) exp(r(x) / lam)`` for every choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .context import SearchContext
from .population import Outcome, budget_error, need

RESAMPLING = ("multinomial", "systematic", "stratified")
POTENTIALS = ("difference", "max", "sum")


@dataclass(frozen=True)
class SMCOptions:
    # Defaults of the RBF paper's SMC baseline: lambda 1, resample whenever ESS < N.
    lam: float = 1.0
    ess_threshold: float = 1.0
    resampling: str = "multinomial"
    potential: str = "difference"

    def __post_init__(self) -> None:
        need(self.lam > 0, f"lam (the SMC temperature lambda) must be > 0; got {self.lam}")
        need(
            0.0 <= self.ess_threshold <= 1.0,
            f"ess_threshold must be in [0, 1]; got {self.ess_threshold}",
        )
        need(
            self.resampling in RESAMPLING,
            f"resampling must be one of {list(RESAMPLING)}; got {self.resampling!r}",
        )
        need(
            self.potential in POTENTIALS,
            f"potential must be one of {list(POTENTIALS)}; got {self.potential!r}",
        )


def resample(weights: torch.Tensor, scheme: str, generator: torch.Generator | None) -> torch.Tensor:
    """Ancestor indices ``[N]`` for normalised ``weights [N]`` (float64, CPU)."""
    n = weights.shape[0]
    if scheme == "multinomial":
        return torch.multinomial(weights, n, replacement=True, generator=generator)
    if scheme == "systematic":
        u = (
            torch.rand(1, generator=generator, dtype=torch.float64)
            + torch.arange(n, dtype=torch.float64)
        ) / n
    else:  # stratified
        u = (
            torch.rand(n, generator=generator, dtype=torch.float64)
            + torch.arange(n, dtype=torch.float64)
        ) / n
    cdf = torch.cumsum(weights, 0)
    cdf[-1] = 1.0
    return torch.searchsorted(cdf, u).clamp_max(n - 1)


def _log_potential(
    opts: SMCOptions, r: torch.Tensor, prev_r: torch.Tensor, acc: torch.Tensor
) -> torch.Tensor:
    """Log-potential of this step; ``acc`` is the running max / sum of rewards so far."""
    if opts.potential == "difference":
        return (r - prev_r) / opts.lam
    return acc / opts.lam


def run_smc(ctx: SearchContext, opts: SMCOptions) -> Outcome:
    n = ctx.nfe_budget // ctx.steps
    if n < 1:
        raise budget_error("smc", ctx.nfe_budget, ctx.steps, "one particle of `steps` NFEs")
    log_w = torch.zeros(n, dtype=torch.float64)
    prev_r = torch.zeros(n, dtype=torch.float64)
    acc = None
    lineage_log_g = torch.zeros(n, dtype=torch.float64)  # sum of log-potentials along lineage
    ev = ctx.evaluate(ctx.initial_states(n), 0)
    while True:
        r = ev.reward
        finite_r = torch.where(torch.isfinite(r), r, torch.full_like(r, -1e300))
        if opts.potential == "max":
            acc = finite_r if acc is None else torch.maximum(acc, finite_r)
        elif opts.potential == "sum":
            acc = finite_r if acc is None else acc + finite_r
        last = ev.i >= ctx.steps - 1
        if last:
            log_g = finite_r / opts.lam - lineage_log_g
        else:
            log_g = _log_potential(opts, finite_r, prev_r, acc)
        log_w = log_w + log_g
        lineage_log_g = lineage_log_g + log_g
        w = torch.softmax(log_w, 0)
        ess = float(1.0 / (w * w).sum())
        parents = torch.arange(n)
        resampled = False
        if not last and ess < opts.ess_threshold * n:
            parents = resample(w, opts.resampling, ctx.rng())
            ev = ev.select(parents)
            finite_r, lineage_log_g = finite_r[parents], lineage_log_g[parents]
            acc = None if acc is None else acc[parents]
            log_w = torch.zeros(n, dtype=torch.float64)
            resampled = True
        ctx.record(ev.i, n, ev, parents, ess=ess, resampled=resampled)
        if last:
            return Outcome(ev, torch.softmax(log_w, 0))
        prev_r = finite_r
        ev = ctx.evaluate(ctx.step(ev), ev.i + 1)
