"""Search from a latent (img2img), split sampling, and `search_flow` (ComfyUI's signature)."""

import pytest
import torch
from conftest import quadratic_reward

from flowsearch.samplers import (
    BoNOptions,
    RBFOptions,
    SamplerSettings,
    SearchControl,
    generator_from_seed,
    sample,
    sample_flow,
    search,
    search_flow,
)
from flowsearch.samplers.particle_search.flow import SEARCH_SEED_SALT

#: A clean latent inside the 50% mode, far from the reward's target mode.
LATENT = torch.tensor([[-2.0, 0.0]])
#: denoise = 0.7: sigmas from t0 = 0.7 to 0.
SIGMAS = torch.linspace(0.7, 0.0, 9)


def test_search_from_a_latent_beats_plain_sampling_from_it(mixture):
    plain = sample(
        mixture.denoiser(), torch.randn(2000, 2, generator=torch.Generator().manual_seed(0)),
        latent=LATENT, timesteps=SIGMAS, generator=torch.Generator().manual_seed(1),
    )  # fmt: skip
    plain_mean = float(quadratic_reward(plain).mean())
    for options in (BoNOptions(), RBFOptions(proposal_batch=4)):
        found = [
            search(
                mixture.denoiser(), quadratic_reward, options=options, nfe_budget=80,
                timesteps=SIGMAS, latent=LATENT, generator=torch.Generator().manual_seed(seed),
            ).reward
            for seed in range(6)
        ]  # fmt: skip
        # plain: -7.6 (mostly the latent's mode); bon -3.3, rbf -2.8: a quarter of the gap to 0 is required
        assert sum(found) / len(found) > 0.75 * plain_mean, (options, plain_mean, found)


def test_search_from_a_latent_infers_the_shape_and_checks_it(mixture):
    res = search(mixture.denoiser(), quadratic_reward, method="bon", nfe_budget=16,
                 timesteps=SIGMAS, latent=LATENT.double())  # fmt: skip
    assert res.x0.shape == (1, 2) and res.x0.dtype == torch.float64
    with pytest.raises(ValueError, match="latent has shape"):
        search(mixture.denoiser(), quadratic_reward, method="bon", nfe_budget=16, shape=(3,),
               timesteps=SIGMAS, latent=LATENT)  # fmt: skip
    with pytest.raises(ValueError, match=r"\[1, \*shape\]"):
        search(mixture.denoiser(), quadratic_reward, method="bon", nfe_budget=16,
               timesteps=SIGMAS, latent=torch.zeros(2, 2))  # fmt: skip


def test_split_search_returns_the_state_where_the_grid_stops(mixture):
    # Linear ODE, best-of-N: stop at sigma 0.3, then finish with the plain sampler. The
    # finished sample is one of the full search's candidates (same keyed start noises).
    ode = SamplerSettings(interpolant="linear", stochastic=False, grid="sigmas")
    sig = torch.linspace(1.0, 0.0, 11)
    kw = dict(method="bon", shape=(2,), settings=ode)
    full = search(mixture.denoiser(), quadratic_reward, timesteps=sig, nfe_budget=8 * 10,
                  generator=generator_from_seed(3), **kw)  # fmt: skip
    part = search(mixture.denoiser(), quadratic_reward, timesteps=sig[:8], nfe_budget=8 * 7,
                  generator=generator_from_seed(3), **kw)  # fmt: skip
    assert part.final_state.shape == (8, 2) and full.final_state is None  # 8 particles each
    rest = sample_flow(
        lambda x, t: mixture.denoise(x, t), part.final_state[:1], sig[7:], settings=ode
    )
    assert (full.candidates - rest).abs().sum(1).min() < 1e-6


class ComfyModel:
    """A ComfyUI-style model callable: ``model(x, sigma_vec, **extra_args)``."""

    def __init__(self, mixture):
        self.mixture, self.extra, self.batches = mixture, [], []

    def __call__(self, x, sigma, model_options=None, seed=None):
        self.extra.append((model_options, seed))
        self.batches.append(x.shape[0])
        assert sigma.shape == (x.shape[0],)
        return self.mixture.denoise(x, sigma)


def test_search_flow_runs_one_independent_search_per_batch_item(mixture):
    model = ComfyModel(mixture)
    x = torch.randn(3, 2, generator=torch.Generator().manual_seed(0))
    sig = torch.linspace(1.0, 0.0, 7)
    results, events, frames = {}, [], []
    out = search_flow(
        model, x, sig, {"model_options": {"k": 1}, "seed": 40}, frames.append,
        options=RBFOptions(proposal_batch=2), reward=quadratic_reward, nfe_budget=60,
        on_event=lambda b, e: events.append((b, e.kind)),
        on_result=lambda b, r: results.__setitem__(b, r),
    )  # fmt: skip
    assert out.shape == x.shape and sorted(results) == [0, 1, 2]
    assert all(e == ({"k": 1}, 40) for e in model.extra) and max(model.batches) > 3
    for b in range(3):  # item b is `search` seeded from generator_from_seed(40 + b, salt)
        ref = search(
            mixture.denoise, quadratic_reward, options=RBFOptions(proposal_batch=2), nfe_budget=60,
            shape=(2,), timesteps=sig, settings=SamplerSettings(grid="sigmas"),
            generator=generator_from_seed(40 + b, SEARCH_SEED_SALT),
        )  # fmt: skip
        assert torch.equal(out[b : b + 1], ref.x0) and results[b].reward == ref.reward
        assert [k for i, k in events if i == b][-1] == "done"
    assert not torch.equal(out[0], out[1])
    assert {"i", "denoised", "x", "sigma", "sigma_hat"} <= set(frames[0])
    assert all(0 <= f["i"] < 6 for f in frames) and frames[0]["denoised"].shape == (1, 2)


def test_search_flow_img2img_and_split_sigmas(mixture):
    model = ComfyModel(mixture)
    x = torch.zeros(2, 2)  # ignored when the clean latent is given
    lat = torch.stack([LATENT[0], torch.tensor([1.5, 1.5])])
    out = search_flow(model, x, SIGMAS, {"seed": 1}, options=BoNOptions(),
                      reward=quadratic_reward, nfe_budget=64, latent=lat)  # fmt: skip
    assert out.shape == (2, 2) and torch.isfinite(out).all()
    # split: sigmas stopping above 0 return the state there, in model space
    results = {}
    half = search_flow(model, x, SIGMAS[:5], {"seed": 1}, options=BoNOptions(),
                       reward=quadratic_reward, nfe_budget=32, latent=lat,
                       on_result=lambda b, r: results.__setitem__(b, r))  # fmt: skip
    assert torch.equal(half[1:2], results[1].final_state[:1].to(half.dtype))
    # without a latent, a start below sigma 1 continues from x itself (a handed-over state)
    seen = []
    search_flow(lambda xx, t, **kw: seen.append(xx[:, :].clone()) or mixture.denoise(xx, t),
                x + 0.25, SIGMAS, options=BoNOptions(), reward=quadratic_reward, nfe_budget=16,
                settings=SamplerSettings(interpolant="linear", grid="sigmas"))  # fmt: skip
    assert torch.equal(seen[0], torch.full_like(seen[0], 0.25))


def test_search_flow_controls_per_item_and_errors(mixture):
    model = ComfyModel(mixture)
    x = torch.randn(2, 2)
    controls = [SearchControl(), SearchControl()]
    controls[1].stop()  # item 1 is stopped before it starts: returns its input
    out = search_flow(model, x, torch.linspace(1, 0, 5), options=BoNOptions(),
                      reward=quadratic_reward, nfe_budget=20, control=controls)  # fmt: skip
    assert torch.equal(out[1], x[1]) and not torch.equal(out[0], x[0])
    with pytest.raises(ValueError, match="one per batch item"):
        search_flow(model, x, torch.linspace(1, 0, 5), options=BoNOptions(),
                    reward=quadratic_reward, nfe_budget=20, control=controls[:1])  # fmt: skip
    with pytest.raises(ValueError, match="clean latent"):
        search_flow(model, x, torch.linspace(1, 0, 5), options=BoNOptions(),
                    reward=quadratic_reward, nfe_budget=20, latent=torch.zeros(3, 2))  # fmt: skip


def test_search_keeps_no_autograd_graph(mixture):
    net = torch.nn.Linear(2, 2)

    def denoiser(x, t):
        return mixture.denoise(x, t) + 0.0 * net(x)

    res = search(denoiser, quadratic_reward, method="svdd", nfe_budget=60, shape=(2,), steps=4)
    assert not res.x0.requires_grad and not res.candidates.requires_grad
