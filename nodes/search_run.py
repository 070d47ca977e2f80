"""Running the core's `search_flow` inside ComfyUI's sampling machinery.

The Flow Search node hands ComfyUI a ``KSAMPLER`` whose function is `flow_search_function`
with a `SearchJob` bound to it, and calls ``guider.sample`` exactly as
``SamplerCustomAdvanced`` does. ComfyUI then calls the function with its model wrapper
(``KSamplerX0Inpaint`` around the guider: conditioning, CFG, patches, inpainting), the noised
latent ``x`` at ``sigmas[0]`` and ``extra_args`` (``model_options``, ``seed``,
``denoise_mask``).

Batch items are searched one after the other, each through a view of ComfyUI's inpainting
wrapper sliced to that item (its mask, clean latent and noise), so a population of any size
goes through the model while the item's mask and clean latent broadcast over it. Item ``b``
uses seed ``seed + b``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import comfy.model_management
import comfy.samplers
import torch

from ..samplers import SearchControl, SearchEvent, SearchResult, search_flow
from .autograd import GuidedScope
from .checkpointing import block_keys, checkpointed_options
from .methods import ResolvedMethod

NODE = "FlowSearch Flow Search"

EventSink = Callable[[int, SearchEvent], None]


@dataclass
class SearchJob:
    """What one Flow Search run needs besides ComfyUI's sampler arguments."""

    method: ResolvedMethod
    reward: Any  # Reward: x0 latents [N, ...] (model space) -> Tensor[N]
    nfe_budget: int
    max_particles: int
    items: int
    sinks: list[EventSink] = field(default_factory=list)
    controls: list[SearchControl] = field(default_factory=list)
    results: list[SearchResult | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.controls:
            self.controls = [SearchControl() for _ in range(self.items)]
        self.results = [None] * self.items

    def emit(self, index: int, event: SearchEvent) -> None:
        for sink in self.sinks:
            sink(index, event)


def _row(t: torch.Tensor | None, b: int) -> torch.Tensor | None:
    """Batch row ``b`` of a tensor that is per item, or the tensor itself if it broadcasts."""
    if t is None or t.ndim == 0 or t.shape[0] == 1:
        return t
    return t[b : b + 1]


def item_view(model: Any, b: int) -> Any:
    """ComfyUI's ``KSamplerX0Inpaint`` restricted to batch item ``b`` (mask handled by the
    caller through ``extra_args``). Other model callables are returned unchanged."""
    if not isinstance(model, comfy.samplers.KSamplerX0Inpaint):
        return model
    view = comfy.samplers.KSamplerX0Inpaint(model.inner_model, model.sigmas)
    view.latent_image = _row(getattr(model, "latent_image", None), b)
    view.noise = _row(getattr(model, "noise", None), b)
    return view


@torch.no_grad()
def flow_search_function(
    model: Any,
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    job: SearchJob,
) -> torch.Tensor:
    """KSAMPLER function: one search per batch item; returns the best latents ``[B, ...]``
    at ``sigmas[-1]``. The clean latent ComfyUI keeps on its wrapper is the search's start
    latent (``denoise < 1`` starts every particle from it noised to ``sigmas[0]``)."""
    extra_args = dict(extra_args or {})
    seed = int(extra_args.get("seed") or 0)
    mask = extra_args.get("denoise_mask")
    m = job.method
    best = []
    for b in range(x.shape[0]):
        view = item_view(model, b)
        args_b = dict(extra_args, denoise_mask=_row(mask, b))
        latent = getattr(view, "latent_image", None)
        scope = None
        if m.guidance_scale > 0:
            keys = block_keys(diffusion_model_of(model))
            scope = GuidedScope(lambda options, keys=keys: checkpointed_options(options, keys))

        def on_event(_: int, event: SearchEvent, b: int = b, scope=scope) -> None:
            if scope is not None:  # a guided evaluation's backward is done by its event
                scope.close()
            job.emit(b, event)

        def on_result(_: int, result: SearchResult, b: int = b) -> None:
            job.results[b] = result

        best.append(
            _search_item(
                scope,
                view if scope is None else scope.wrap(view),
                x[b : b + 1],
                sigmas,
                args_b,
                callback,
                disable,
                options=m.options,
                reward=job.reward,
                nfe_budget=job.nfe_budget,
                settings=m.settings,
                latent=latent,
                seed=seed + b,
                max_batch=job.max_particles,
                on_event=on_event,
                on_result=on_result,
                should_stop=comfy.model_management.processing_interrupted,
                control=job.controls[b],
                guidance_scale=m.guidance_scale,
            )
        )
        if comfy.model_management.processing_interrupted():
            break  # the node raises ComfyUI's interruption; later items never start
    return torch.cat(best) if len(best) == x.shape[0] else torch.cat(best + [x[len(best) :]])


def diffusion_model_of(model: Any) -> Any:
    """The diffusion model behind ComfyUI's sampler wrapper (``KSamplerX0Inpaint`` around a
    guider), or ``None``."""
    patcher = getattr(getattr(model, "inner_model", None), "model_patcher", None)
    return getattr(getattr(patcher, "model", None), "diffusion_model", None)


def _search_item(scope: GuidedScope | None, *args: Any, **kwargs: Any) -> torch.Tensor:
    """`search_flow` for one item; a budget below the method's minimum also names the SIGMAS
    (the runners check it before their first NFE); a guided evaluation that autograd cannot
    differentiate says so and names the fix."""
    try:
        return search_flow(*args, **kwargs)
    except ValueError as err:
        if "gradient guidance needs" in str(err):
            raise ValueError(
                f"{NODE}: {err}. guidance_scale is on the method node; search without "
                "gradients works with any model"
            ) from None
        if "is too small for method" not in str(err):
            raise
        steps = len(args[2]) - 1
        raise ValueError(
            f"{err}. The connected SIGMAS have {steps} steps; raise nfe_budget on the Flow "
            "Search node or use fewer steps"
        ) from None
    except RuntimeError as err:  # NotImplementedError too (an op without a backward)
        if scope is None or not scope.active or isinstance(err, torch.OutOfMemoryError):
            raise
        raise RuntimeError(
            f"{NODE}: gradient guidance needs autograd through the diffusion model, the VAE "
            f"and the verifier, and it failed in a guided evaluation: {str(err).rstrip('.')}. Set "
            "guidance_scale to 0 on the method node (search without gradients works with "
            "any model), or use a model / VAE / verifier that autograd can differentiate"
        ) from err
    finally:
        if scope is not None:
            scope.close()


def search_sampler(job: SearchJob) -> comfy.samplers.KSAMPLER:
    return comfy.samplers.KSAMPLER(flow_search_function, extra_options={"job": job})
