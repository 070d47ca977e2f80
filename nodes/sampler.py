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
    DIFFUSIONS,
    INTERPOLANTS,
    SAMPLE_FLOW_GRIDS,
    Interpolant,
    VPInterpolant,
    generator_from_seed,
    get_diffusion,
    sample_flow,
)

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


class FlowSearchSampler(io.ComfyNode):
    """Stochastic (SDE) or deterministic (ODE) flow sampler, on the linear or VP path."""

    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id="FlowSearch_StochasticSampler",
            display_name="FlowSearch Stochastic Flow Sampler",
            category="FlowSearch/sampling",
            description=(
                "Sampler for flow models (FLUX, SD3, ... any CONST model): integrates the "
                "same-marginal reverse SDE dx = [u - g^2/2 score] ds + g dW (or the ODE), "
                "optionally on the VP path by SNR matching (Kim et al. 2025). Connect to "
                "SamplerCustomAdvanced; the SDE noise is seeded by the NOISE node's seed."
            ),
            inputs=[
                io.Combo.Input(
                    "interpolant",
                    options=list(INTERPOLANTS),
                    default="linear",
                    tooltip="Path to sample on. linear: the model's own (rectified flow). "
                    "vp: variance-preserving path of the RBF paper, reached by SNR matching.",
                ),
                io.Boolean.Input(
                    "stochastic",
                    default=True,
                    tooltip="On: SDE with diffusion g(s) (diverse samples, same marginals). "
                    "Off: the deterministic probability-flow ODE (Euler).",
                ),
                io.Combo.Input(
                    "diffusion",
                    options=list(DIFFUSIONS),
                    default="square",
                    tooltip="SDE noise schedule g(s): square = scale*s^2 (paper: 3 s^2), "
                    "constant = scale, sigma = scale*sigma(s), zero = ODE.",
                ),
                io.Float.Input(
                    "diffusion_scale",
                    default=3.0,
                    min=0.0,
                    max=100.0,
                    step=0.1,
                    tooltip="Scale of g(s); 0 gives the ODE. The paper uses 3 with square.",
                ),
                io.Combo.Input(
                    "grid",
                    options=list(GRID_CHOICES),
                    default="sigmas",
                    tooltip="Time grid. sigmas: the connected SIGMAS, mapped to the path's "
                    "time at equal SNR. uniform / adaptive: the same number of steps, uniform "
                    "or the paper's adaptive grid in the path's own time.",
                ),
                io.Float.Input(
                    "beta_min",
                    default=0.1,
                    min=0.001,
                    max=100.0,
                    step=0.01,
                    tooltip="VP path only: beta_min of T(s) = beta_min s + (beta_max - "
                    "beta_min) s^2 / 2. Must be below beta_max.",
                ),
                io.Float.Input(
                    "beta_max",
                    default=20.0,
                    min=0.01,
                    max=1000.0,
                    step=0.1,
                    tooltip="VP path only: beta_max of the VP schedule (paper: 20).",
                ),
            ],
            outputs=[io.Sampler.Output()],
        )

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
