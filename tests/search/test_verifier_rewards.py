"""Search with rewards built by `reward_from_verifier`: the flags steer what search allows."""

import pytest
import torch

from flowsearch.samplers import BoNOptions, RBFOptions, SVDDOptions, search
from flowsearch.verifiers import Ensemble, Verifier, reward_from_verifier

SHAPE = (4, 8, 8)


class Brightness(Verifier):
    """Toy verifier: mean pixel value (differentiable unless told otherwise)."""

    name = "brightness"
    differentiable = True

    def __init__(self, differentiable: bool = True):
        super().__init__(batch_size=4)
        self.differentiable = differentiable

    def score_batch(self, images, prompts):
        return images.mean(dim=(1, 2, 3))


def decode(x0):
    return torch.sigmoid(x0[:, :3].permute(0, 2, 3, 1))


def denoiser(x, t):  # x0_hat of a Gaussian data law N(0.3, 1) on the linear path
    tt = t.view(-1, 1, 1, 1)
    return (0.3 * tt + (1 - tt) * x) / ((1 - tt) ** 2 + tt**2)


def _search(reward, counting=None, **kw):
    calls = [] if counting is None else counting

    def den(x, t):
        calls.append(x.shape[0])
        return denoiser(x, t)

    return search(den, reward, nfe_budget=60, shape=SHAPE, steps=5,
                  generator=torch.Generator().manual_seed(0), **kw)  # fmt: skip


def test_guidance_with_a_non_differentiable_verifier_spends_nothing():
    calls = []
    reward = reward_from_verifier(Brightness(differentiable=False), decode, "p")
    with pytest.raises(ValueError, match="differentiable=False"):
        _search(reward, calls, options=SVDDOptions(children=2), guidance_scale=1.0)
    assert calls == []


def test_guidance_with_a_differentiable_verifier_under_inference_mode():
    reward = reward_from_verifier(Brightness(), decode, "p")
    with torch.inference_mode():
        res = _search(reward, options=BoNOptions(), guidance_scale=2.0)
    assert res.nfe_backward > 0 and torch.isfinite(res.x0).all()
    plain = _search(reward, options=BoNOptions())
    assert res.reward > plain.reward  # guidance towards brighter images helps here


def test_rank_ensembles_score_whole_populations_and_are_refused_where_they_mislead():
    rank = Ensemble([Brightness(), Brightness()], mode="rank")
    reward = reward_from_verifier(rank, decode, "p")
    assert reward.batch_relative
    with pytest.raises(ValueError, match="compares rewards"):
        _search(reward, options=RBFOptions())
    res = _search(reward, options=BoNOptions(), max_batch=2)
    assert res.candidates.shape[0] == 12 and res.nfe == 60
