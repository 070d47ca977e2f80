"""`FlowSearch_StochasticSampler`: the pack's flow sampler as a ComfyUI SAMPLER.

The node only collects options; the sampling loop is `flowsearch.samplers.sample_flow`,
wrapped as a ``comfy.samplers.KSAMPLER`` function, so the SAMPLER plugs into
SamplerCustomAdvanced / SamplerCustom with any NOISE, GUIDER and SIGMAS.

Time convention: ComfyUI's sigmas of a flow (``CONST``) model are the linear-path time
``t`` (t=1 noise); ``interpolant="vp"`` samples the same model on the VP path by SNR
matching. Randomness: the SDE noise comes from a CPU ``torch.Generator`` seeded from the
sampling seed ComfyUI passes in ``extra_args["seed"]`` (the NOISE node's seed), mixed with
a fixed salt so it is a different stream from ComfyUI's initial noise for that same seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import comfy.samplers
import torch
from comfy_api.latest import io

from ..samplers import (
    INTERPOLANTS,
    SAMPLE_FLOW_GRIDS,
    Interpolant,
    VPInterpolant,
    generator_from_seed,
    get_diffusion,
    sample_flow,
)
from .catalog_sampling import SAMPLER, beta_checks
from .comfy_schema import SpecNode

GRID_CHOICES = SAMPLE_FLOW_GRIDS
SDE_SEED_SALT = 0x9E37_79B9_7F4A_7C15  # XOR-ed into the seed: SDE stream != initial noise


def sde_generator(seed: int | None) -> torch.Generator:
    """CPU generator for the SDE noise: ``manual_seed((seed XOR salt) mod 2^64)``.

    ``seed=None`` (a caller that passes no seed) counts as 0, so runs stay reproducible.
    """
    return generator_from_seed(int(seed or 0), SDE_SEED_SALT)


def make_interpolant(name: str, beta_min: float, beta_max: float) -> str | Interpolant:
    """``"linear"`` as is; ``"vp"`` as a `VPInterpolant` with the node's betas."""
    if name not in INTERPOLANTS:
        raise ValueError(f"interpolant must be one of {sorted(INTERPOLANTS)}; got {name!r}")
    if name == "vp":
        return VPInterpolant(beta_min=float(beta_min), beta_max=float(beta_max))
    return name


def sampler_options(
    interpolant: str,
    stochastic: bool,
    diffusion: str,
    diffusion_scale: float,
    grid: str,
    beta_min: float,
    beta_max: float,
) -> dict[str, Any]:
    """Validated ``extra_options`` for `flowsearch_sample` (``ValueError`` on bad input)."""
    path = make_interpolant(interpolant, beta_min, beta_max)
    get_diffusion(diffusion, float(diffusion_scale))  # validates name and scale
    if grid not in GRID_CHOICES:
        raise ValueError(f"grid must be one of {list(GRID_CHOICES)}; got {grid!r}")
    return {
        "interpolant": path,
        "stochastic": bool(stochastic),
        "diffusion": diffusion,
        "diffusion_scale": float(diffusion_scale),
        "grid": grid,
    }


@torch.no_grad()
def flowsearch_sample(
    model: Callable[..., torch.Tensor],
    x: torch.Tensor,
    sigmas: torch.Tensor,
    extra_args: dict[str, Any] | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    disable: bool | None = None,
    *,
    interpolant: str | Interpolant = "linear",
    stochastic: bool = True,
    diffusion: str = "square",
    diffusion_scale: float = 3.0,
    grid: str = "sigmas",
) -> torch.Tensor:
    """KSAMPLER sampler function: `sample_flow` with the SDE noise seeded from
    ``extra_args["seed"]`` (see `sde_generator`). ``x`` is the noised latent at
    ``sigmas[0]``; returns the latent at ``sigmas[-1]``."""
    seed = (extra_args or {}).get("seed")
    return sample_flow(
        model,
        x,
        sigmas,
        extra_args,
        callback,
        disable,
        interpolant=interpolant,
        stochastic=stochastic,
        diffusion=diffusion,
        diffusion_scale=diffusion_scale,
        grid=grid,
        generator=sde_generator(seed),
    )


class FlowSearchSampler(SpecNode):
    """Stochastic (SDE) or deterministic (ODE) flow sampler, on the linear or VP path."""

    SPEC = SAMPLER

    @classmethod
    def checks(cls, values: dict) -> list[str]:
        return beta_checks(values)

    @classmethod
    def execute(
        cls,
        interpolant: str,
        stochastic: bool,
        diffusion: str,
        diffusion_scale: float,
        grid: str,
        beta_min: float,
        beta_max: float,
    ) -> io.NodeOutput:
        options = sampler_options(
            interpolant, stochastic, diffusion, diffusion_scale, grid, beta_min, beta_max
        )
        return io.NodeOutput(comfy.samplers.KSAMPLER(flowsearch_sample, extra_options=options))
