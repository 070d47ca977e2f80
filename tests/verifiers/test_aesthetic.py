"""LAION aesthetic v2 on a tiny CLIP folder and tiny heads in the public .pth layout."""

from __future__ import annotations

import re
from collections import OrderedDict

import pytest
import torch
from torch import nn

pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402
from support.contract import (  # noqa: E402
    check_contract,
    check_missing_weights,
    random_images,
)

from flowsearch.verifiers.aesthetic import (  # noqa: E402
    CLIP_ID,
    HEAD_ID,
    AestheticScore,
    convert_head_to_safetensors,
    load_aesthetic,
)
from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402
from flowsearch.verifiers.mlp_head import build_mlp_head  # noqa: E402

HEAD = "sac+logos+ava1-l14-linearMSE"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tiny.make_tiny_aesthetic(tmp_path_factory.mktemp("aesthetic"), seed=2)


def test_contract(folder):
    v = load_aesthetic(folder, batch_size=2)
    assert isinstance(v, AestheticScore) and v.differentiable and v.input_size == 32
    images = random_images(3, 48, 33)
    prompts = ["", "", ""]
    check_contract(v, images, prompts)
    torch.testing.assert_close(v(images, ["a", "b", "c"]), v(images))  # prompt is ignored


def test_pth_and_safetensors_heads_agree_and_match_the_formula(folder):
    images = random_images(3, seed=4)
    from_pth = load_aesthetic(folder / f"{HEAD}.pth", clip_path=folder / "clip-vit-large-patch14")
    from_st = load_aesthetic(
        folder / f"{HEAD}.safetensors", clip_path=folder / "clip-vit-large-patch14"
    )
    default = load_aesthetic(folder)  # the folder prefers the .safetensors
    a, b, c = from_pth(images), from_st(images), default(images)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, c)
    # score = head(e / |e|), with e the projected CLIP image embedding from CLIPModel.forward
    pixels = from_pth.preprocess(images, device="cpu", dtype=torch.float32)
    sd = torch.load(folder / f"{HEAD}.pth", weights_only=True)
    e = from_pth.clip.visual_projection(
        from_pth.clip.vision_model(pixel_values=pixels).pooler_output
    )
    x = e / e.norm(dim=-1, keepdim=True)
    for i in (0, 2, 4, 6, 7):  # linearMSE: no activations between the Linear layers
        x = nn.functional.linear(x, sd[f"layers.{i}.weight"], sd[f"layers.{i}.bias"])
    torch.testing.assert_close(a, x.squeeze(-1), atol=1e-5, rtol=1e-5)


def test_relu_head_layout_is_recognised():
    g = torch.Generator().manual_seed(0)
    widths = [16, 12, 8, 6, 4, 1]
    sd = OrderedDict()
    for idx, (i, o) in zip(
        [0, 3, 6, 9, 11], zip(widths[:-1], widths[1:], strict=True), strict=True
    ):
        sd[f"layers.{idx}.weight"] = torch.randn(o, i, generator=g)
        sd[f"layers.{idx}.bias"] = torch.randn(o, generator=g)
    head = build_mlp_head(sd)
    assert [type(m).__name__ for m in head] == [
        "Linear", "ReLU", "Identity", "Linear", "ReLU", "Identity", "Linear", "ReLU",
        "Identity", "Linear", "ReLU", "Linear",
    ]  # fmt: skip
    x = torch.randn(5, 16, generator=g)
    ref = x
    for n, idx in enumerate([0, 3, 6, 9, 11]):
        ref = nn.functional.linear(ref, sd[f"layers.{idx}.weight"], sd[f"layers.{idx}.bias"])
        ref = ref if n == 4 else ref.relu()
    torch.testing.assert_close(head(x), ref)


def test_unknown_head_layout_and_wrong_width(folder, tmp_path):
    with pytest.raises(ValueError, match="unknown MLP head layout"):
        build_mlp_head({"layers.1.weight": torch.zeros(1, 4), "layers.1.bias": torch.zeros(1)})
    g = torch.Generator().manual_seed(1)
    sd = {}
    for idx, (i, o) in zip([0, 2, 4, 6, 7], [(10, 8), (8, 6), (6, 4), (4, 2), (2, 1)], strict=True):
        sd[f"layers.{idx}.weight"] = torch.randn(o, i, generator=g)
        sd[f"layers.{idx}.bias"] = torch.randn(o, generator=g)
    torch.save(sd, tmp_path / "head.pth")
    with pytest.raises(ValueError, match=r"layers\.0\.weight: \[8, 16\] vs \[8, 10\]"):
        load_aesthetic(tmp_path / "head.pth", clip_path=folder / "clip-vit-large-patch14")


def test_convert_head_to_safetensors(folder, tmp_path):
    out = convert_head_to_safetensors(folder / f"{HEAD}.pth", tmp_path / "head.safetensors")
    from safetensors.torch import load_file

    a, b = load_file(str(out)), torch.load(folder / f"{HEAD}.pth", weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_missing_files(folder, tmp_path):
    check_missing_weights(load_aesthetic, tmp_path / "aesthetic", HEAD_ID, "aesthetic")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingWeightsError, match=re.escape(f"{HEAD}.pth")):
        load_aesthetic(tmp_path / "empty")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / f"{HEAD}.pth").write_bytes((folder / f"{HEAD}.pth").read_bytes())
    with pytest.raises(MissingWeightsError) as info:
        load_aesthetic(lone)
    msg = str(info.value)
    assert CLIP_ID in msg and "models/verifiers/aesthetic/clip-vit-large-patch14" in msg
