"""The `auto` regime table (host-free)."""

from __future__ import annotations

from flowsearch.nodes.regime import PRESETS, REGIME_PRESET, ModelFacts, auto_settings


def facts(**kw) -> ModelFacts:
    base = dict(
        config="Flux",
        image_model="flux",
        guidance_embed=True,
        model_type="FLUX",
        prediction="CONST",
        sampling="ModelSamplingFlux",
        shift=1.15,
    )
    return ModelFacts(**(base | kw))


def test_flux_schnell_is_distilled_and_gets_the_papers_vp_sde():
    schnell = facts(config="FluxSchnell", guidance_embed=False, model_type="FLOW", shift=1.0)
    regime, why, settings = auto_settings(schnell)
    assert regime == "distilled" and "FluxSchnell" in why
    assert settings == PRESETS["vp_sde_paper"]
    assert settings["interpolant"] == "vp" and settings["grid"] == "adaptive"


def test_flux_without_guidance_embed_counts_as_distilled_whatever_the_class():
    assert auto_settings(facts(config="Custom", guidance_embed=False))[0] == "distilled"


def test_full_models_get_the_linear_sde_on_the_connected_sigmas():
    for f in (facts(), facts(config="SD3", image_model="mmdit", guidance_embed=None)):
        regime, why, settings = auto_settings(f)
        assert regime == "full" and f.config in why
        assert settings == PRESETS["linear_sde"] and settings["grid"] == "sigmas"


def test_every_regime_has_a_preset():
    assert set(REGIME_PRESET.values()) <= set(PRESETS)
