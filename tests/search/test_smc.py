"""SMC / FK steering targets the tilted law p(x) exp(r(x) / lam), known in closed form."""

import pytest
import torch
from conftest import TARGET, quadratic_reward

from flowsearch.samplers import search
from flowsearch.samplers.particle_search.smc import resample


def _weighted_stats(res, mixture):
    w, x = res.weights, res.candidates.double()
    mean = w @ x
    cov = (w[:, None] * (x - mean)).T @ (x - mean)
    return w @ mixture.responsibilities(x), mean, cov


@pytest.mark.parametrize("interpolant", ["vp", "linear"])
@pytest.mark.parametrize("lam", [1.0, 4.0])
def test_smc_population_matches_the_exact_tilt(mixture, interpolant, lam):
    # Two independent runs of 4000 particles, pooled: one run's mode weights spread with a
    # std of ~0.0095 over seeds (28 seeds, no bias), so the pooled error's std is ~0.0067
    # and the bounds below are ~3 std.
    n, m = 4000, 30
    stats = []
    for seed in (0, 1):
        res = search(
            mixture.denoiser(), quadratic_reward, method="smc", nfe_budget=n * m, shape=(2,),
            steps=m, interpolant=interpolant, grid="uniform",
            generator=torch.Generator().manual_seed(seed), lam=lam, ess_threshold=0.5,
        )  # fmt: skip
        assert res.weights.sum() == pytest.approx(1.0)
        stats.append(_weighted_stats(res, mixture))
    modes, mean, cov = (sum(parts) / len(parts) for parts in zip(*stats))
    tilt = mixture.tilt_quadratic(TARGET, lam)
    assert (modes - tilt.weights).abs().max() < 0.02, (modes, tilt.weights)
    assert (mean - tilt.mean()).abs().max() < 0.06, (mean, tilt.mean())
    assert (cov - tilt.covariance()).abs().max() < 0.1, (cov, tilt.covariance())
    # and it is far from the untilted mixture, so the check has teeth
    assert (mean - mixture.mean()).abs().max() > 0.5


@pytest.mark.parametrize("potential", ["max", "sum"])
def test_other_potentials_keep_a_valid_final_weighting(mixture, potential):
    # These potentials' weights are degenerate (a few particles carry them), so one run is
    # noisy: average the mode weight over four seeds.
    found = []
    for seed in range(4):
        res = search(
            mixture.denoiser(), quadratic_reward, method="smc", nfe_budget=400 * 20, shape=(2,),
            steps=20, generator=torch.Generator().manual_seed(seed), potential=potential, lam=4.0,
        )  # fmt: skip
        assert res.weights.sum() == pytest.approx(1.0) and (res.weights >= 0).all()
        found.append(float(_weighted_stats(res, mixture)[0][2]))
    # the weighted population leans to the rewarded mode (tilt: 0.58) more than the prior's 20%
    assert sum(found) / len(found) > 0.4, found


def test_resampling_schemes_are_unbiased():
    w = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    for scheme in ("multinomial", "systematic", "stratified"):
        counts = torch.zeros(4, dtype=torch.float64)
        reps = 3000
        for _ in range(reps):
            counts += torch.bincount(resample(w, scheme, g), minlength=4)
        freq = counts / (reps * 4)
        assert (freq - w).abs().max() < 0.01, (scheme, freq)
    # systematic resampling keeps every particle with weight >= 1/N at least once
    idx = resample(torch.full((8,), 1 / 8, dtype=torch.float64), "systematic", g)
    assert sorted(idx.tolist()) == list(range(8))


def test_smc_trace_shows_resampling_and_lineage(mixture):
    res = search(
        mixture.denoiser(), quadratic_reward, method="smc", nfe_budget=16 * 8, shape=(2,), steps=8,
        generator=torch.Generator().manual_seed(2), lam=0.5,
    )  # fmt: skip
    resampled = [r for r in res.trace if r.events["resampled"]]
    assert resampled, "with lam=0.5 the weights degenerate and SMC must resample"
    assert any(r.parents != list(range(16)) for r in resampled)
    assert all(0 < r.events["ess"] <= 16 + 1e-9 for r in res.trace)
