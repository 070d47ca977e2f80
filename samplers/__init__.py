"""Pure-torch sampling core: interpolants, SDE/ODE steps, time grids, sampling loops.

Never imports ComfyUI. Time convention: t (and s) = 1 is noise, 0 is data.
"""

from .conversions import (
    eps_from_score,
    eps_from_x0,
    score_from_eps,
    score_from_x0,
    velocity_from_x0,
    x0_from_eps,
    x0_from_score,
    x0_from_velocity,
)
from .denoiser import Denoiser, PathDenoiser
from .diffusion import DIFFUSIONS, Diffusion, get_diffusion
from .grids import GRIDS, adaptive_grid, grid_from_model_times, make_grid, uniform_grid
from .interpolants import (
    INTERPOLANTS,
    Interpolant,
    LinearInterpolant,
    PathCoefficients,
    VPInterpolant,
    get_interpolant,
)
from .particle_search import (
    METHODS,
    BoNOptions,
    DTSOptions,
    MethodOptions,
    RBFOptions,
    SearchControl,
    SearchEvent,
    SearchResult,
    SMCOptions,
    SoPOptions,
    SVDDOptions,
    TreeOptions,
    VTOptions,
    ZeroOrderOptions,
    search,
    search_flow,
)
from .randomness import generator_from_seed, randn_like
from .sampling import SAMPLE_FLOW_GRIDS, integrate, sample, sample_flow
from .settings import SamplerSettings
from .steps import euler_step, forward_kernel, start_state

__all__ = [
    "DIFFUSIONS",
    "METHODS",
    "SAMPLE_FLOW_GRIDS",
    "BoNOptions",
    "DTSOptions",
    "MethodOptions",
    "RBFOptions",
    "SMCOptions",
    "SVDDOptions",
    "SamplerSettings",
    "SearchControl",
    "SearchEvent",
    "SearchResult",
    "SoPOptions",
    "TreeOptions",
    "VTOptions",
    "ZeroOrderOptions",
    "generator_from_seed",
    "search",
    "search_flow",
    "start_state",
    "GRIDS",
    "INTERPOLANTS",
    "Denoiser",
    "Diffusion",
    "Interpolant",
    "LinearInterpolant",
    "PathCoefficients",
    "PathDenoiser",
    "VPInterpolant",
    "adaptive_grid",
    "eps_from_score",
    "eps_from_x0",
    "euler_step",
    "forward_kernel",
    "get_diffusion",
    "get_interpolant",
    "grid_from_model_times",
    "integrate",
    "make_grid",
    "randn_like",
    "sample",
    "sample_flow",
    "score_from_eps",
    "score_from_x0",
    "uniform_grid",
    "velocity_from_x0",
    "x0_from_eps",
    "x0_from_score",
    "x0_from_velocity",
]
