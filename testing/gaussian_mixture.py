"""An exactly solvable flow: Gaussian-mixture data on the linear path.

Data ``x0 ~ sum_k w_k N(mu_k, diag(v_k))`` in ``D`` dimensions. On the linear path
``x_t = (1 - t) x0 + t eps`` every marginal is again a mixture,

    p_t = sum_k w_k N((1 - t) mu_k, diag((1 - t)^2 v_k + t^2)),

and the exact denoiser is the responsibility-weighted per-component posterior mean

    E[x0 | x_t] = sum_k r_k(x_t) [mu_k + (1 - t) v_k / V_k (x_t - (1 - t) mu_k)],
    V_k = (1 - t)^2 v_k + t^2.

All math runs in float64; results come back in the input's dtype. States may have any
shape ``[B, *shape]`` with ``prod(shape) = D``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class GaussianMixture:
    """Mixture with ``weights [K]``, ``means [K, D]`` and diagonal ``variances [K, D]``."""

    weights: torch.Tensor
    means: torch.Tensor
    variances: torch.Tensor

    @classmethod
    def create(cls, weights, means, variances) -> GaussianMixture:
        """Validate and normalise; ``variances`` may be a scalar, ``[K]`` (isotropic) or ``[K, D]``."""
        w = torch.as_tensor(weights, dtype=torch.float64).flatten()
        mu = torch.as_tensor(means, dtype=torch.float64)
        if mu.ndim != 2 or mu.shape[0] != w.shape[0]:
            raise ValueError(f"means must be [K, D] with K={w.shape[0]}; got {tuple(mu.shape)}")
        if (w <= 0).any():
            raise ValueError(f"weights must be positive; got {w.tolist()}")
        v = torch.as_tensor(variances, dtype=torch.float64)
        if v.ndim == 0:
            v = v.expand(mu.shape)
        elif v.ndim == 1:
            v = v[:, None].expand(mu.shape)
        if v.shape != mu.shape or (v <= 0).any():
            raise ValueError(f"variances must be positive, broadcastable to {tuple(mu.shape)}")
        return cls(w / w.sum(), mu.clone(), v.clone().contiguous())

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        return self.means.shape[0]

    def at_time(self, t: float) -> GaussianMixture:
        """The exact linear-path marginal ``p_t`` as a mixture."""
        return GaussianMixture(
            self.weights, (1.0 - t) * self.means, (1.0 - t) ** 2 * self.variances + t * t
        )

    def scaled(self, c: float) -> GaussianMixture:
        """Distribution of ``c * x`` (e.g. a converted path's ``x_s = c(s) x_t(s)``)."""
        return GaussianMixture(self.weights, c * self.means, c * c * self.variances)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` draws, ``[n, D]`` float64."""
        k = torch.multinomial(self.weights, n, replacement=True, generator=generator)
        z = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return self.means[k] + self.variances[k].sqrt() * z

    def _component_log_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``log w_k + log N(x; mu_k, v_k)`` as ``[n, K]`` for ``x [n, D]`` (float64)."""
        diff = x[:, None, :] - self.means[None]
        quad = (diff * diff / self.variances[None]).sum(-1)
        logdet = self.variances.log().sum(-1)
        return self.weights.log()[None] - 0.5 * (
            quad + logdet[None] + self.dim * math.log(2 * math.pi)
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density ``[n]``."""
        return torch.logsumexp(self._component_log_probs(_flat(x)), dim=-1)

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """Posterior component probabilities ``[n, K]``."""
        return torch.softmax(self._component_log_probs(_flat(x)), dim=-1)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        """Exact ``grad log p(x)``, shaped like ``x``."""
        xf = _flat(x)
        r = self.responsibilities(xf)
        per = -(xf[:, None, :] - self.means[None]) / self.variances[None]
        return (r[..., None] * per).sum(1).reshape(x.shape).to(x.dtype)

    def denoise(self, x: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
        """Exact ``E[x0 | x_t = x]`` on the linear path; ``t`` scalar or ``[B]``."""
        tt = torch.as_tensor(t, dtype=torch.float64, device=x.device)
        return self.denoise_affine(x, 1.0 - tt, tt)

    def denoise_affine(self, x: torch.Tensor, alpha, sigma) -> torch.Tensor:
        """Exact ``E[x0 | alpha x0 + sigma eps = x]`` for any affine path (scalars or ``[B]``).

        Per component ``V_k = alpha^2 v_k + sigma^2`` and
        ``E_k = mu_k + alpha v_k / V_k (x - alpha mu_k)``, weighted by responsibilities.
        """
        xf = _flat(x)
        a = torch.as_tensor(alpha, dtype=torch.float64, device=xf.device).reshape(-1, 1, 1)
        b = torch.as_tensor(sigma, dtype=torch.float64, device=xf.device).reshape(-1, 1, 1)
        mu, v = self.means[None], self.variances[None]
        big_v = a * a * v + b * b
        diff = xf[:, None, :] - a * mu
        log_r = self.weights.log()[None] - 0.5 * ((diff * diff / big_v) + big_v.log()).sum(-1)
        r = torch.softmax(log_r, dim=-1)
        post = mu + a * v / big_v * diff
        return (r[..., None] * post).sum(1).reshape(x.shape).to(x.dtype)

    def denoiser(self):
        """The project's denoiser contract ``(x, t) -> x0_hat``."""
        return lambda x, t: self.denoise(x, t)

    def project(self, direction: torch.Tensor) -> GaussianMixture:
        """Exact 1-D law of ``<direction, x>``."""
        d = torch.as_tensor(direction, dtype=torch.float64).flatten()
        return GaussianMixture(
            self.weights, (self.means @ d)[:, None], (self.variances @ (d * d))[:, None]
        )

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """CDF of a 1-D mixture at points ``x [n]``."""
        if self.dim != 1:
            raise ValueError("cdf is defined for 1-D mixtures; use project(direction) first")
        z = (x.double()[:, None] - self.means[:, 0][None]) / self.variances[:, 0].sqrt()[None]
        return (self.weights[None] * 0.5 * torch.erfc(-z / math.sqrt(2))).sum(-1)

    def tilt_quadratic(self, center, lam: float) -> GaussianMixture:
        """The exact law ``p(x) exp(r(x) / lam) / Z`` for ``r(x) = -|x - center|^2 / 2``.

        Each component times the Gaussian factor ``N(center, lam I)`` is a Gaussian with
        precision ``1/v + 1/lam`` and weight ``w_k N(mu_k; center, v_k + lam)``.
        """
        c = torch.as_tensor(center, dtype=torch.float64).reshape(1, -1)
        var = 1.0 / (1.0 / self.variances + 1.0 / lam)
        mu = var * (self.means / self.variances + c / lam)
        total = self.variances + lam
        log_w = self.weights.log() - 0.5 * (((self.means - c) ** 2 / total) + total.log()).sum(-1)
        return GaussianMixture(torch.softmax(log_w, 0), mu, var)

    def mean(self) -> torch.Tensor:
        return self.weights @ self.means

    def covariance(self) -> torch.Tensor:
        m = self.mean()
        second = torch.einsum("k,ki,kj->ij", self.weights, self.means, self.means)
        return second + torch.diag(self.weights @ self.variances) - torch.outer(m, m)


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1).double()


def example_mixture() -> GaussianMixture:
    """The 2-D, 3-mode mixture used by the demo and many tests (unequal weights, anisotropic)."""
    return GaussianMixture.create(
        weights=[0.5, 0.3, 0.2],
        means=[[-2.0, 0.0], [1.5, 1.5], [1.5, -2.0]],
        variances=[[0.30, 0.10], [0.10, 0.20], [0.15, 0.15]],
    )
