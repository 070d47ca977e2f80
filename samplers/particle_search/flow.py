"""`search_flow`: budgeted search behind ComfyUI's sampler-function signature.

The twin of `sample_flow`: ``fn(model, x, sigmas, extra_args, callback, disable, **options)``
as ComfyUI's ``KSAMPLER`` calls it, so a node can run the search through
``guider.sample`` (CFG, conditioning, model patches) exactly like SamplerCustomAdvanced.
Pure torch; the node layer only wraps it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from ..grids import grid_from_sigmas
from ..interpolants import Interpolant
from ..randomness import derive_seed, generator_from_seed
from ..sampling import FLOW_SETTINGS
from ..settings import SamplerSettings
from .context import Reward, SearchContext
from .events import SearchControl, SearchEvent
from .methods import MethodOptions, resolve_method
from .result import SearchResult
from .search import check_inputs, check_search_args, run

#: XOR-ed into ``seed + b``: the search's streams differ from ComfyUI's initial noise and
#: from the stochastic sampler's SDE stream for the same NOISE seed.
SEARCH_SEED_SALT = 0x5EA2_C4F1_0B5E_ED00


@torch.no_grad()
def search_flow(
    model: Callable[..., torch.Tensor],
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    options: MethodOptions,
    reward: Reward,
    nfe_budget: int,
    settings: SamplerSettings | None = None,
    latent: torch.Tensor | None = None,
    seed: int | None = None,
    max_batch: int | None = None,
    on_event: Callable[[int, SearchEvent], None] | None = None,
    on_result: Callable[[int, SearchResult], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    control: SearchControl | Sequence[SearchControl] | None = None,
    guidance_scale: float = 0.0,
) -> torch.Tensor:
    """One independent search per batch item; returns the best latent per item ``[B, ...]``
    at ``sigmas[-1]`` in model space (the sample itself when ``sigmas`` end at 0).

    ``model(x, sigma * s_in, **extra_args)`` is the denoiser (any particle batch size).
    ``sigmas``: descending model times, may stop above 0 (split sampling). ``settings``
    defaults to `SamplerSettings` with ``grid="sigmas"``. Start states: with ``latent``
    (the clean latent ``[B or 1, ...]``, img2img / ``denoise < 1``) each particle starts
    at ``alpha(s_0) latent + sigma(s_0) eps`` with its own noise, and ``x`` is not used;
    without it, a search starting at ``s_0 = 1`` draws pure-noise starts (``x`` is only
    ComfyUI's noise there), and one starting below 1 starts every particle from ``x``
    itself (a state handed over by an earlier sampler). Batch item ``b`` is seeded from
    ``generator_from_seed(seed + b, SEARCH_SEED_SALT)`` (``seed`` default:
    ``extra_args["seed"]``, else 0), so it equals `search` with that generator.
    ``on_event(b, event)`` / ``on_result(b, result)`` report per item; ComfyUI's
    ``callback`` gets ``{"i", "denoised", "x", "sigma", "sigma_hat"}`` once per step with
    the best ``x0`` so far (``i`` = progress in steps, from the NFEs spent). ``control``:
    one `SearchControl` for all items or one per item. An item stopped before its first
    NFE returns its ``x`` unchanged.
    """
    del disable
    if not isinstance(x, torch.Tensor) or x.ndim < 2 or not x.is_floating_point():
        raise ValueError(f"x must be a floating-point latent batch [B, ...]; got {x!r:.80}")
    if settings is not None and not isinstance(settings, SamplerSettings):
        raise ValueError(f"settings must be a SamplerSettings; got {type(settings).__name__}")
    cfg = settings if settings is not None else FLOW_SETTINGS
    name, opts, g = resolve_method(None, options, {}, guidance_scale)
    batch, shape = x.shape[0], tuple(x.shape[1:])
    controls = _controls(control, batch)
    for c in controls:
        check_search_args(model, reward, c, name, g)
    latents = _latents(latent, batch)
    path = cfg.path()
    s_grid = grid_from_sigmas(path, sigmas, cfg.grid)
    extra = dict(extra_args or {})
    base = int(seed if seed is not None else (extra.get("seed") or 0))

    def denoiser(x_model: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return model(x_model, t, **extra)

    out = []
    for b in range(batch):
        _, lat, _, _ = check_inputs(nfe_budget, shape, max_batch, latents[b], x.device, x.dtype)
        ctx = SearchContext(
            denoiser=denoiser, reward=reward, interpolant=path, diffusion=cfg.diffusion_fn(),
            grid=s_grid, shape=shape, nfe_budget=nfe_budget,
            seed=derive_seed(generator_from_seed(base + b, SEARCH_SEED_SALT)),
            device=x.device, dtype=x.dtype, method=name, latent=lat, guidance_scale=g,
            max_batch=max_batch, callback=_item_sink(b, on_event, callback, path, len(s_grid) - 1),
            should_stop=should_stop, control=controls[b],
        )  # fmt: skip
        if lat is None and s_grid[0] < 1.0:
            ctx.x_start = x[b : b + 1] * path.linear_scale(s_grid[0])
        result = run(ctx, opts)
        result.settings, result.options, result.guidance_scale = cfg, opts, g
        if on_result is not None:
            on_result(b, result)
        out.append(_item_output(result, x[b : b + 1]))
    return torch.cat(out)


def _controls(control: Any, batch: int) -> list[SearchControl | None]:
    if control is None or isinstance(control, SearchControl):
        return [control] * batch
    controls = list(control)
    if len(controls) != batch:
        raise ValueError(
            f"control must be one SearchControl or one per batch item ({batch}); got {len(controls)}"
        )
    return controls


def _latents(latent: torch.Tensor | None, batch: int) -> list[torch.Tensor | None]:
    if latent is None:
        return [None] * batch
    if not isinstance(latent, torch.Tensor) or latent.ndim < 2 or latent.shape[0] not in (1, batch):
        got = tuple(latent.shape) if isinstance(latent, torch.Tensor) else type(latent).__name__
        raise ValueError(f"latent must be the clean latent [B={batch} or 1, ...]; got {got}")
    return [latent[min(b, latent.shape[0] - 1)].unsqueeze(0) for b in range(batch)]


def _item_output(result: SearchResult, x_item: torch.Tensor) -> torch.Tensor:
    """The latent one item returns: the state at a last level above 0, else the best sample,
    else (nothing was computed) the input."""
    if result.final_state is not None:
        return result.final_state[:1].to(x_item.dtype)
    if result.x0.shape[0]:
        return result.x0[:1].to(x_item.dtype)
    return x_item


def _item_sink(
    b: int,
    on_event: Callable[[int, SearchEvent], None] | None,
    callback: Callable[[dict[str, Any]], None] | None,
    path: Interpolant,
    steps: int,
) -> Callable[[SearchEvent], None] | None:
    """Route one item's events to ``on_event`` and its step events to ComfyUI's callback."""
    if on_event is None and callback is None:
        return None

    def sink(event: SearchEvent) -> None:
        if on_event is not None:
            on_event(b, event)
        if callback is not None and event.kind == "step":
            x0 = event.best_x0 if event.best_x0 is not None else event.population_x0[:1]
            t = path.linear_time(event.s)
            i = min(steps - 1, event.nfe_used * steps // max(1, event.nfe_budget))
            callback({"i": i, "denoised": x0, "x": x0, "sigma": t, "sigma_hat": t})

    return sink
