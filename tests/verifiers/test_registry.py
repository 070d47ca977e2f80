"""The verifier registry: names, availability reasons, loading rules."""

import importlib.util

import pytest

from flowsearch.verifiers import (
    VERIFIERS,
    MissingDependencyError,
    MissingWeightsError,
    available_verifiers,
    load_verifier,
)


def test_every_family_is_registered_with_a_loader():
    assert set(VERIFIERS) == {
        "clip_score", "pickscore", "hpsv2", "aesthetic", "image_reward",
        "vqascore", "vlm_grader", "counting", "ocr", "safety",
    }  # fmt: skip
    assert all(callable(s.loader) for s in VERIFIERS.values())
    assert {n for n, s in VERIFIERS.items() if s.differentiable} == {
        "clip_score", "pickscore", "hpsv2", "aesthetic", "image_reward",
    }  # fmt: skip


def test_availability_follows_installed_packages(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "rapidocr_onnxruntime" else real(name, *a),
    )
    status = available_verifiers()
    assert "flowsearch[ocr]" in status["ocr"]
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[ocr\]"):
        load_verifier("ocr")


def test_load_rules(tmp_path):
    with pytest.raises(ValueError, match="unknown verifier"):
        load_verifier("clipscore")
    with pytest.raises(ValueError, match="needs the path"):
        load_verifier("pickscore")
    with pytest.raises(ValueError, match="ships its own weights"):
        load_verifier("safety", tmp_path)
    pytest.importorskip("transformers")
    with pytest.raises(MissingWeightsError, match="models/verifiers"):
        load_verifier("aesthetic", tmp_path / "missing.safetensors", clip_path=tmp_path / "clip")
