"""`search()`: spend a denoiser budget to find a high-reward sample (docs/search.md)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..denoiser import Denoiser
from ..diffusion import Diffusion
from ..grids import make_grid
from ..interpolants import Interpolant
from ..randomness import derive_seed
from ..settings import SamplerSettings, resolve_settings
from .context import EventCallback, Reward, SearchContext
from .events import SearchControl
from .finish import outcome_result, pick_result
from .ledger import PickSearch, StopSearch
from .methods import METHODS, MethodOptions, check_reward_flags, resolve_method
from .result import SearchResult


@torch.no_grad()
def search(
    denoiser: Denoiser,
    reward: Reward,
    *,
    method: str | None = None,
    options: MethodOptions | None = None,
    nfe_budget: int,
    shape: Sequence[int] | None = None,
    steps: int | None = None,
    timesteps: torch.Tensor | Sequence[float] | None = None,
    settings: SamplerSettings | None = None,
    latent: torch.Tensor | None = None,
    guidance_scale: float | None = None,
    generator: torch.Generator | None = None,
    max_batch: int | None = None,
    callback: EventCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    control: SearchControl | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    interpolant: str | Interpolant | None = None,
    stochastic: bool | None = None,
    diffusion: str | Diffusion | None = None,
    diffusion_scale: float | None = None,
    grid: str | None = None,
    **method_opts: Any,
) -> SearchResult:
    """Spend at most ``nfe_budget`` denoiser evaluations to find a high-reward sample.

    ``denoiser(x, t) -> x0_hat`` as in `sample`; ``reward(x0 [B, *shape]) -> Tensor[B]``
    (higher is better, called on batches; NaN/inf count as the worst score; optional flags
    ``reward.differentiable`` / ``reward.batch_relative`` are honoured, see
    `check_reward_flags`). The method is ``method="rbf"`` with its options as keywords, or
    a typed record ``options=RBFOptions(...)``. ``settings`` (`SamplerSettings`, default
    the paper's VP-SDE on the adaptive grid; the keywords ``interpolant`` ... ``grid`` are
    the older spelling) and ``steps`` or ``timesteps`` (descending model times; they may
    stop above 0, then ``result.final_state`` is the state there) give the grid.
    ``latent`` ``[1, *shape]``: start from this clean latent (img2img; ``timesteps``
    starting below 1). ``guidance_scale``: gradient guidance for every method
    (``method="dps"`` = best-of-N with guidance, default 1.0).

    Randomness: one base seed is drawn from ``generator`` (any device; ``None``: torch's
    global generator) and every particle's noise is keyed by (seed, draw, particle), so
    results do not depend on ``max_batch`` (particles per denoiser/reward call) beyond the
    denoiser's own batch-size float effects. ``callback(SearchEvent)`` gets ``"nfe"``
    events after every denoiser chunk, ``"step"`` events after every method step and one
    ``"done"``; ``should_stop()`` and ``control`` (`SearchControl`: stop / pick) are
    honoured before every chunk. Runs under ``torch.no_grad()``.
    """
    name, opts, g = resolve_method(method, options, method_opts, guidance_scale)
    cfg = resolve_settings(
        settings, SamplerSettings(), interpolant=interpolant, stochastic=stochastic,
        diffusion=diffusion, diffusion_scale=diffusion_scale, grid=grid,
    )  # fmt: skip
    check_search_args(denoiser, reward, control, name, g)
    shape_t, lat, dev, dt = check_inputs(nfe_budget, shape, max_batch, latent, device, dtype)
    path = cfg.path()
    ctx = SearchContext(
        denoiser=denoiser, reward=reward, interpolant=path, diffusion=cfg.diffusion_fn(),
        grid=make_grid(path, steps=steps, grid=cfg.grid, timesteps=timesteps, must_end_at_zero=False),
        shape=shape_t, nfe_budget=nfe_budget, seed=derive_seed(generator), device=dev, dtype=dt,
        method=name, latent=lat, guidance_scale=g, max_batch=max_batch, callback=callback,
        should_stop=should_stop, control=control,
    )  # fmt: skip
    result = run(ctx, opts)
    result.settings, result.options, result.guidance_scale = cfg, opts, g
    return result


def check_search_args(
    denoiser: Any, reward: Any, control: Any, method: str, guidance_scale: float
) -> None:
    """The checks every search entry makes before spending anything."""
    for what, fn, sig in (
        ("reward", reward, "x0 -> Tensor[B]"),
        ("denoiser", denoiser, "(x, t) -> x0_hat"),
    ):
        if not callable(fn):
            raise ValueError(f"{what} must be callable {sig}; got {type(fn).__name__}")
    if control is not None and not isinstance(control, SearchControl):
        raise ValueError(f"control must be a SearchControl or None; got {type(control).__name__}")
    check_reward_flags(reward, method, guidance_scale)


def run(ctx: SearchContext, opts: MethodOptions) -> SearchResult:
    """Run the context's method to its end, a stop or a pick; emit the ``"done"`` event
    (the final candidates and how the search ended, see `SearchEvent`)."""
    if ctx.control is not None:
        ctx.control.begin()
    start = time.perf_counter()
    outcome, stopped, pick = None, False, None
    try:
        try:
            outcome = METHODS[ctx.method][1](ctx, opts)
            request = None if ctx.control is None else ctx.control.take()
            pick = request if isinstance(request, tuple) else None  # a late stop changes nothing
        except StopSearch:
            stopped = True
        except PickSearch as p:
            pick = (p.population, p.index)
        result = pick_result(ctx, *pick) if pick is not None else None
        if not isinstance(result, SearchResult):
            error = result
            result = outcome_result(ctx, outcome, stopped or outcome is None)
            result.pick_error = error
    finally:
        if ctx.control is not None:
            ctx.control.end()
    ctx.ledger.timings.total = time.perf_counter() - start
    result.seed = ctx.seed
    found = result.x0.shape[0] > 0
    ctx.emit(
        "done", rewards=tuple(result.rewards.tolist()), best_reward=result.reward,
        best_x0=result.x0 if found else None, population_x0=result.candidates if found else None,
        population=pick[0] if result.picked else ctx.ledger.latest_population,
        stopped=result.stopped, picked=result.picked, pick_error=result.pick_error,
        nfe_finish=result.nfe_finish,
    )  # fmt: skip
    return result


def check_inputs(
    nfe_budget: Any, shape: Any, max_batch: Any, latent: Any, device: Any, dtype: Any
) -> tuple[tuple[int, ...], torch.Tensor | None, torch.device, torch.dtype]:
    """Validated ``(shape, latent [1, *shape] or None, device, dtype)``."""
    if isinstance(nfe_budget, bool) or not isinstance(nfe_budget, int) or nfe_budget < 1:
        raise ValueError(f"nfe_budget must be a positive integer; got {nfe_budget!r}")
    if max_batch is not None and (
        isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1
    ):
        raise ValueError(f"max_batch must be a positive integer or None; got {max_batch!r}")
    if latent is not None:
        if not isinstance(latent, torch.Tensor) or not latent.is_floating_point():
            raise ValueError(
                f"latent must be a floating-point tensor [1, *shape]; got {latent!r:.80}"
            )
        if shape is None:
            if latent.ndim < 2 or latent.shape[0] != 1:
                raise ValueError(
                    f"latent must be one sample [1, *shape]; got shape {tuple(latent.shape)}"
                )
            shape = latent.shape[1:]
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
    dev = (
        torch.device(device)
        if device is not None
        else (latent.device if latent is not None else torch.device("cpu"))
    )
    dt = dtype if dtype is not None else (latent.dtype if latent is not None else torch.float32)
    if latent is not None:
        if tuple(latent.shape) not in (shape_t, (1, *shape_t)):
            raise ValueError(
                f"latent has shape {tuple(latent.shape)}; it must be {list(shape_t)} or [1, *{list(shape_t)}]"
            )
        latent = latent.reshape(1, *shape_t).to(device=dev, dtype=dt)
    return shape_t, latent, dev, dt
