"""Rollover Budget Forcing: quota, acceptance, rollover, forced moves, batched proposals."""

import torch
from conftest import quadratic_reward

from flowsearch.samplers import search
from flowsearch.samplers.particle_search.rbf import RBFOptions, plan


def _rbf(den, reward=quadratic_reward, budget=200, steps=8, **opts):
    return search(
        den, reward, method="rbf", nfe_budget=budget, shape=(2,), steps=steps,
        generator=torch.Generator().manual_seed(0), **opts,
    )  # fmt: skip


def test_plan_matches_the_papers_quota():
    # paper-style numbers: 500 NFE, 10 steps, 25 initial particles, 2 chains
    init, quota = plan(500, 10, RBFOptions(initial_particles=25, chains=2))
    assert (init, quota) == (25, (500 - 50) // (2 * 9))
    init, quota = plan(200, 8, RBFOptions())  # default: 5% of the budget up front
    assert init == 10 and quota == (200 - 10) // 7


def test_rollover_gives_later_steps_more_than_the_base_quota(mixture):
    res = _rbf(mixture.denoiser())
    init, base = plan(200, 8, RBFOptions())
    moves = res.trace[1:]
    assert any(r.events["rolled_over"][0] > 0 for r in moves[:-1])
    assert any(r.events["quota"][0] > base for r in moves), [r.events["quota"] for r in moves]
    for prev, cur in zip(moves, moves[1:-1]):  # quota = base + what the previous step left
        assert cur.events["quota"][0] == base + prev.events["rolled_over"][0]


def test_sequential_rule_stops_at_the_first_improvement(mixture):
    res = _rbf(mixture.denoiser(), proposal_batch=1)
    for r in res.trace[1:-1]:
        acc, used = r.events["accepted"][0], r.events["proposals"][0]
        if acc is not None:
            assert used == acc + 1  # nothing proposed after the accepted child
        else:
            assert used == r.events["quota"][0]  # quota exhausted, forced move


def test_unbeatable_reward_forces_every_step_and_rolls_nothing(mixture):
    res = _rbf(mixture.denoiser(), reward=lambda x0: torch.zeros(x0.shape[0], dtype=torch.float64))
    init, base = plan(200, 8, RBFOptions())
    for r in res.trace[1:-1]:
        assert r.events["accepted"] == [None]
        assert r.events["rolled_over"] == [0] and r.events["proposals"] == [base]
    assert res.nfe == 200  # the final step spends what is left


def test_batched_proposals_keep_exact_accounting(counting):
    for k in (1, 3, 8):
        counting.nfe = 0
        res = _rbf(counting, budget=151, proposal_batch=k, chains=2)
        assert res.nfe == counting.nfe == 151
        for r in res.trace[1:]:
            assert sum(r.events["proposals"]) == r.nfe
            assert all(p <= q for p, q in zip(r.events["proposals"], r.events["quota"]))


def test_chains_return_one_candidate_each(mixture):
    res = _rbf(mixture.denoiser(), chains=3)
    assert res.candidates.shape == (3, 2)


def test_last_step_proposals_are_evaluated_together(counting):
    # No acceptance test at the last step, so its proposals need not go k at a time:
    # one denoiser call per max_batch chunk, even for the sequential rule (k = 1).
    for max_batch in (None, 7):
        calls = []
        res = _rbf(counting, proposal_batch=1, max_batch=max_batch,
                   callback=lambda e, calls=calls: e.kind == "step" and calls.append(counting.calls))  # fmt: skip
        last = res.trace[-1].events["proposals"][0]
        assert last > 1
        assert calls[-1] - calls[-2] == (1 if max_batch is None else -(-last // max_batch))
