"""Exact NFE accounting, no overrun, and clear minimum-budget errors for every method."""

import re

import pytest
import torch
from conftest import quadratic_reward

from flowsearch.samplers import search

ALL = [
    ("bon", {}),
    ("zero_order", {"neighbors": 3}),
    ("sop", {"branches": 3}),
    ("sop", {"segment_steps": 2}),
    ("smc", {}),
    ("svdd", {"children": 3}),
    ("code", {"children": 2, "lookahead": 3}),
    ("rbf", {}),
    ("rbf", {"chains": 3, "proposal_batch": 4}),
    ("rbf", {"initial_particles": 7, "chains": 2}),
    ("dps", {"guidance_scale": 0.2}),
    ("svdd", {"guidance_scale": 0.2}),
    ("rbf", {"guidance_scale": 0.2, "proposal_batch": 2}),
]
IDS = [f"{m}-{o}" for m, o in ALL]


def _run(den, method, options, budget, steps=7, **kw):
    return search(
        den, quadratic_reward, method=method, nfe_budget=budget, shape=(2,), steps=steps,
        generator=torch.Generator().manual_seed(0), **options, **kw,
    )  # fmt: skip


@pytest.mark.parametrize("method,options", ALL, ids=IDS)
@pytest.mark.parametrize("budget", [101, 253, 499])
def test_counted_nfe_is_exact_and_within_budget(counting, method, options, budget):
    res = _run(counting, method, options, budget)
    assert res.nfe == counting.nfe <= budget
    assert sum(r.nfe for r in res.trace) == res.nfe  # the trace accounts for every NFE
    assert res.x0.shape == (1, 2) and res.candidates.shape[1:] == (2,)
    assert res.reward == pytest.approx(float(quadratic_reward(res.x0)[0]))
    assert torch.all(res.rewards[:-1] >= res.rewards[1:])  # sorted best first


@pytest.mark.parametrize("method", ["bon", "smc", "rbf", "dps"])
def test_budget_is_fully_used_where_the_method_allows(counting, method):
    opts = {"guidance_scale": 0.2} if method == "dps" else {}
    res = _run(counting, method, opts, 7 * 13)
    assert res.nfe == 7 * 13


@pytest.mark.parametrize("method,options", ALL, ids=IDS)
def test_too_small_budget_states_the_minimum(mixture, method, options):
    with pytest.raises(ValueError, match="minimum is") as err:
        _run(mixture.denoiser(), method, options, 3)
    minimum = int(re.search(r"minimum is (\d+)", str(err.value)).group(1))
    res = _run(mixture.denoiser(), method, options, minimum)  # the stated minimum works
    assert res.nfe <= minimum
