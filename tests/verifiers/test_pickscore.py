"""PickScore on a tiny random CLIP folder in the layout of yuvalkirstain/PickScore_v1."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402
from support.contract import (  # noqa: E402
    check_contract,
    check_missing_weights,
    random_images,
)

from flowsearch.verifiers.pickscore import MODEL_ID, PickScore, load_pickscore  # noqa: E402

PROMPTS = ["a photo of a cat", "a red car", "the dog"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tiny.make_tiny_clip(tmp_path_factory.mktemp("pickscore"), seed=3)


def test_contract_and_formula(folder):
    v = load_pickscore(folder, batch_size=2)
    assert isinstance(v, PickScore) and v.name == "pickscore" and v.differentiable
    images = random_images(3, 64, 48, seed=1)
    s = check_contract(v, images, PROMPTS)
    cos = (v.encode_images(images) * v.encode_text(PROMPTS)).sum(-1)
    torch.testing.assert_close(s, v.model.logit_scale.exp() * cos, atol=1e-4, rtol=1e-5)


def test_rejects_a_siglip_folder(tmp_path):
    pytest.importorskip("sentencepiece")
    with pytest.raises(ValueError, match="model_type 'siglip'"):
        load_pickscore(tiny.make_tiny_siglip(tmp_path / "sig"))


def test_missing_weights(tmp_path):
    check_missing_weights(load_pickscore, tmp_path / "PickScore_v1", MODEL_ID, "pickscore")
