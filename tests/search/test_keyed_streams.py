"""Per-particle keyed noise: budgets only add, chunking and devices change nothing."""

import pytest
import torch
from conftest import quadratic_reward
from test_search_accounting import ALL, IDS

from flowsearch.samplers import search
from flowsearch.samplers.particle_search import smc
from flowsearch.samplers.randomness import derive_seed, keyed_normal

STEPS = 6


def _run(den, method, budget, seed=0, **kw):
    return search(
        den, quadratic_reward, method=method, nfe_budget=budget, shape=(2,), steps=STEPS,
        generator=torch.Generator().manual_seed(seed), **kw,
    )  # fmt: skip


def _rows_contained(small: torch.Tensor, big: torch.Tensor) -> bool:
    return all(any(torch.equal(row, other) for other in big) for row in small)


def test_best_of_16_contains_best_of_8_bitwise(mixture):
    for seed in range(3):
        r8 = _run(mixture.denoiser(), "bon", 8 * STEPS, seed)
        r16 = _run(mixture.denoiser(), "bon", 16 * STEPS, seed)
        assert r8.candidates.shape[0] == 8 and r16.candidates.shape[0] == 16
        # population order in the trace: the first 8 particles are the same particles
        assert r16.trace[-1].rewards[:8] == r8.trace[-1].rewards
        assert _rows_contained(r8.candidates, r16.candidates)
        assert r16.reward >= r8.reward


@pytest.mark.parametrize(
    "method,small,large,kw",
    [
        ("bon", 40, 97, {}),  # any budget increase, not only doublings
        ("dps", 40, 80, {"guidance_scale": 0.2}),
        ("svdd", 3 * 16, 5 * 16, {"children": 3}),  # 1 + 3 * 5 = 16 NFE per particle
        ("code", 3 * 16, 4 * 16, {"children": 3, "lookahead": 2}),
        ("zero_order", 6 * 9, 6 * 21, {"neighbors": 4}),
    ],
)
def test_budgets_only_add_for_independent_particles(mixture, method, small, large, kw):
    a = _run(mixture.denoiser(), method, small, **kw)
    b = _run(mixture.denoiser(), method, large, **kw)
    assert _rows_contained(a.candidates, b.candidates)
    assert b.reward >= a.reward


@pytest.mark.parametrize("method,options", ALL, ids=IDS)
def test_max_batch_changes_nothing_bitwise(mixture, method, options):
    # the exact mixture denoiser is row-wise, so chunking cannot change a bit
    a = _run(mixture.denoiser(), method, 150, **options)
    b = _run(mixture.denoiser(), method, 150, max_batch=4, **options)
    assert torch.equal(a.candidates, b.candidates) and a.nfe == b.nfe


def test_keyed_rows_depend_only_on_their_key():
    full = keyed_normal(7, (0, 3), range(10), (4,))
    part = keyed_normal(7, (0, 3), [2, 5], (4,))
    assert torch.equal(part, full[[2, 5]])
    assert not torch.equal(keyed_normal(8, (0, 3), [2], (4,)), full[2:3])
    assert not torch.equal(keyed_normal(7, (0, 4), [2], (4,)), full[2:3])
    assert full.std().item() == pytest.approx(1.0, abs=0.35)
    many = keyed_normal(1, (0, 0), range(4000), (2,))
    assert abs(many.mean().item()) < 0.05 and abs(many.std().item() - 1.0) < 0.05
    corr = torch.corrcoef(torch.stack([many[:-1, 0], many[1:, 0]]))[0, 1]
    assert abs(corr.item()) < 0.05  # neighbouring particles are unrelated


def test_results_never_touch_the_global_rng_and_resampling_gets_a_cpu_generator(
    mixture, monkeypatch
):
    # By construction there is no device-dependent fallback: one seed is drawn from the
    # caller's generator (on its own device) and every draw after that is a keyed CPU stream.
    seen = []
    real = smc.resample

    def spy(weights, scheme, generator):
        seen.append(generator)
        return real(weights, scheme, generator)

    monkeypatch.setattr(smc, "resample", spy)
    torch.manual_seed(0)
    a = _run(mixture.denoiser(), "smc", 120, lam=0.3)
    torch.manual_seed(123)
    b = _run(mixture.denoiser(), "smc", 120, lam=0.3)
    assert torch.equal(a.candidates, b.candidates)
    assert seen and all(isinstance(g, torch.Generator) and g.device.type == "cpu" for g in seen)


def test_the_base_seed_comes_from_the_callers_generator():
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert derive_seed(g1) == derive_seed(g2) and 0 <= derive_seed(g1) < 2**63
    torch.manual_seed(9)
    s = derive_seed(None)  # no generator: torch's global generator, reproducible by manual_seed
    torch.manual_seed(9)
    assert derive_seed(None) == s


def test_result_reports_the_seed(mixture):
    a = _run(mixture.denoiser(), "bon", 24, seed=4)
    assert a.seed == derive_seed(torch.Generator().manual_seed(4))
