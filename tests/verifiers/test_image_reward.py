"""ImageReward on a tiny ImageReward.pt with the upstream key names.

The text and image encoders are checked against ``transformers``' own BLIP port
(``BlipTextModel`` / ``BlipVisionModel``, an independent implementation of the same
BLIP ``med.py`` BERT and ViT) loaded with the same tiny weights.
"""

from __future__ import annotations

import pytest
import torch

transformers = pytest.importorskip("transformers")

from support import tiny_models as tiny  # noqa: E402
from support.contract import (  # noqa: E402
    check_contract,
    check_missing_weights,
    random_images,
)

from flowsearch.verifiers.blip_model import BlipRewardConfig  # noqa: E402
from flowsearch.verifiers.files import MissingWeightsError  # noqa: E402
from flowsearch.verifiers.image_reward import (  # noqa: E402
    MODEL_ID,
    REWARD_MEAN,
    REWARD_STD,
    TOKENIZER_ID,
    ImageReward,
    load_image_reward,
)

PROMPTS = ["a photo of a cat", "the red car", "hello world"]


@pytest.fixture(scope="module")
def ir_dir(tmp_path_factory):
    return tiny.make_tiny_image_reward(tmp_path_factory.mktemp("image_reward"), seed=5)


@pytest.fixture(scope="module")
def ir(ir_dir):
    folder, cfg = ir_dir
    return load_image_reward(folder, config=cfg, batch_size=2)


def test_contract(ir):
    assert isinstance(ir, ImageReward) and ir.differentiable and ir.input_size == 32
    images = random_images(3, 50, 37)
    check_contract(ir, images, PROMPTS)


def test_tokenization(ir):
    ids, mask = ir.tokenize(["a photo of a cat", "cat " * 100])
    assert ids.shape == mask.shape == (2, 35)
    cls, sep = ir.tokenizer.cls_token_id, ir.tokenizer.sep_token_id
    assert ids[0, 0] == cls and ids[1, 0] == cls and ids[1, 34] == sep
    n = int(mask[0].sum())
    assert ids[0, n - 1] == sep and bool((ids[0, n:] == 0).all())


def _hf_text_model(state, cfg: BlipRewardConfig):
    tcfg = transformers.BlipTextConfig(
        vocab_size=cfg.vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.text_layers,
        num_attention_heads=cfg.text_heads, intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_position_embeddings, encoder_hidden_size=cfg.vision_width,
        layer_norm_eps=cfg.layer_norm_eps, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, is_decoder=True,  # builds the cross-attention layers
    )  # fmt: skip
    from transformers.models.blip.modeling_blip_text import BlipTextModel

    model = BlipTextModel(tcfg, add_pooling_layer=False).eval()
    pre = "blip.text_encoder."
    sub = {
        k[len(pre) :]: v for k, v in state.items() if k.startswith(pre) and "position_ids" not in k
    }
    missing, unexpected = model.load_state_dict(sub, strict=False)
    assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
    return model


def _hf_vision_model(state, cfg: BlipRewardConfig):
    vcfg = transformers.BlipVisionConfig(
        hidden_size=cfg.vision_width, intermediate_size=4 * cfg.vision_width,
        num_hidden_layers=cfg.vision_layers, num_attention_heads=cfg.vision_heads,
        image_size=cfg.image_size, patch_size=cfg.patch_size, layer_norm_eps=1e-6,
        hidden_act="gelu",
    )  # fmt: skip
    model = transformers.BlipVisionModel(vcfg).eval()
    pre = "blip.visual_encoder."
    rename = {  # BLIP -> transformers names (as in transformers' BLIP conversion)
        "cls_token": "embeddings.class_embedding",
        "pos_embed": "embeddings.position_embedding",
        "patch_embed.proj": "embeddings.patch_embedding",
        "blocks.": "encoder.layers.",
        "attn.proj": "self_attn.projection",
        "attn.qkv": "self_attn.qkv",
        "norm1": "layer_norm1",
        "norm2": "layer_norm2",
    }
    sub = {}
    for k, v in state.items():
        if not k.startswith(pre):
            continue
        k = k[len(pre) :]
        for a, b in rename.items():
            k = k.replace(a, b)
        sub["post_layernorm" + k[4:] if k.startswith("norm.") else k] = v
    model.load_state_dict(sub, strict=True)
    return model


def test_matches_transformers_blip_port(ir, ir_dir):
    folder, cfg = ir_dir
    state = torch.load(folder / "ImageReward.pt", weights_only=True)
    images = random_images(3, 32, 32, seed=9)
    pixels = ir.preprocess(images, device="cpu", dtype=torch.float32)
    ids, mask = ir.tokenize(PROMPTS)
    with torch.no_grad():
        img_tokens = _hf_vision_model(state, cfg)(pixel_values=pixels).last_hidden_state
        ours_tokens = ir.model.blip.visual_encoder(pixels)
        torch.testing.assert_close(ours_tokens, img_tokens, atol=1e-4, rtol=1e-4)
        hidden = _hf_text_model(state, cfg)(
            input_ids=ids,
            attention_mask=mask,
            encoder_hidden_states=img_tokens,
            is_decoder=False,  # bidirectional self-attention, as BLIP's ITM/ImageReward encoder
            return_dict=True,
        ).last_hidden_state
        ours_hidden = ir.model.blip.text_encoder(ids, mask, ours_tokens)
        torch.testing.assert_close(ours_hidden[:, 0], hidden[:, 0], atol=1e-4, rtol=1e-4)
        x = hidden[:, 0]
        for i in (0, 2, 4, 6, 7):
            x = torch.nn.functional.linear(
                x, state[f"mlp.layers.{i}.weight"], state[f"mlp.layers.{i}.bias"]
            )
    expected = (x.squeeze(-1) - REWARD_MEAN) / REWARD_STD
    torch.testing.assert_close(ir(images, PROMPTS), expected, atol=1e-4, rtol=1e-4)


def test_med_config_is_read(ir_dir):
    folder, cfg = ir_dir
    read = BlipRewardConfig.from_med_config(folder / "med_config.json")
    assert (read.hidden_size, read.text_layers, read.vocab_size) == (32, 2, cfg.vocab_size)
    assert read.vision_width == BlipRewardConfig().vision_width == 1024  # vision side: ViT-L
    assert BlipRewardConfig() == BlipRewardConfig.from_med_config(_public_med_config(folder))


def _public_med_config(tmp):
    """The public med_config.json numbers (THUDM/ImageReward)."""
    import json

    path = tmp / "public_med_config.json"
    cfg = {
        "hidden_size": 768, "intermediate_size": 3072, "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512, "num_attention_heads": 12, "num_hidden_layers": 12,
        "vocab_size": 30524, "encoder_width": 768, "add_cross_attention": True,
    }  # fmt: skip
    path.write_text(json.dumps(cfg))
    return path


def test_bfloat16_close_to_float32(ir_dir):
    folder, cfg = ir_dir
    images = random_images(2)
    a = load_image_reward(folder, config=cfg)(images, PROMPTS[:2])
    b = load_image_reward(folder, config=cfg, dtype=torch.bfloat16)(images, PROMPTS[:2])
    assert float((a - b).abs().max()) < 0.1 * max(1.0, float(a.abs().max()))


def test_safetensors_checkpoint_loads_the_same(ir_dir, tmp_path):
    from safetensors.torch import save_file

    folder, cfg = ir_dir
    state = torch.load(folder / "ImageReward.pt", weights_only=True)
    save_file(
        {k: v.contiguous() for k, v in state.items()}, str(tmp_path / "ImageReward.safetensors")
    )
    images = random_images(2)
    a = load_image_reward(folder, config=cfg)(images, "a cat")
    b = load_image_reward(tmp_path, config=cfg, tokenizer_path=folder / "tokenizer")(
        images, "a cat"
    )
    torch.testing.assert_close(a, b)


def test_missing_files(ir_dir, tmp_path):
    folder, cfg = ir_dir
    check_missing_weights(load_image_reward, tmp_path / "image_reward", MODEL_ID, "image_reward")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingWeightsError, match="ImageReward.pt"):
        load_image_reward(tmp_path / "empty")
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "ImageReward.pt").write_bytes((folder / "ImageReward.pt").read_bytes())
    with pytest.raises(MissingWeightsError) as info:
        load_image_reward(lone, config=cfg)
    assert TOKENIZER_ID in str(info.value) and "image_reward/tokenizer" in str(info.value)
