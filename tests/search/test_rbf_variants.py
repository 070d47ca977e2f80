"""RBF's acceptance variants, Verifier-Threshold (vt) and DTS*: rules, NFE accounting, checks."""

import math

import pytest
import torch
from conftest import quadratic_reward

from flowsearch.samplers import DTSOptions, RBFOptions, VTOptions, search
from flowsearch.samplers.particle_search.rbf import plan


def _run(den, method, budget=200, steps=8, reward=quadratic_reward, **opts):
    return search(
        den, reward, method=method, nfe_budget=budget, shape=(2,), steps=steps,
        generator=torch.Generator().manual_seed(0), **opts,
    )  # fmt: skip


def test_step_best_explores_then_accepts_only_a_better_later_child(mixture):
    res = _run(mixture.denoiser(), "rbf", acceptance="step_best")
    _, base = plan(200, 8, RBFOptions())
    for rec in res.trace[1:-1]:
        allow, used, acc = (rec.events[k][0] for k in ("quota", "proposals", "accepted"))
        explored = math.ceil(allow / math.e)
        assert used >= explored  # the explored block is always spent
        if acc is not None:
            assert acc >= explored and used == acc + 1  # accepted after exploring, then stop
        else:
            assert used == allow  # forced: the whole quota went
    assert res.nfe == 200
    assert any(r.events["rolled_over"][0] > 0 for r in res.trace[1:-1])


def test_vt_accepts_exactly_the_first_child_over_the_threshold(mixture):
    res = _run(mixture.denoiser(), "vt", threshold=-0.5)
    for rec in res.trace[1:-1]:
        acc = rec.events["accepted"][0]
        if acc is not None:
            assert rec.rewards[0] > -0.5 and rec.events["proposals"][0] == acc + 1
        else:
            assert rec.events["proposals"][0] == rec.events["quota"][0]
    assert res.nfe == 200


def test_vt_with_an_unreachable_threshold_never_rolls_over(mixture):
    res = _run(mixture.denoiser(), "vt", threshold=10.0)  # quadratic reward is <= 0
    assert all(r.events["accepted"][0] is None for r in res.trace[1:])
    assert all(r.events["rolled_over"][0] == 0 for r in res.trace[1:])


@pytest.mark.parametrize(
    "method,options",
    [
        ("rbf", {"acceptance": "step_best"}),
        ("rbf", {"acceptance": "step_best", "proposal_batch": 3, "chains": 2}),
        ("vt", {"threshold": -0.1}),
        ("vt", {"threshold": -0.1, "proposal_batch": 4, "chains": 2}),
        ("dts_star", {}),
        ("dts_star", {"children": 2, "lam": 10.0}),
    ],
)
@pytest.mark.parametrize("budget", [37, 113])
def test_exact_nfe_accounting(counting, method, options, budget):
    res = _run(counting, method, budget=budget, **options)
    assert res.nfe == counting.nfe <= budget
    assert sum(r.nfe for r in res.trace) == res.nfe
    if method != "dts_star":
        assert res.nfe == budget
    else:  # stops only when no expansion fits: at most steps - 2 NFEs left over
        assert budget - res.nfe < 7


def test_dts_star_expands_below_the_root_and_keeps_every_final_sample(mixture):
    res = _run(mixture.denoiser(), "dts_star", budget=120)
    depths = [r.events["expanded_at"] for r in res.trace]
    assert depths[:4] == [0, 0, 0, 0]  # the root's four children first: four trajectories
    assert max(depths) >= 1  # then refinements at lower noise
    # one final sample per rollout; each rollout costs M - expanded_at NFEs
    assert [r.nfe for r in res.trace] == [8 - d for d in depths]
    assert res.candidates.shape[0] == len(depths)
    assert res.reward == pytest.approx(float(res.rewards.max()))


def test_dts_star_with_one_child_is_one_trajectory(mixture):
    res = _run(mixture.denoiser(), "dts_star", budget=50, children=1)
    assert res.nfe == 8 and len(res.trace) == 1  # every node full after the first rollout


def test_new_methods_beat_plain_sampling_on_the_mixture(mixture):
    den = mixture.denoiser()
    plain = _run(den, "bon", budget=8 * 32).rewards.mean()  # mean of 32 plain samples
    for method, options in [
        ("rbf", {"acceptance": "step_best"}),
        ("vt", {"threshold": -0.05}),
        ("dts_star", {}),
    ]:
        assert _run(den, method, budget=100, **options).reward > plain + 1.0, method


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: RBFOptions(acceptance="best"), "acceptance"),
        (lambda: RBFOptions(acceptance="step_best", explore=0.0), "explore"),
        (lambda: VTOptions(), "threshold"),
        (lambda: VTOptions(threshold=math.nan), "threshold"),
        (lambda: VTOptions(threshold=0.5, chains=0), "chains"),
        (lambda: DTSOptions(children=0), "children"),
        (lambda: DTSOptions(lam=0.0), "lam"),
    ],
)
def test_bad_options_name_the_option(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_typed_records_select_the_methods(mixture):
    den = mixture.denoiser()
    res = search(
        den, quadratic_reward, options=VTOptions(threshold=-0.1), nfe_budget=60, shape=(2,),
        steps=8, generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert res.method == "vt" and res.nfe == 60
    res = search(
        den, quadratic_reward, options=DTSOptions(), nfe_budget=60, shape=(2,), steps=8,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert res.method == "dts_star"
