"""Typed options, guidance as a search-level setting, and the reward's declared flags."""

import pytest
import torch
from conftest import quadratic_reward

from flowsearch.samplers import (
    BoNOptions,
    RBFOptions,
    SamplerSettings,
    SMCOptions,
    SVDDOptions,
    TreeOptions,
    search,
)


def _run(den, reward=quadratic_reward, **kw):
    return search(
        den, reward, nfe_budget=kw.pop("nfe_budget", 90), shape=(2,), steps=6,
        generator=torch.Generator().manual_seed(0), **kw,
    )  # fmt: skip


@pytest.mark.parametrize(
    "method,record",
    [
        ("rbf", RBFOptions(proposal_batch=4, chains=2)),
        ("smc", SMCOptions(lam=0.5)),
        ("svdd", SVDDOptions(children=3)),
        ("code", TreeOptions(children=2, lookahead=2)),
        ("bon", BoNOptions()),
    ],
)
def test_typed_options_equal_the_keyword_style(mixture, method, record):
    typed = _run(mixture.denoiser(), options=record)
    named = _run(mixture.denoiser(), method=method, **vars(record))
    assert typed.method == named.method == method and typed.options == record
    assert torch.equal(typed.candidates, named.candidates)


@pytest.mark.parametrize(
    "kw,match",
    [
        ({}, "needs a method"),
        ({"options": {"chains": 2}}, "options record"),
        ({"options": RBFOptions(), "method": "bon"}, "does not match"),
        ({"options": RBFOptions(), "chains": 2}, "already holds"),
        ({"method": "rbf", "guidance_scale": -1.0}, "guidance_scale"),
        ({"method": "rbf", "guidance_scale": float("nan")}, "guidance_scale"),
        ({"method": "dps", "guidance_scale": 0.0}, "best-of-N with gradient guidance"),
    ],
)
def test_bad_method_choices(counting, kw, match):
    with pytest.raises(ValueError, match=match):
        _run(counting, **kw)
    assert counting.nfe == 0


def test_dps_is_best_of_n_with_guidance(mixture):
    dps = _run(mixture.denoiser(), method="dps", guidance_scale=0.3)
    bon = _run(mixture.denoiser(), method="bon", guidance_scale=0.3)
    typed = _run(mixture.denoiser(), method="dps", options=BoNOptions(), guidance_scale=0.3)
    assert torch.equal(dps.candidates, bon.candidates) and torch.equal(dps.x0, typed.x0)
    assert dps.nfe_backward > 0 and dps.guidance_scale == 0.3 and dps.method == "dps"
    assert _run(mixture.denoiser(), method="dps").guidance_scale == 1.0  # the alias's default


@pytest.mark.parametrize("method", ["smc", "sop", "zero_order"])
def test_guidance_is_a_setting_of_every_method(mixture, method):
    res = _run(mixture.denoiser(), method=method, guidance_scale=0.2, nfe_budget=400)
    assert res.nfe_backward > 0 and torch.isfinite(res.x0).all()


class FlaggedReward:
    """A reward with the optional flags a verifier adapter declares; logs batch sizes."""

    def __init__(self, differentiable=None, batch_relative=None):
        self.differentiable, self.batch_relative, self.batches = differentiable, batch_relative, []

    def __call__(self, x0):
        self.batches.append(x0.shape[0])
        return quadratic_reward(x0)


@pytest.mark.parametrize("method", ["dps", "rbf", "svdd", "bon"])
def test_guidance_with_a_non_differentiable_reward_is_refused_before_any_nfe(counting, method):
    reward = FlaggedReward(differentiable=False)
    with pytest.raises(ValueError, match="differentiable=False"):
        _run(counting, reward, method=method, guidance_scale=0.5)
    assert counting.nfe == 0 and reward.batches == []
    _run(counting, reward, method=method if method != "dps" else "bon")  # no guidance: fine


@pytest.mark.parametrize("method,kw", [("bon", {}), ("svdd", {"children": 3}), ("sop", {})])
def test_batch_relative_rewards_see_whole_populations(counting, method, kw):
    reward = FlaggedReward(batch_relative=True)
    res = _run(counting, reward, method=method, max_batch=3, nfe_budget=200, **kw)
    assert max(reward.batches) > 3  # never split into max_batch chunks
    plain = FlaggedReward()
    ref = _run(counting, plain, method=method, max_batch=3, nfe_budget=200, **kw)
    assert max(plain.batches) <= 3 and torch.equal(res.candidates, ref.candidates)
    assert sum(reward.batches) == sum(plain.batches)  # same particles scored, in whole calls


@pytest.mark.parametrize(
    "method,kw,match",
    [
        ("rbf", {}, "compares rewards"),
        ("smc", {}, "compares rewards"),
        ("zero_order", {}, "compares rewards"),
        ("bon", {"guidance_scale": 0.5}, "cannot guide"),
    ],
)
def test_batch_relative_rewards_are_refused_where_they_mislead(counting, method, kw, match):
    with pytest.raises(ValueError, match=match):
        _run(counting, FlaggedReward(batch_relative=True), method=method, **kw)
    assert counting.nfe == 0


def test_settings_record_and_old_keywords_are_one_thing(mixture):
    s = SamplerSettings(interpolant="linear", grid="uniform", diffusion_scale=2.0)
    a = _run(mixture.denoiser(), method="bon", settings=s)
    b = _run(
        mixture.denoiser(), method="bon", interpolant="linear", grid="uniform", diffusion_scale=2.0
    )
    c = _run(mixture.denoiser(), method="bon", settings=SamplerSettings(interpolant="linear"),
             grid="uniform", diffusion_scale=2.0)  # fmt: skip
    assert torch.equal(a.candidates, b.candidates) and torch.equal(a.candidates, c.candidates)
    assert a.settings == b.settings == c.settings == s
    with pytest.raises(ValueError, match="given twice"):
        _run(mixture.denoiser(), method="bon", settings=s, interpolant="vp")
    d = _run(mixture.denoiser(), method="bon")
    assert d.settings == SamplerSettings()  # the one set of defaults: VP-SDE, 3 s^2, adaptive
