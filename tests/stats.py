"""Statistical comparisons of samples against an exact Gaussian mixture (used by tests)."""

from __future__ import annotations

import torch
from scipy.stats import kstest

from flowsearch.testing import GaussianMixture

#: Projections used for the 1-D Kolmogorov–Smirnov checks (axes and a diagonal).
DIRECTIONS = (torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]), torch.tensor([0.6, 0.8]))


def ks_distance(x: torch.Tensor, p: GaussianMixture) -> float:
    """Largest KS statistic of ``x [N, 2]`` against ``p`` over the projections."""
    worst = 0.0
    for d in DIRECTIONS:
        proj = p.project(d)
        res = kstest(
            (x.double() @ d.double()).numpy(),
            lambda v, proj=proj: proj.cdf(torch.as_tensor(v)).numpy(),
        )
        worst = max(worst, float(res.statistic))
    return worst


def assert_matches(
    x: torch.Tensor, p: GaussianMixture, *, ks=0.025, weights=0.02, mean=0.05, cov=0.07
):
    """Check samples against ``p``: KS on projections, mode weights (by responsibility),
    mean and covariance. Defaults are set for N ~ 8000 samples: the 5% KS critical value
    is ~0.015 there, the rest leaves room for discretisation error of ~150-step solvers."""
    assert torch.isfinite(x).all()
    d_ks = ks_distance(x, p)
    d_w = (p.responsibilities(x).mean(0) - p.weights).abs().max().item()
    d_m = (x.double().mean(0) - p.mean()).abs().max().item()
    d_c = (torch.cov(x.double().T) - p.covariance()).abs().max().item()
    msg = f"ks={d_ks:.4f} weights={d_w:.4f} mean={d_m:.4f} cov={d_c:.4f}"
    assert d_ks < ks and d_w < weights and d_m < mean and d_c < cov, msg
