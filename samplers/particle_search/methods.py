"""The search methods by name, their typed option records, and how a call picks one.

A method is named (``method="rbf"`` with its options as keywords, the older style) or
given as its typed options record (``options=RBFOptions(...)``, what a method node
outputs); both resolve to ``(name, options)``. ``"dps"`` is an alias: best-of-N with
gradient guidance (``guidance_scale``, a search-level setting, default 1.0 for it).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from .bon import BoNOptions, run_bon
from .context import SearchContext
from .dts import DTSOptions, run_dts
from .population import Outcome
from .rbf import RBFOptions, VTOptions, run_rbf, run_vt
from .smc import SMCOptions, run_smc
from .sop import SoPOptions, run_sop
from .tree import SVDDOptions, TreeOptions, run_code, run_svdd
from .zero_order import ZeroOrderOptions, run_zero_order

MethodOptions = (
    BoNOptions
    | ZeroOrderOptions
    | SoPOptions
    | SMCOptions
    | SVDDOptions
    | TreeOptions
    | RBFOptions
    | VTOptions
    | DTSOptions
)

#: method name -> (options record, runner)
METHODS: dict[str, tuple[type, Callable[[SearchContext, Any], Outcome]]] = {
    "bon": (BoNOptions, run_bon),
    "zero_order": (ZeroOrderOptions, run_zero_order),
    "sop": (SoPOptions, run_sop),
    "smc": (SMCOptions, run_smc),
    "svdd": (SVDDOptions, run_svdd),
    "code": (TreeOptions, run_code),
    "rbf": (RBFOptions, run_rbf),
    "vt": (VTOptions, run_vt),
    "dts_star": (DTSOptions, run_dts),
    "dps": (BoNOptions, run_bon),  # alias: best-of-N with gradient guidance
}

#: guidance_scale a method uses when the caller gives none
DEFAULT_GUIDANCE = {"dps": 1.0}

#: methods that compare rewards from different reward calls (so a batch-relative reward,
#: whose scores mean something only within one call, would mislead them)
COMPARES_ACROSS_CALLS = ("zero_order", "smc", "rbf", "vt", "dts_star")

_BY_TYPE = {cls: name for name, (cls, _) in METHODS.items() if name != "dps"}


def method_options(method: str, options: dict[str, Any]) -> MethodOptions:
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


def resolve_method(
    method: str | None,
    options: MethodOptions | None,
    method_opts: dict[str, Any],
    guidance_scale: float | None,
) -> tuple[str, MethodOptions, float]:
    """``(method name, typed options, guidance scale)`` of one search call."""
    if options is None:
        if method is None:
            raise ValueError(
                "search needs a method: method='rbf' (etc.) or options=RBFOptions(...)"
            )
        opts = method_options(method, method_opts)
        name = method
    else:
        name = _BY_TYPE.get(type(options))
        if name is None:
            raise ValueError(
                f"options must be a method's options record ({sorted(c.__name__ for c in _BY_TYPE)}); "
                f"got {type(options).__name__}"
            )
        if method_opts:
            raise ValueError(
                f"options={type(options).__name__}(...) already holds the method's options; "
                f"drop the keywords {sorted(method_opts)} or put them into the record"
            )
        if method is not None and method != name and not (method == "dps" and name == "bon"):
            raise ValueError(f"method={method!r} does not match options={type(options).__name__}")
        name, opts = method or name, options
    g = DEFAULT_GUIDANCE.get(name, 0.0) if guidance_scale is None else guidance_scale
    if isinstance(g, bool) or not isinstance(g, (int, float)) or not (math.isfinite(g) and g >= 0):
        raise ValueError(f"guidance_scale must be a finite number >= 0; got {guidance_scale!r}")
    if name == "dps" and not g > 0:
        raise ValueError(
            "method 'dps' is best-of-N with gradient guidance: guidance_scale must be > 0 "
            f"(got {g}); use method='bon' for no guidance"
        )
    return name, opts, float(g)


def check_reward_flags(reward: Any, method: str, guidance_scale: float) -> None:
    """Refuse, before any NFE, what a reward's declared flags rule out.

    ``reward.differentiable is False`` with guidance; ``reward.batch_relative is True``
    (scores comparable only within one call, e.g. a rank ensemble) with guidance (whose
    reward calls follow the denoiser's chunks) or with a method that compares rewards from
    different calls. A missing flag (``None``) means unknown: nothing is refused."""
    if guidance_scale > 0 and getattr(reward, "differentiable", None) is False:
        raise ValueError(
            f"guidance_scale={guidance_scale} needs a differentiable reward, but this reward "
            "declares differentiable=False; set guidance_scale=0 or pick a differentiable verifier"
        )
    if getattr(reward, "batch_relative", None) is True:
        if guidance_scale > 0:
            raise ValueError(
                "a batch-relative reward (e.g. a rank ensemble) cannot guide: its gradient "
                "depends on the batch; set guidance_scale=0"
            )
        if method in COMPARES_ACROSS_CALLS:
            raise ValueError(
                f"method '{method}' compares rewards from different reward calls, but this "
                "reward is batch-relative (its scores are comparable only within one call, "
                "e.g. a rank ensemble); use bon, sop, svdd or code, or a reward with absolute "
                "scores (e.g. a weighted ensemble of normalised scores)"
            )
