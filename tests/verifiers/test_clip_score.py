"""CLIPScore on tiny random CLIP and SigLIP folders written in the real HF layout."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402
from support.contract import (  # noqa: E402
    check_contract,
    check_gradient,
    check_missing_weights,
    random_images,
)

from flowsearch.verifiers.clip_score import CLIPScore, load_clip_score  # noqa: E402
from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402

PROMPTS = ["a photo of a cat", "a red car", "the dog", "hello world"]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    return tiny.make_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def siglip_dir(tmp_path_factory):
    pytest.importorskip("sentencepiece")
    return tiny.make_tiny_siglip(tmp_path_factory.mktemp("siglip"))


@pytest.fixture(scope="module")
def clip(clip_dir):
    return load_clip_score(clip_dir, mode="logit", batch_size=3)


@pytest.fixture(scope="module")
def siglip(siglip_dir):
    return load_clip_score(siglip_dir, mode="logit", batch_size=3)


@pytest.mark.parametrize("which", ["clip", "siglip"])
def test_contract(which, request):
    v = request.getfixturevalue(which)
    images = random_images(4)
    assert isinstance(v, CLIPScore) and v.differentiable and v.input_size == 32
    check_contract(v, images, PROMPTS)


def test_clip_matches_hf_forward(clip):
    """Our submodule path equals CLIPModel.forward's logits on the same inputs."""
    images = random_images(3)
    pixels = clip.preprocess(images, device=clip.device, dtype=clip.dtype)
    tok = clip.tokenizer(PROMPTS[:3], padding="max_length", max_length=77, return_tensors="pt")
    with torch.no_grad():
        out = clip.model(pixel_values=pixels, **tok)
    expected = torch.diagonal(out.logits_per_image)
    torch.testing.assert_close(clip(images, PROMPTS[:3]), expected, atol=1e-4, rtol=1e-4)


def test_siglip_matches_hf_forward(siglip):
    images = random_images(3)
    pixels = siglip.preprocess(images, device=siglip.device, dtype=siglip.dtype)
    ids = siglip.tokenizer(PROMPTS[:3], padding="max_length", max_length=16, return_tensors="pt")
    with torch.no_grad():
        out = siglip.model(pixel_values=pixels, input_ids=ids["input_ids"])
    expected = torch.diagonal(out.logits_per_image)
    torch.testing.assert_close(siglip(images, PROMPTS[:3]), expected, atol=1e-4, rtol=1e-4)


def test_modes_are_the_documented_functions_of_cosine(clip_dir, siglip_dir):
    images = random_images(4)
    clip_logit = load_clip_score(clip_dir, mode="logit")
    cos = (clip_logit.encode_images(images) * clip_logit.encode_text(PROMPTS)).sum(-1)
    assert bool((cos < 0).any() and (cos > 0).any())  # both branches of max(cos, 0)
    torch.testing.assert_close(clip_logit(images, PROMPTS), 100.0 * cos, atol=1e-4, rtol=1e-5)
    clip_score = load_clip_score(clip_dir, mode="clipscore", weight=2.5)(images, PROMPTS)
    torch.testing.assert_close(clip_score, 2.5 * cos.clamp(min=0), atol=1e-6, rtol=1e-5)
    sig = load_clip_score(siglip_dir, mode="logit")
    sig_cos = (sig.encode_images(images) * sig.encode_text(PROMPTS)).sum(-1)
    sig_logit = sig(images, PROMPTS)
    torch.testing.assert_close(sig_logit, 10.0 * sig_cos - 1.0, atol=1e-5, rtol=1e-5)
    sig_prob = load_clip_score(siglip_dir, mode="probability")(images, PROMPTS)
    torch.testing.assert_close(sig_prob, torch.sigmoid(sig_logit))
    assert bool(((sig_prob > 0) & (sig_prob < 1)).all())


def test_probability_mode_rejected_for_clip(clip_dir):
    with pytest.raises(ValueError, match="SigLIP"):
        load_clip_score(clip_dir, mode="probability")
    with pytest.raises(ValueError, match="mode"):
        load_clip_score(clip_dir, mode="softmax")


def test_preprocess_matches_hf_image_processor(clip, clip_dir):
    """Torch resize/crop/normalise ≈ CLIPImageProcessor (PIL bicubic on uint8) on real pixels."""
    transformers = pytest.importorskip("transformers")
    pil = pytest.importorskip("PIL.Image")
    g = np.random.default_rng(0)
    # a smooth image (PIL and torch bicubic differ most on pixel noise)
    yy, xx = np.mgrid[0:96, 0:144] / 40.0
    arr = np.stack([np.sin(xx + yy), np.cos(2 * xx), np.sin(3 * yy)], -1) * 0.4 + 0.5
    arr = np.clip(arr + 0.01 * g.standard_normal(arr.shape), 0, 1)
    u8 = (arr * 255).round().astype(np.uint8)
    proc = transformers.CLIPImageProcessor.from_pretrained(str(clip_dir))
    ref = proc(images=pil.fromarray(u8), return_tensors="pt")["pixel_values"]
    ours = clip.preprocess(
        torch.from_numpy(u8).float()[None] / 255.0, device="cpu", dtype=torch.float32
    )
    assert ours.shape == ref.shape == (1, 3, 32, 32)
    # measured: mean 0.004, max 0.012 (without antialiasing the mean error is 0.028)
    assert float((ours - ref).abs().mean()) < 0.01, float((ours - ref).abs().mean())
    assert float((ours - ref).abs().max()) < 0.05, float((ours - ref).abs().max())


def test_text_cache_is_used_and_bounded(clip_dir):
    v = load_clip_score(clip_dir, cache_size=2)
    images = random_images(3)
    first = v(images, ["a cat", "a dog", "a cat"])
    assert len(v._text_cache) == 2
    again = v(images, ["a cat", "a dog", "a cat"])
    assert torch.equal(first, again)
    v(images[:1], "the red car")
    assert len(v._text_cache) == 2  # least recently used entry evicted
    fresh = load_clip_score(clip_dir, cache_size=0)
    torch.testing.assert_close(fresh(images, ["a cat", "a dog", "a cat"]), first)
    assert len(fresh._text_cache) == 0


def test_cache_filled_under_inference_mode_serves_gradient_calls(clip_dir):
    v = load_clip_score(clip_dir, mode="logit")
    images = random_images(2)
    with torch.inference_mode():  # how ComfyUI runs nodes
        v(images, ["a cat", "a dog"])
    check_gradient(v, images, ["a cat", "a dog"])


def test_bfloat16_close_to_float32(clip_dir):
    images = random_images(2)
    f32 = load_clip_score(clip_dir, mode="logit")(images, PROMPTS[:2])
    v16 = load_clip_score(clip_dir, mode="logit", dtype=torch.bfloat16)
    assert next(v16.model.parameters()).dtype == torch.bfloat16
    b16 = v16(images, PROMPTS[:2])
    assert b16.dtype == torch.float32
    assert float((b16 - f32).abs().max()) < 0.1 * max(1.0, float(f32.abs().max()))


def test_prompt_changes_score(clip):
    images = random_images(1).expand(2, -1, -1, -1)
    s = clip(images, ["a photo of a cat", "hello world"])
    assert not math.isclose(float(s[0]), float(s[1]), abs_tol=1e-6)


def test_missing_weights_errors(tmp_path, clip_dir):
    msg = check_missing_weights(
        load_clip_score, tmp_path / "nope", "openai/clip-vit-large-patch14", "clip_score"
    )
    assert "never downloads" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    check_missing_weights(load_clip_score, empty, "openai/clip-vit-large-patch14", "clip_score")
    notok = tmp_path / "notok"
    notok.mkdir()
    for f in ("config.json", "model.safetensors"):
        (notok / f).write_bytes((clip_dir / f).read_bytes())
    with pytest.raises(MissingWeightsError, match="tokenizer.json"):
        load_clip_score(notok)
    # ... and the tokenizer can come from another folder
    v = load_clip_score(notok, tokenizer_path=clip_dir)
    assert v(random_images(1), "a cat").shape == (1,)


@pytest.mark.parametrize("module", ["transformers"])
def test_missing_dependency_names_the_extra(clip_dir, monkeypatch, module):
    from flowsearch.verifiers.files import MissingDependencyError

    monkeypatch.setitem(sys.modules, module, None)  # makes `import transformers` fail
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[verifiers\]"):
        load_clip_score(clip_dir)


def test_wrong_model_type_is_rejected(tmp_path):
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match="model_type 'bert'"):
        load_clip_score(tmp_path)
