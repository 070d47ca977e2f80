"""preprocessor_config.json is read as the transformers image processors read it (integer,
list and dict forms of ``size``/``crop_size``), checked against the processors themselves."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402

from flowsearch.verifiers.clip_score import load_clip_score  # noqa: E402
from flowsearch.verifiers.preprocess_config import (  # noqa: E402
    BLIP_PROCESSOR,
    CLIP_PROCESSOR,
    SIGLIP_PROCESSOR,
    preprocess_from_config,
    preprocess_from_hf_folder,
    size_dict,
)

PIL_CLASSES = {
    "CLIPImageProcessor": "CLIPImageProcessorPil",
    "SiglipImageProcessor": "SiglipImageProcessorPil",
    "BlipImageProcessor": "BlipImageProcessorPil",
}


def smooth_image(h: int = 48, w: int = 70) -> np.ndarray:
    """uint8 ``[H, W, 3]`` (PIL and torch bicubic differ most on pixel noise)."""
    yy, xx = np.mgrid[0:h, 0:w] / 15.0
    arr = np.stack([np.sin(xx + yy), np.cos(2 * xx), np.sin(3 * yy)], -1) * 0.4 + 0.5
    return (arr * 255).round().astype(np.uint8)


def reference(defaults, cfg: dict, u8: np.ndarray) -> torch.Tensor:
    from PIL import Image

    proc = getattr(transformers, PIL_CLASSES[defaults.name])(**cfg)
    return proc(images=Image.fromarray(u8), return_tensors="pt")["pixel_values"]


@pytest.mark.parametrize("value", [40, [40, 32], {"shortest_edge": 40}, {"height": 8, "width": 9}])
@pytest.mark.parametrize("square", [True, False])
def test_size_dict_matches_transformers(value, square):
    from transformers.image_processing_utils import get_size_dict

    assert size_dict(value, default_to_square=square) == get_size_dict(
        value, default_to_square=square
    )


@pytest.mark.parametrize(
    "defaults, cfg",
    [
        (CLIP_PROCESSOR, {"size": 40, "crop_size": 32}),  # issue 13 case 5
        (CLIP_PROCESSOR, {"size": {"shortest_edge": 40}, "crop_size": {"height": 32, "width": 32}}),
        (CLIP_PROCESSOR, {"size": 36, "crop_size": [32, 32], "resample": 2}),
        (CLIP_PROCESSOR, {"size": [36, 36], "crop_size": 36}),
        (CLIP_PROCESSOR, {"size": 40, "crop_size": 32, "do_normalize": False}),
        (SIGLIP_PROCESSOR, {"size": {"height": 32, "width": 32}}),
        (SIGLIP_PROCESSOR, {"size": [32, 32], "image_mean": 0.5, "image_std": 0.25}),
        (BLIP_PROCESSOR, {"size": 32}),
        (BLIP_PROCESSOR, {"size": {"height": 36, "width": 36}}),
    ],
)
def test_matches_the_transformers_processor(defaults, cfg):
    u8 = smooth_image()
    ref = reference(defaults, cfg, u8)
    pre = preprocess_from_config(cfg, defaults)
    ours = pre(torch.from_numpy(u8).float()[None] / 255.0, device="cpu", dtype=torch.float32)
    assert ours.shape == ref.shape, (ours.shape, ref.shape)
    err = (ours - ref).abs()
    # torch antialiased bicubic vs PIL on uint8; measured: mean <= 0.0042, max <= 0.015
    assert float(err.mean()) < 0.01 and float(err.max()) < 0.05, (float(err.mean()), cfg)


def test_int_size_and_crop_in_a_clip_folder(tmp_path):
    """``"size": 40, "crop_size": 32``: resize the short side to 40, then crop 32."""
    folder = tiny.make_tiny_clip(tmp_path / "clip")
    cfg = json.loads((folder / "preprocessor_config.json").read_text())
    cfg.update(size=40, crop_size=32)
    (folder / "preprocessor_config.json").write_text(json.dumps(cfg))
    v = load_clip_score(folder)
    assert (v.preprocess.resize, v.preprocess.size, v.preprocess.geometry) == (
        40, 32, "shortest_crop",
    )  # fmt: skip
    u8 = smooth_image()
    ref = transformers.CLIPImageProcessor.from_pretrained(str(folder))(
        images=[u8], return_tensors="pt"
    )["pixel_values"]
    ours = v.preprocess(torch.from_numpy(u8).float()[None] / 255.0, device="cpu", dtype=v.dtype)
    assert ours.shape == ref.shape and float((ours - ref).abs().mean()) < 0.02


def test_missing_file_uses_the_model_size(tmp_path):
    pre = preprocess_from_hf_folder(tmp_path, CLIP_PROCESSOR, 48)
    assert (pre.geometry, pre.size, pre.resize) == ("shortest_crop", 48, 48)
    sig = preprocess_from_hf_folder(tmp_path, SIGLIP_PROCESSOR, 48)
    assert (sig.geometry, sig.size, sig.mean) == ("square", 48, (0.5, 0.5, 0.5))


@pytest.mark.parametrize(
    "defaults, cfg, match",
    [
        (SIGLIP_PROCESSOR, {"size": 32}, "non-square"),  # transformers: 32 x 44 from 40 x 56
        (CLIP_PROCESSOR, {"size": 40, "do_center_crop": False}, "non-square"),
        (CLIP_PROCESSOR, {"size": 40, "crop_size": {"height": 32, "width": 30}}, "not square"),
        (CLIP_PROCESSOR, {"size": 30, "crop_size": 32}, "larger than"),
        (CLIP_PROCESSOR, {"size": 40, "crop_size": 32, "resample": 1}, "resample"),
        (CLIP_PROCESSOR, {"do_resize": False}, "do_resize"),
        (CLIP_PROCESSOR, {"rescale_factor": 1.0}, "rescal"),
        (CLIP_PROCESSOR, {"size": {"shortest_edge": 32, "longest_edge": 64}}, "not supported"),
        (CLIP_PROCESSOR, {"size": 40, "crop_size": 32, "image_mean": [0.5, 0.5]}, "image_mean"),
    ],
)
def test_unreproducible_settings_are_refused(tmp_path, defaults, cfg, match):
    with pytest.raises(ValueError, match=match):
        preprocess_from_config(cfg, defaults)
    (tmp_path / "preprocessor_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="preprocessor_config.json"):
        preprocess_from_hf_folder(tmp_path, defaults, 32)
