"""Diffusion-coefficient families ``g(s)`` for the same-marginal reverse SDE.

The SDE ``dx = [u_s(x) - g(s)^2 / 2 * score(x, s)] ds + g(s) dW`` (integrated from s=1 to 0)
has the flow ODE's marginals for every ``g >= 0`` (docs/sampling.md). Families, each with a
``scale``:

- ``square``:   ``g = scale * s^2``          (the RBF paper's ``3 s^2`` at scale 3)
- ``constant``: ``g = scale``
- ``sigma``:    ``g = scale * sigma(s)``     (proportional to the path's noise level)
- ``zero``:     ``g = 0``                    (the probability-flow ODE)

Euler–Maruyama is stable while ``h g^2 / (2 sigma^2)`` stays well below 1; families that do
not vanish at ``s -> 0`` (``constant``) need small final steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .interpolants import Interpolant

DIFFUSIONS = ("square", "constant", "sigma", "zero")


@dataclass(frozen=True)
class Diffusion:
    """``g(s)`` of one family at one scale; call it with the time and the path."""

    family: str = "square"
    scale: float = 3.0

    def __post_init__(self) -> None:
        if self.family not in DIFFUSIONS:
            raise ValueError(f"diffusion must be one of {list(DIFFUSIONS)}; got {self.family!r}")
        if not (math.isfinite(self.scale) and self.scale >= 0):
            raise ValueError(f"diffusion_scale must be finite and >= 0; got {self.scale}")

    @property
    def is_zero(self) -> bool:
        return self.family == "zero" or self.scale == 0.0

    def __call__(self, s: float, interpolant: Interpolant) -> float:
        if self.is_zero:
            return 0.0
        if self.family == "square":
            return self.scale * s * s
        if self.family == "constant":
            return self.scale
        return self.scale * interpolant.coefficients(s).sigma_t


def get_diffusion(
    diffusion: str | Diffusion, scale: float = 3.0, *, stochastic: bool = True
) -> Diffusion:
    """Resolve a family name (or a `Diffusion`); ``stochastic=False`` gives the ODE (after
    validating the name and scale, so a typo is reported either way)."""
    if isinstance(diffusion, Diffusion):
        resolved = diffusion
    elif isinstance(diffusion, str):
        resolved = Diffusion(diffusion, float(scale))
    else:
        raise ValueError(f"diffusion must be a family name {list(DIFFUSIONS)}; got {diffusion!r}")
    return resolved if stochastic else Diffusion("zero", 0.0)
