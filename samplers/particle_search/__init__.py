"""Budgeted particle search for flow models (pure torch; see docs/search.md).

`search(denoiser, reward, method=..., nfe_budget=..., shape=..., steps=...)` runs one of
`METHODS` and returns a `SearchResult`; `search_flow` is the same behind ComfyUI's sampler
function signature. One NFE is one particle through the denoiser; every method counts
them exactly and never exceeds ``nfe_budget``. This module only re-exports.
"""

from .bon import BoNOptions
from .dts import DTSOptions
from .events import SearchControl, SearchEvent
from .flow import search_flow
from .methods import METHODS, MethodOptions, method_options
from .rbf import RBFOptions, VTOptions
from .result import SearchResult, StepRecord, Timings
from .search import search
from .smc import SMCOptions
from .sop import SoPOptions
from .tree import SVDDOptions, TreeOptions
from .zero_order import ZeroOrderOptions

__all__ = [
    "METHODS",
    "BoNOptions",
    "DTSOptions",
    "MethodOptions",
    "RBFOptions",
    "SMCOptions",
    "SVDDOptions",
    "SearchControl",
    "SearchEvent",
    "SearchResult",
    "SoPOptions",
    "StepRecord",
    "Timings",
    "TreeOptions",
    "VTOptions",
    "ZeroOrderOptions",
    "method_options",
    "search",
    "search_flow",
]
