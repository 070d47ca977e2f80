import math

import pytest

from flowsearch.samplers import Interpolant, LinearInterpolant, PathCoefficients, VPInterpolant


def _finite_difference(path, s, h=1e-6):
    up, dn = path.coefficients(s + h), path.coefficients(s - h)
    return (up.alpha_t - dn.alpha_t) / (2 * h), (up.sigma_t - dn.sigma_t) / (2 * h)


@pytest.mark.parametrize("path", [LinearInterpolant(), VPInterpolant(), VPInterpolant(0.5, 10.0)])
@pytest.mark.parametrize("s", [0.05, 0.3, 0.6, 0.95])
def test_derivatives_match_finite_differences(path, s):
    c = path.coefficients(s)
    da, ds = _finite_difference(path, s)
    assert c.d_alpha_t == pytest.approx(da, rel=1e-6, abs=1e-8)
    assert c.d_sigma_t == pytest.approx(ds, rel=1e-6, abs=1e-8)


def test_vp_values_of_the_paper():
    vp = VPInterpolant()
    c1 = vp.coefficients(1.0)
    assert c1.alpha_t == pytest.approx(math.exp(-0.5 * (0.1 + 19.9 / 2)))
    assert c1.alpha_t == pytest.approx(0.0066, abs=1e-4)
    assert vp.linear_time(1.0) == pytest.approx(0.9934, abs=1e-4)  # first model call
    c0 = vp.coefficients(0.0)
    assert (c0.alpha_t, c0.sigma_t) == (1.0, 0.0)
    for s in (0.1, 0.5, 0.9):  # variance preserving
        c = vp.coefficients(s)
        assert c.alpha_t**2 + c.sigma_t**2 == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("path", [LinearInterpolant(), VPInterpolant()])
def test_snr_matching(path):
    for s in (0.01, 0.2, 0.5, 0.8, 1.0):
        c = path.coefficients(s)
        t, scale = path.linear_time(s), path.linear_scale(s)
        # x_s = alpha x0 + sigma eps = c(s) ((1 - t) x0 + t eps)
        assert scale * (1 - t) == pytest.approx(c.alpha_t, rel=1e-12)
        assert scale * t == pytest.approx(c.sigma_t, rel=1e-12)


def test_time_from_linear_inverts_and_closed_form_matches_bisection():
    vp = VPInterpolant()
    for s in (1e-4, 0.01, 0.2, 0.5, 0.8, 0.999):
        t = vp.linear_time(s)
        assert vp.time_from_linear(t) == pytest.approx(s, rel=1e-9)
        assert Interpolant.time_from_linear(vp, t) == pytest.approx(s, rel=1e-9)
    assert vp.time_from_linear(1.0) == 1.0 and vp.time_from_linear(0.0) == 0.0
    assert LinearInterpolant().time_from_linear(0.37) == 0.37


def test_a_new_affine_path_needs_only_coefficients():
    class Cosine(Interpolant):
        name = "cosine"

        def coefficients(self, s):
            h = math.pi / 2
            return PathCoefficients(
                math.cos(h * s), math.sin(h * s), -h * math.sin(h * s), h * math.cos(h * s)
            )

    cos = Cosine()
    t = cos.linear_time(0.4)
    assert cos.time_from_linear(t) == pytest.approx(0.4, rel=1e-9)


def test_vp_rejects_bad_betas():
    with pytest.raises(ValueError, match="beta_min"):
        VPInterpolant(beta_min=5.0, beta_max=1.0)
