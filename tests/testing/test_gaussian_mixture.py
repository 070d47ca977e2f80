import torch

from flowsearch.testing import GaussianMixture


def test_score_is_gradient_of_log_prob(mixture):
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
    p = mixture.at_time(0.4)
    x.requires_grad_(True)
    (grad,) = torch.autograd.grad(p.log_prob(x).sum(), x)
    torch.testing.assert_close(p.score(x.detach()), grad, rtol=1e-10, atol=1e-10)


def test_denoiser_satisfies_tweedie(mixture):
    # E[x0 | x_t] = (x_t + t^2 grad log p_t(x_t)) / (1 - t): ties the denoiser to the score.
    x = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2
    for t in (0.05, 0.3, 0.7, 0.95):
        tweedie = (x + t * t * mixture.at_time(t).score(x)) / (1 - t)
        torch.testing.assert_close(mixture.denoise(x, t), tweedie, rtol=1e-9, atol=1e-9)


def test_denoiser_endpoints(mixture):
    x = torch.randn(16, 2, dtype=torch.float64)
    torch.testing.assert_close(mixture.denoise(x, 0.0), x)
    torch.testing.assert_close(mixture.denoise(x, 1.0), mixture.mean().expand(16, 2))


def test_denoiser_is_monte_carlo_posterior_mean(mixture, gen):
    # Independent check: regress x0 on x_t by binning a simulated joint sample in 1-D.
    g = gen(2)
    m1 = GaussianMixture.create([0.6, 0.4], [[-1.0], [2.0]], [0.2, 0.5])
    x0 = m1.sample(400_000, g)
    t = 0.5
    xt = (1 - t) * x0 + t * torch.randn(x0.shape, generator=g, dtype=torch.float64)
    centres = torch.linspace(-0.5, 1.0, 7, dtype=torch.float64)
    for c in centres:
        sel = (xt[:, 0] - c).abs() < 0.01
        mc = x0[sel, 0].mean()
        exact = m1.denoise(c.reshape(1, 1), t)[0, 0]
        assert abs(mc - exact) < 0.05, (float(c), float(mc), float(exact))


def test_sampling_moments(mixture, gen):
    x = mixture.sample(200_000, gen(3))
    torch.testing.assert_close(x.mean(0), mixture.mean(), atol=0.02, rtol=0)
    torch.testing.assert_close(torch.cov(x.T), mixture.covariance(), atol=0.03, rtol=0)


def test_any_shape_state(mixture):
    m4 = GaussianMixture.create([1.0, 1.0], torch.zeros(2, 4), [1.0, 2.0])
    x = torch.randn(3, 2, 2)
    assert m4.denoise(x, 0.5).shape == (3, 2, 2)
    assert m4.score(x).shape == (3, 2, 2)
