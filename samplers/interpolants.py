"""Affine interpolants ``x_s = alpha(s) x0 + sigma(s) eps`` and their link to the linear path.

Time convention (everywhere in FlowSearch): ``s`` runs from 0 (data) to 1 (noise), like
ComfyUI's sigma for flow models. A model trained on the *linear* path
``x_t = (1 - t) x0 + t eps`` (FLUX, ComfyUI ``CONST``) is used on another path by matching
signal-to-noise ratios (docs/sampling.md):

    t(s) = sigma(s) / (alpha(s) + sigma(s)),   c(s) = alpha(s) + sigma(s),   x_s = c(s) x_t(s).

Precision policy: all schedule math is done in float64 (Python floats); only the state
tensors carry the caller's dtype. A new path needs only `coefficients`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class PathCoefficients:
    """``alpha_t, sigma_t`` of a path at one time and their derivatives ``d/ds`` (float64)."""

    alpha_t: float
    sigma_t: float
    d_alpha_t: float
    d_sigma_t: float


class Interpolant(ABC):
    """An affine path ``x_s = alpha(s) x0 + sigma(s) eps`` for ``s`` in ``[0, 1]``.

    Requirements: ``alpha(0) = 1, sigma(0) = 0``; the SNR ``alpha/sigma`` decreases strictly.
    """

    name: str = "affine"

    @abstractmethod
    def coefficients(self, s: float) -> PathCoefficients:
        """``alpha, sigma`` and their time derivatives at ``s``."""

    def linear_time(self, s: float) -> float:
        """Linear-path time with the same SNR: ``t(s) = sigma / (alpha + sigma)``."""
        c = self.coefficients(s)
        return c.sigma_t / (c.alpha_t + c.sigma_t)

    def linear_scale(self, s: float) -> float:
        """Scale between the paths: ``x_s = c(s) x_t(s)`` with ``c(s) = alpha + sigma``."""
        c = self.coefficients(s)
        return c.alpha_t + c.sigma_t

    def time_from_linear(self, t: float) -> float:
        """Inverse of `linear_time`: the ``s`` with ``t(s) = t`` (clamped to ``[0, 1]``).

        Bisection in float64 (60 halvings reach machine precision on ``[0, 1]``); paths
        with a closed form override it. Times beyond ``t(1)`` map to ``s = 1``.
        """
        if t <= 0.0:
            return 0.0
        if t >= self.linear_time(1.0):
            return 1.0
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if self.linear_time(mid) < t:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LinearInterpolant(Interpolant):
    """Rectified-flow / ``CONST`` path: ``alpha = 1 - s``, ``sigma = s``; ``t(s) = s``, ``c = 1``."""

    name = "linear"

    def coefficients(self, s: float) -> PathCoefficients:
        return PathCoefficients(1.0 - s, s, -1.0, 1.0)

    def linear_time(self, s: float) -> float:
        return float(s)

    def linear_scale(self, s: float) -> float:
        return 1.0

    def time_from_linear(self, t: float) -> float:
        return min(max(float(t), 0.0), 1.0)


@dataclass(frozen=True, repr=True)
class VPInterpolant(Interpolant):
    """Variance-preserving path of the RBF paper (docs/sampling.md).

    ``T(s) = beta_min s + (beta_max - beta_min) s^2 / 2``, ``alpha = exp(-T/2)``,
    ``sigma = sqrt(1 - exp(-T))``; with the defaults ``alpha(1) ~ 0.0066``.
    """

    beta_min: float = 0.1
    beta_max: float = 20.0
    name = "vp"

    def __post_init__(self) -> None:
        if not (self.beta_min > 0 and self.beta_max > self.beta_min):
            raise ValueError(
                f"VP interpolant needs 0 < beta_min < beta_max; got beta_min={self.beta_min}, "
                f"beta_max={self.beta_max}"
            )

    def coefficients(self, s: float) -> PathCoefficients:
        big_t = self.beta_min * s + 0.5 * (self.beta_max - self.beta_min) * s * s
        d_big_t = self.beta_min + (self.beta_max - self.beta_min) * s
        alpha = math.exp(-0.5 * big_t)
        one_minus = -math.expm1(-big_t)  # 1 - exp(-T), accurate for small T
        sigma = math.sqrt(one_minus)
        d_alpha = -0.5 * d_big_t * alpha
        d_sigma = 0.5 * d_big_t * math.exp(-big_t) / sigma if sigma > 0 else math.inf
        return PathCoefficients(alpha, sigma, d_alpha, d_sigma)

    def time_from_linear(self, t: float) -> float:
        """Closed form: ``exp(-T) = (1-t)^2 / ((1-t)^2 + t^2)``, then solve the quadratic in s."""
        if t <= 0.0:
            return 0.0
        if t >= self.linear_time(1.0):
            return 1.0
        big_t = math.log1p((t / (1.0 - t)) ** 2)
        a = 0.5 * (self.beta_max - self.beta_min)
        b = self.beta_min
        # a s^2 + b s - T = 0, positive root written to avoid cancellation.
        return 2.0 * big_t / (b + math.sqrt(b * b + 4.0 * a * big_t))


INTERPOLANTS: dict[str, type[Interpolant]] = {
    "linear": LinearInterpolant,
    "vp": VPInterpolant,
}


def get_interpolant(interpolant: str | Interpolant) -> Interpolant:
    """Resolve ``"linear"``, ``"vp"`` or an `Interpolant` instance."""
    if isinstance(interpolant, Interpolant):
        return interpolant
    if isinstance(interpolant, str) and interpolant in INTERPOLANTS:
        return INTERPOLANTS[interpolant]()
    raise ValueError(
        f"interpolant must be one of {sorted(INTERPOLANTS)} or an Interpolant instance; "
        f"got {interpolant!r}"
    )
