"""One record for how to sample: path, SDE or ODE, diffusion, time grid.

`sample`, `sample_flow`, `search` and `search_flow` all take ``settings=SamplerSettings(...)``;
their older keyword arguments (``interpolant=``, ``stochastic=``, ``diffusion=``,
``diffusion_scale=``, ``grid=``) keep working and are merged into the record
(`resolve_settings`). The defaults are the RBF paper's sampler: the VP-SDE with
``g(s) = 3 s^2`` on the paper's adaptive grid. On our benchmarks that is the right choice
for few-step distilled models (FLUX.1-schnell-like); for full models (FLUX.1-dev-like)
``interpolant="linear"`` searched better at equal NFE (docs/search.md, "Which method for
which model").
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .diffusion import DIFFUSIONS, Diffusion, get_diffusion
from .grids import GRIDS
from .interpolants import INTERPOLANTS, Interpolant, VPInterpolant, get_interpolant

#: Grid names: the paper's and uniform grids, or ``"sigmas"`` (use the given model times).
SETTINGS_GRIDS = ("sigmas", *GRIDS)


@dataclass(frozen=True)
class SamplerSettings:
    """How to integrate a linear-path flow model (time convention: s = 1 noise).

    - ``interpolant``: ``"linear"`` (the model's own path), ``"vp"`` (the paper's VP path,
      reached by SNR matching, with ``beta_min``/``beta_max``) or an `Interpolant` object.
    - ``stochastic``: the same-marginal reverse SDE (True) or the probability-flow ODE.
    - ``diffusion`` / ``diffusion_scale``: ``g(s)`` family (`DIFFUSIONS`) and its scale.
    - ``grid``: ``"adaptive"`` (the paper's ``s_k = sqrt(1 - (1 - tau_k)^2)``),
      ``"uniform"``, or ``"sigmas"`` (the given model times mapped at equal SNR).
    """

    interpolant: str | Interpolant = "vp"
    stochastic: bool = True
    diffusion: str | Diffusion = "square"
    diffusion_scale: float = 3.0
    grid: str = "adaptive"
    beta_min: float = 0.1
    beta_max: float = 20.0

    def __post_init__(self) -> None:
        ip = self.interpolant
        if not (isinstance(ip, Interpolant) or (isinstance(ip, str) and ip in INTERPOLANTS)):
            raise ValueError(
                f"settings.interpolant must be one of {sorted(INTERPOLANTS)} or an Interpolant; "
                f"got {ip!r}"
            )
        if not isinstance(self.stochastic, bool):
            raise ValueError(
                f"settings.stochastic must be True (SDE) or False (ODE); got {self.stochastic!r}"
            )
        if not isinstance(self.diffusion, Diffusion) and self.diffusion not in DIFFUSIONS:
            raise ValueError(
                f"settings.diffusion must be one of {list(DIFFUSIONS)}; got {self.diffusion!r}"
            )
        scale = self.diffusion_scale
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale >= 0:
            raise ValueError(f"settings.diffusion_scale must be a number >= 0; got {scale!r}")
        if not math.isfinite(scale):
            raise ValueError(f"settings.diffusion_scale must be finite; got {scale!r}")
        if self.grid not in SETTINGS_GRIDS:
            raise ValueError(
                f"settings.grid must be one of {list(SETTINGS_GRIDS)}; got {self.grid!r}"
            )
        if ip == "vp":
            VPInterpolant(self.beta_min, self.beta_max)  # raises with the values and the rule
        elif (self.beta_min, self.beta_max) != (0.1, 20.0):
            raise ValueError(
                f"settings.beta_min/beta_max apply to interpolant='vp' only; got interpolant="
                f"{ip!r} with beta_min={self.beta_min}, beta_max={self.beta_max}"
            )

    def path(self) -> Interpolant:
        """The interpolant object (``VPInterpolant(beta_min, beta_max)`` for ``"vp"``)."""
        if self.interpolant == "vp":
            return VPInterpolant(float(self.beta_min), float(self.beta_max))
        return get_interpolant(self.interpolant)

    def diffusion_fn(self) -> Diffusion:
        """``g(s)``; the zero diffusion (the ODE) when ``stochastic`` is False."""
        return get_diffusion(
            self.diffusion, float(self.diffusion_scale), stochastic=self.stochastic
        )

    def to_json(self) -> dict[str, Any]:
        """Plain JSON-safe dict (objects become their names / parameters)."""
        ip, dif = self.interpolant, self.diffusion
        out: dict[str, Any] = {
            "interpolant": ip if isinstance(ip, str) else ip.name,
            "stochastic": self.stochastic,
            "diffusion": dif if isinstance(dif, str) else dif.family,
            "diffusion_scale": float(self.diffusion_scale if isinstance(dif, str) else dif.scale),
            "grid": self.grid,
        }
        if isinstance(ip, VPInterpolant):
            out["beta_min"], out["beta_max"] = ip.beta_min, ip.beta_max
        elif ip == "vp":
            out["beta_min"], out["beta_max"] = float(self.beta_min), float(self.beta_max)
        return out


#: The fields the old keyword arguments of the sampling functions map to.
LEGACY_FIELDS = ("interpolant", "stochastic", "diffusion", "diffusion_scale", "grid")


def resolve_settings(
    settings: SamplerSettings | None, base: SamplerSettings, **keywords: Any
) -> SamplerSettings:
    """Merge old-style keywords (``None`` = not given) into ``settings`` (or ``base``).

    A keyword wins over a field the record leaves at its default; a keyword that contradicts
    a field the record sets explicitly is a `ValueError` (say it once)."""
    if settings is not None and not isinstance(settings, SamplerSettings):
        raise ValueError(f"settings must be a SamplerSettings; got {type(settings).__name__}")
    given = {k: v for k, v in keywords.items() if v is not None}
    unknown = sorted(set(given) - set(LEGACY_FIELDS))
    assert not unknown, f"not settings fields: {unknown}"
    if settings is None:
        return dataclasses.replace(base, **given) if given else base
    default = SamplerSettings()
    for name, value in given.items():
        mine = getattr(settings, name)
        if mine != getattr(default, name) and mine != value:
            raise ValueError(
                f"{name} is given twice: settings.{name}={mine!r} and {name}={value!r}; "
                "pass it in one place"
            )
    return dataclasses.replace(settings, **given) if given else settings
