"""HPSv2 on tiny open_clip-format checkpoints with the upstream key names."""

from __future__ import annotations

import sys

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

from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402
from flowsearch.verifiers.hps import MODEL_ID, TOKENIZER_ID, HPSv2, load_hps  # noqa: E402
from flowsearch.verifiers.openclip_model import VIT_H_14, OpenCLIP  # noqa: E402

PROMPTS = ["a photo of a cat", "the red car", "a dog"]


@pytest.fixture(scope="module")
def hps_dir(tmp_path_factory):
    return tiny.make_tiny_hps(tmp_path_factory.mktemp("hps"), seed=1)


@pytest.fixture(scope="module")
def hps(hps_dir):
    folder, cfg = hps_dir
    return load_hps(folder, config=cfg, batch_size=2)


def test_contract(hps):
    assert isinstance(hps, HPSv2) and hps.differentiable and hps.input_size == 28
    images = random_images(3, 40, 70)
    check_contract(hps, images, PROMPTS)


def test_bfloat16_close_to_float32(hps_dir):
    folder, cfg = hps_dir
    images = random_images(2)
    a = load_hps(folder, config=cfg)(images, PROMPTS[:2])
    b = load_hps(folder, config=cfg, dtype=torch.bfloat16)(images, PROMPTS[:2])
    assert b.dtype == torch.float32
    assert float((a - b).abs().max()) < 0.05


def test_real_key_names():
    """The ViT-H-14 model has exactly open_clip's keys and shapes (spot checks + count)."""
    with torch.device("meta"):
        sd = OpenCLIP(VIT_H_14).state_dict()
    shapes = {
        "visual.conv1.weight": (1280, 3, 14, 14),
        "visual.class_embedding": (1280,),
        "visual.positional_embedding": (257, 1280),
        "visual.proj": (1280, 1024),
        "visual.transformer.resblocks.31.attn.in_proj_weight": (3840, 1280),
        "visual.transformer.resblocks.31.mlp.c_fc.weight": (5120, 1280),
        "token_embedding.weight": (49408, 1024),
        "positional_embedding": (77, 1024),
        "transformer.resblocks.23.attn.out_proj.weight": (1024, 1024),
        "ln_final.weight": (1024,),
        "text_projection": (1024, 1024),
        "logit_scale": (),
    }
    for key, shape in shapes.items():
        assert tuple(sd[key].shape) == shape, key
    # 12 tensors per block (32 + 24 blocks), 8 other vision, 6 other text/top-level
    assert len(sd) == 12 * (32 + 24) + 8 + 6
    assert sum(v.numel() for v in sd.values()) == pytest.approx(986e6, rel=0.01)


def _reference_openclip(state, cfg, ids, pixels):
    """open_clip's forward written with nn.MultiheadAttention in LND layout, as upstream."""

    def block(prefix, x, width, heads, mask=None):
        attn = nn.MultiheadAttention(width, heads)
        attn.load_state_dict(
            {k[len(prefix) + 5 :]: v for k, v in state.items() if k.startswith(prefix + "attn.")}
        )
        ln = lambda name, y: nn.functional.layer_norm(  # noqa: E731
            y, (width,), state[prefix + name + ".weight"], state[prefix + name + ".bias"]
        )
        h = ln("ln_1", x)
        x = x + attn(h, h, h, need_weights=False, attn_mask=mask)[0]
        h = nn.functional.linear(
            ln("ln_2", x), state[prefix + "mlp.c_fc.weight"], state[prefix + "mlp.c_fc.bias"]
        )
        h = nn.functional.gelu(h)
        return x + nn.functional.linear(
            h, state[prefix + "mlp.c_proj.weight"], state[prefix + "mlp.c_proj.bias"]
        )

    def ln(name, y, width):
        return nn.functional.layer_norm(y, (width,), state[name + ".weight"], state[name + ".bias"])

    w = cfg.vision_width
    x = nn.functional.conv2d(pixels, state["visual.conv1.weight"], stride=cfg.patch_size)
    x = x.reshape(x.shape[0], w, -1).permute(0, 2, 1)
    cls = state["visual.class_embedding"] + torch.zeros(x.shape[0], 1, w)
    x = torch.cat([cls, x], 1) + state["visual.positional_embedding"]
    x = ln("visual.ln_pre", x, w).permute(1, 0, 2)
    for i in range(cfg.vision_layers):
        x = block(f"visual.transformer.resblocks.{i}.", x, w, cfg.vision_heads)
    img = ln("visual.ln_post", x.permute(1, 0, 2)[:, 0], w) @ state["visual.proj"]
    t = cfg.text_width
    mask = torch.empty(cfg.context_length, cfg.context_length).fill_(float("-inf")).triu_(1)
    x = (
        nn.functional.embedding(ids, state["token_embedding.weight"])
        + state["positional_embedding"]
    ).permute(1, 0, 2)
    for i in range(cfg.text_layers):
        x = block(f"transformer.resblocks.{i}.", x, t, cfg.text_heads, mask)
    x = ln("ln_final", x.permute(1, 0, 2), t)
    txt = x[torch.arange(x.shape[0]), ids.argmax(dim=-1)] @ state["text_projection"]
    img, txt = nn.functional.normalize(img, dim=-1), nn.functional.normalize(txt, dim=-1)
    return (img * txt).sum(-1)


def test_matches_reference_open_clip_forward(hps, hps_dir):
    folder, cfg = hps_dir
    state = {
        k: v.float()
        for k, v in torch.load(folder / "HPS_v2.1_compressed.pt", weights_only=True)[
            "state_dict"
        ].items()
    }
    images = random_images(3, 28, 28, seed=5)  # already at the input size: no resampling
    ids, _ = hps.tokenize(PROMPTS)
    pixels = hps.preprocess(images, device="cpu", dtype=torch.float32)
    with torch.no_grad():
        expected = _reference_openclip(state, cfg, ids, pixels)
    torch.testing.assert_close(hps(images, PROMPTS), expected, atol=1e-4, rtol=1e-4)


def test_tokenization_follows_open_clip(hps):
    ids, eot = hps.tokenize(["a cat", "cat " * 200])
    sot, eos = hps.tokenizer.bos_token_id, hps.tokenizer.eos_token_id
    assert ids.shape == (2, 77) and ids.dtype == torch.long
    assert ids[0, 0] == sot and ids[0, eot[0]] == eos and bool((ids[0, eot[0] + 1 :] == 0).all())
    assert eot[1] == 76 and ids[1, 76] == eos  # truncated, end token kept
    assert bool((ids.argmax(dim=-1) == eot).all())  # open_clip pools at argmax(ids)


def test_longest_side_resize_and_zero_pad(hps):
    """A 28x14 black/white image keeps its aspect and is padded with pixel value 0."""
    img = torch.ones(1, 28, 14, 3)
    x = hps.preprocess(img, device="cpu", dtype=torch.float32)
    mean = torch.tensor([0.48145466, 0.4578275, 0.40821073]).view(3, 1, 1)
    std = torch.tensor([0.26862954, 0.26130258, 0.27577711]).view(3, 1, 1)
    pixel = x[0] * std + mean
    torch.testing.assert_close(pixel[:, :, 7:21], torch.ones(3, 28, 14))
    torch.testing.assert_close(pixel[:, :, :7], torch.zeros(3, 28, 7), atol=1e-6, rtol=0)
    torch.testing.assert_close(pixel[:, :, 21:], torch.zeros(3, 28, 7), atol=1e-6, rtol=0)


def test_safetensors_and_module_prefix_load_the_same(hps_dir, tmp_path):
    from safetensors.torch import save_file

    folder, cfg = hps_dir
    state = torch.load(folder / "HPS_v2.1_compressed.pt", weights_only=True)["state_dict"]
    st = tmp_path / "st"
    st.mkdir()
    save_file(state, str(st / "HPS_v2.1_compressed.safetensors"))
    ddp = tmp_path / "HPS_v2_compressed.pt"
    torch.save({"state_dict": {"module." + k: v for k, v in state.items()}, "epoch": 3}, ddp)
    images = random_images(2)
    ref = load_hps(folder, config=cfg)(images, "a cat")
    a = load_hps(st, config=cfg, tokenizer_path=folder / "tokenizer")(images, "a cat")
    b = load_hps(ddp, config=cfg, tokenizer_path=folder / "tokenizer")(images, "a cat")
    torch.testing.assert_close(a, ref)
    torch.testing.assert_close(b, ref)


def test_architecture_mismatch_is_a_clear_error(hps_dir, tmp_path):
    folder, cfg = hps_dir
    with pytest.raises(ValueError, match="wrong shape"):
        load_hps(folder)  # tiny file against the default ViT-H-14 config
    state = torch.load(folder / "HPS_v2.1_compressed.pt", weights_only=True)["state_dict"]
    del state["visual.proj"]
    torch.save({"state_dict": state}, tmp_path / "broken.pt")
    with pytest.raises(ValueError, match=r"missing tensor(?s:.*)visual\.proj: \[32, 16\]"):
        load_hps(tmp_path / "broken.pt", config=cfg, tokenizer_path=folder / "tokenizer")


def test_pickle_with_code_is_refused(hps_dir, tmp_path):
    folder, cfg = hps_dir
    torch.save({"state_dict": {}, "bad": nn.Linear(2, 2)}, tmp_path / "HPS_v2.1_compressed.pt")
    with pytest.raises(Exception, match="(?i)weights.only|unsupported|global"):
        load_hps(tmp_path, config=cfg, tokenizer_path=folder / "tokenizer")


def test_missing_transformers_fails_before_reading_weights(hps_dir, monkeypatch):
    from flowsearch.verifiers.files import MissingDependencyError

    folder, cfg = hps_dir
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependencyError, match=r"flowsearch\[verifiers\]"):
        load_hps(folder, config=cfg)


def test_missing_files(tmp_path, hps_dir):
    folder, cfg = hps_dir
    check_missing_weights(load_hps, tmp_path / "hpsv2", MODEL_ID, "hpsv2")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingWeightsError, match="HPS_v2.1_compressed.pt.*models/verifiers/hpsv2"):
        load_hps(tmp_path / "empty")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "HPS_v2.1_compressed.pt").write_bytes((folder / "HPS_v2.1_compressed.pt").read_bytes())
    with pytest.raises(MissingWeightsError) as info:
        load_hps(lone, config=cfg)
    assert TOKENIZER_ID in str(info.value) and str(lone / "tokenizer") in str(info.value)
