"""Search with classifier A's reward makes the independent classifier B see the class.

Task "generate class c" with the shipped Fashion-MNIST models: plain (unconditional)
sampling shows class c about 10% of the time (exactly 10% on average over the classes).
RBF (``proposal_batch=4``) at 100 NFE, 20 equal steps on the path's own time (the
benchmark's main setting), 10 classes x generator seeds 0..2 = 30 searches per mode.

Measured (benchmarks/results/fashion_benchmark.json, same searches; this test computes
them again): VP-SDE 15/30 recognised by B (50%), mean reward A -2.02; linear-SDE 23/30
(77%), -0.79; plain sampling from the same seeds: 3/30 in both modes, mean reward A
-5.67 (VP-SDE) and -9.34 (linear-SDE). Needs only the shipped weights, not the data set.
Thresholds: 3x and 5x the 10% baseline (9/30, 15/30), 6-8 hits below the measurements;
under the baseline P(X >= 9 | n = 30, p = 0.1) ~ 0.002.
"""

from __future__ import annotations

import pytest
import torch

from flowsearch.demo import (
    classifier_reward,
    flow_denoiser,
    load_classifier,
    load_flow_model,
)
from flowsearch.samplers import sample, search

SEEDS = 3
SETTING = dict(steps=20, grid="uniform")
MODES = {
    "VP-SDE": dict(interpolant="vp", stochastic=True),
    "linear-SDE": dict(interpolant="linear", stochastic=True),
}


@pytest.fixture(scope="module")
def models():
    return flow_denoiser(load_flow_model()), load_classifier("a"), load_classifier("b")


@torch.no_grad()
def _judge(judge: torch.nn.Module, x: torch.Tensor) -> int:
    return int(judge(x.clamp(-1.0, 1.0)).argmax(1)[0])


@pytest.mark.parametrize(("mode", "min_hits"), [("VP-SDE", 9), ("linear-SDE", 15)])
def test_rbf_at_100_nfe_beats_plain_sampling(models, mode, min_hits):
    denoiser, clf_a, clf_b = models
    hits = plain_hits = 0
    rewards, plain_rewards = [], []
    for c in range(10):
        reward = classifier_reward(clf_a, c)
        for seed in range(SEEDS):
            res = search(
                denoiser,
                reward,
                method="rbf",
                proposal_batch=4,
                nfe_budget=100,
                shape=(1, 32, 32),
                generator=torch.Generator().manual_seed(seed),
                **SETTING,
                **MODES[mode],
            )
            assert res.nfe == 100
            hits += _judge(clf_b, res.x0) == c
            rewards.append(res.reward)
            noise = torch.randn((1, 1, 32, 32), generator=torch.Generator().manual_seed(seed))
            with torch.no_grad():
                x = sample(
                    denoiser,
                    noise,
                    generator=torch.Generator().manual_seed(seed),
                    **SETTING,
                    **MODES[mode],
                )
                plain_rewards.append(float(reward(x)[0]))
            plain_hits += _judge(clf_b, x) == c
    n = 10 * SEEDS
    mean, plain_mean = sum(rewards) / n, sum(plain_rewards) / n
    print(f"{mode}: search {hits}/{n} reward {mean:.2f}; plain {plain_hits}/{n} {plain_mean:.2f}")
    assert hits >= min_hits, (hits, plain_hits)
    assert hits >= plain_hits + 5
    assert mean > plain_mean + 2.0  # measured gap ~5 nats
