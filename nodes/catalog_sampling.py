"""Specs of the sampling nodes: Stochastic Flow Sampler, Time Schedule, Sampling Mode.

Pure data (never imports ComfyUI); the node classes build their schemas from these.
"""

from __future__ import annotations

from ..samplers import DIFFUSIONS, INTERPOLANTS, SamplerSettings
from ..samplers.settings import SETTINGS_GRIDS
from .schedule import SCHEDULE_GRIDS
from .spec import Field, NodeSpec, Output

INTERPOLANT_TIP = (
    "Path to sample on. linear: the model's own (rectified flow, FLUX). vp: the "
    "variance-preserving path of the RBF paper, reached by SNR matching "
    "t(s) = sigma(s) / (alpha(s) + sigma(s))."
)
BETA_MIN_TIP = (
    "VP path only: beta_min of T(s) = beta_min s + (beta_max - beta_min) s^2 / 2 "
    "(paper: 0.1). Must be below beta_max."
)
BETA_MAX_TIP = "VP path only: beta_max of the VP schedule (paper: 20). Must exceed beta_min."


def sampling_fields() -> tuple[Field, ...]:
    """The sampling-mode group of the sampler and the Sampling Mode node: the fields of the
    core's `SamplerSettings`, with its defaults (the RBF paper's VP-SDE, g = 3 s^2, on the
    adaptive grid)."""
    d = SamplerSettings()
    return (
        Field("interpolant", "COMBO", INTERPOLANT_TIP, d.interpolant, options=tuple(INTERPOLANTS)),
        Field(
            "stochastic",
            "BOOLEAN",
            "On: the same-marginal SDE with diffusion g(s) (diverse samples, what search "
            "selects from). Off: the deterministic probability-flow ODE (Euler).",
            d.stochastic,
        ),
        Field(
            "diffusion",
            "COMBO",
            "SDE noise schedule g(s): square = scale * s^2 (paper: 3 s^2), constant = scale, "
            "sigma = scale * sigma(s), zero = ODE.",
            d.diffusion,
            options=tuple(DIFFUSIONS),
        ),
        Field(
            "diffusion_scale",
            "FLOAT",
            "Scale of g(s); 0 gives the ODE. The paper uses 3 with square.",
            d.diffusion_scale,
            min=0.0,
            max=100.0,
            step=0.1,
        ),
        Field(
            "grid",
            "COMBO",
            "Time grid. sigmas: the connected SIGMAS, mapped to the path's time at equal SNR. "
            "uniform / adaptive: as many steps as the SIGMAS have, uniform or the paper's "
            "adaptive grid sqrt(1 - (k/M)^2) in the path's own time.",
            d.grid,
            options=SETTINGS_GRIDS,
        ),
        Field("beta_min", "FLOAT", BETA_MIN_TIP, d.beta_min, min=0.001, max=100.0, step=0.01),
        Field("beta_max", "FLOAT", BETA_MAX_TIP, d.beta_max, min=0.01, max=1000.0, step=0.1),
    )


SAMPLER = NodeSpec(
    node_id="FlowSearch_StochasticSampler",
    display_name="FlowSearch Stochastic Flow Sampler",
    category="FlowSearch/sampling",
    description=(
        "Sampler for flow models (FLUX, SD3, ... any CONST model): integrates the "
        "same-marginal reverse SDE dx = [u - g^2/2 score] ds + g dW (or the ODE), "
        "optionally on the VP path by SNR matching (Kim et al. 2025). Connect to "
        "SamplerCustomAdvanced; the SDE noise is seeded by the NOISE node's seed."
    ),
    inputs=sampling_fields(),
    outputs=(Output("SAMPLER", "SAMPLER", "Plug into SamplerCustomAdvanced / SamplerCustom."),),
)

TIME_SCHEDULE = NodeSpec(
    node_id="FlowSearch_TimeSchedule",
    display_name="FlowSearch Time Schedule",
    category="FlowSearch/sampling",
    description=(
        "SIGMAS for a flow model from a grid in the chosen path's own time: the RBF paper's "
        "adaptive grid s_k = sqrt(1 - (k/M)^2) or a uniform grid, mapped to model times "
        "t = sigma(s) / (alpha(s) + sigma(s)) (SNR matching; identity on the linear path), "
        "then through the model's own time shift. Works with any sampler; steps and denoise "
        "behave like BasicScheduler."
    ),
    inputs=(
        Field(
            "model",
            "MODEL",
            "A flow model (CONST prediction). Its model_sampling supplies the time shift.",
        ),
        Field("interpolant", "COMBO", INTERPOLANT_TIP, "vp", options=tuple(INTERPOLANTS)),
        Field(
            "grid",
            "COMBO",
            "adaptive: the RBF paper's grid, small steps near noise and large near data. "
            "uniform: equal steps in the path's own time.",
            "adaptive",
            options=SCHEDULE_GRIDS,
        ),
        Field(
            "steps",
            "INT",
            "Number of steps (model calls per trajectory). The paper uses 10 on FLUX.1-schnell.",
            10,
            min=1,
            max=10000,
        ),
        Field(
            "denoise",
            "FLOAT",
            "Like BasicScheduler: below 1 the grid is built for steps / denoise steps and "
            "only its last `steps` steps are returned (img2img). 0 returns empty SIGMAS.",
            1.0,
            min=0.0,
            max=1.0,
            step=0.01,
        ),
        Field(
            "apply_model_shift",
            "BOOLEAN",
            "On: each time t goes through the model's own shift w(t) "
            "(model_sampling.percent_to_sigma(1 - t)): FLUX.1-dev w(t) = e^mu / (e^mu + 1/t - "
            "1); SD3 / ModelSamplingSD3 / ModelSamplingFlux nodes likewise. FLUX.1-schnell has "
            "shift 1 (no change). Off: the grid's times as they are.",
            True,
        ),
        Field("beta_min", "FLOAT", BETA_MIN_TIP, 0.1, min=0.001, max=100.0, step=0.01),
        Field("beta_max", "FLOAT", BETA_MAX_TIP, 20.0, min=0.01, max=1000.0, step=0.1),
    ),
    outputs=(
        Output(
            "SIGMAS",
            "SIGMAS",
            "Descending model times ending at 0 (t = 1 noise): steps + 1 values.",
        ),
    ),
)

SAMPLING_MODE = NodeSpec(
    node_id="FlowSearch_SamplingMode",
    display_name="FlowSearch Sampling Mode",
    category="FlowSearch/methods",
    description=(
        "Explicit sampling settings for a FlowSearch method node (connect to its "
        "sampling_settings input; overrides its sampling choice): the path, SDE or ODE, the "
        "diffusion g(s), the time grid and the VP betas. Defaults: the RBF paper's VP-SDE."
    ),
    inputs=sampling_fields(),
    outputs=(Output("sampling_settings", "FLOWSEARCH_SAMPLING", "Connect to a method node."),),
)


def beta_checks(values: dict) -> list[str]:
    """The VP schedule needs ``0 < beta_min < beta_max`` (checked whatever the path, so a
    saved workflow does not break when someone switches to vp)."""
    lo, hi = values.get("beta_min"), values.get("beta_max")
    if lo is not None and hi is not None and not lo < hi:
        return [f"the VP path needs beta_min < beta_max; got beta_min={lo}, beta_max={hi}"]
    return []
