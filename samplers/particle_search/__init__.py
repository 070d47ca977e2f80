"""Budgeted particle search for flow models (pure torch; DESIGN.md §3).

`search(denoiser, reward, method=..., nfe_budget=..., shape=..., steps=...)` runs one of
`METHODS` and returns a `SearchResult`. One NFE is one particle through the denoiser;
every method counts them exactly and never exceeds ``nfe_budget``.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..denoiser import Denoiser
from ..diffusion import Diffusion, get_diffusion
from ..grids import make_grid
from ..interpolants import Interpolant, get_interpolant
from .base import Outcome
from .bon import BoNOptions, DPSOptions, run_bon, run_dps
from .context import Evaluated, Reward, SearchContext, StopSearch
from .rbf import RBFOptions, run_rbf
from .result import SearchResult, StepRecord, Timings
from .smc import SMCOptions, run_smc
from .sop import SoPOptions, run_sop
from .tree import SVDDOptions, TreeOptions, run_code, run_svdd
from .zero_order import ZeroOrderOptions, run_zero_order

#: method name -> (options record, runner)
METHODS: dict[str, tuple[type, Callable[[SearchContext, Any], Outcome]]] = {
    "bon": (BoNOptions, run_bon),
    "zero_order": (ZeroOrderOptions, run_zero_order),
    "sop": (SoPOptions, run_sop),
    "smc": (SMCOptions, run_smc),
    "svdd": (SVDDOptions, run_svdd),
    "code": (TreeOptions, run_code),
    "rbf": (RBFOptions, run_rbf),
    "dps": (DPSOptions, run_dps),
}


def method_options(method: str, options: dict[str, Any]):
    """Build a method's typed options; unknown names are an error, not ignored."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}; got {method!r}")
    cls = METHODS[method][0]
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for method '{method}'; its options are {sorted(known) or 'none'}"
        )
    return cls(**options)


def _check_args(nfe_budget: Any, shape: Any, max_batch: Any) -> tuple[int, ...]:
    if isinstance(nfe_budget, bool) or not isinstance(nfe_budget, int) or nfe_budget < 1:
        raise ValueError(f"nfe_budget must be a positive integer; got {nfe_budget!r}")
    if max_batch is not None and (
        isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1
    ):
        raise ValueError(f"max_batch must be a positive integer or None; got {max_batch!r}")
    try:
        shape_t = tuple(int(d) for d in shape)
    except TypeError:
        raise ValueError(
            f"shape must be a sequence of positive ints (one sample, no batch); got {shape!r}"
        ) from None
    if not shape_t or any(d < 1 for d in shape_t):
        raise ValueError(
            f"shape must be a non-empty sequence of positive ints (no batch dim); got {shape!r}"
        )
    return shape_t


def search(
    denoiser: Denoiser,
    reward: Reward,
    *,
    method: str,
    nfe_budget: int,
    shape: Sequence[int],
    steps: int,
    interpolant: str | Interpolant = "vp",
    stochastic: bool = True,
    diffusion: str | Diffusion = "square",
    diffusion_scale: float = 3.0,
    grid: str = "adaptive",
    generator: torch.Generator | None = None,
    timesteps: torch.Tensor | Sequence[float] | None = None,
    max_batch: int | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    **method_opts: Any,
) -> SearchResult:
    """Spend at most ``nfe_budget`` denoiser evaluations to find a high-reward sample.

    ``denoiser(x, t) -> x0_hat`` and ``grid``/``timesteps`` are as in `sample`;
    ``reward(x0 [B, *shape]) -> Tensor[B]`` (higher is better, called on batches;
    NaN/inf count as the worst score). ``max_batch`` caps particles per denoiser/reward call
    (results do not depend on it beyond the denoiser's own batch-size float effects).
    ``callback(event)`` runs after every step; ``should_stop()`` is checked before every
    denoiser call and ends the search with the best so far (``stopped=True``).
    ``method_opts`` are the method's options (see `METHODS`); unknown ones are an error.
    """
    opts = method_options(method, method_opts)
    shape_t = _check_args(nfe_budget, shape, max_batch)
    if not callable(reward):
        raise ValueError(f"reward must be callable x0 -> Tensor[B]; got {type(reward).__name__}")
    if not callable(denoiser):
        raise ValueError(
            f"denoiser must be callable (x, t) -> x0_hat; got {type(denoiser).__name__}"
        )
    path = get_interpolant(interpolant)
    ctx = SearchContext(
        denoiser=denoiser,
        reward=reward,
        interpolant=path,
        diffusion=get_diffusion(diffusion, diffusion_scale, stochastic=stochastic),
        grid=make_grid(path, steps=steps, grid=grid, timesteps=timesteps),
        shape=shape_t,
        nfe_budget=nfe_budget,
        generator=generator,
        device=torch.device(device),
        dtype=dtype,
        max_batch=max_batch,
        callback=callback,
        should_stop=should_stop,
        method=method,
    )
    start = time.perf_counter()
    stopped = False
    try:
        outcome = METHODS[method][1](ctx, opts)
    except StopSearch:
        stopped, outcome = True, None
    ctx.ledger.timings.total = time.perf_counter() - start
    return _result(ctx, outcome, stopped)


def _result(ctx: SearchContext, outcome: Outcome | None, stopped: bool) -> SearchResult:
    led = ctx.ledger
    if outcome is None and led.best is None and led.latest is not None:
        # Stopped before anything was scored (e.g. best-of-N mid-way): score the current
        # look-ahead estimates so the caller still gets images. Reward calls cost no NFE.
        latest = led.latest
        outcome = Outcome(Evaluated(latest.x, latest.x0_hat, ctx.score(latest.x0_hat), latest.i))
    if outcome is not None:
        rewards = outcome.final.reward
        order = torch.argsort(rewards, descending=True, stable=True)
        cands, rs = outcome.final.x0_hat[order], rewards[order]
        weights = None if outcome.weights is None else outcome.weights[order]
    elif led.best is not None:
        cands, rs, weights = led.best[1], torch.tensor([led.best[0]], dtype=torch.float64), None
    else:
        cands = torch.zeros((0, *ctx.shape), dtype=ctx.dtype, device=ctx.device)
        rs, weights = torch.zeros(0, dtype=torch.float64), None
    best = float(rs[0]) if rs.numel() else -math.inf
    return SearchResult(
        x0=cands[:1],
        reward=best,
        nfe=led.nfe,
        nfe_budget=ctx.nfe_budget,
        candidates=cands,
        rewards=rs,
        method=ctx.method,
        stopped=stopped,
        weights=weights,
        trace=led.trace,
        timings=led.timings,
        nonfinite_rewards=led.nonfinite,
        nfe_backward=led.nfe_backward,
    )


__all__ = ["METHODS", "SearchResult", "StepRecord", "Timings", "method_options", "search"]
