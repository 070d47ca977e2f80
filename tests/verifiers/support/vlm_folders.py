"""Tiny random models of real architectures, saved the way a user's folder looks.

Everything is built locally (no download): tokenizers are trained on a few sentences with the
``tokenizers`` library, models are built from small configs of the real architectures and
written with ``save_pretrained``; the verifiers then load them through their normal loaders.
Shared by the VQAScore / VLM-grader / counting tests (kept out of conftest.py on purpose);
the tokenizers live in `tiny_tokenizers.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from .tiny_tokenizers import (
    bert_like_tokenizer,
    byte_bpe_tokenizer,
    clip_like_tokenizer,
    t5_like_tokenizer,
)

#: Minimal chat templates with the same structure as the real ones (Qwen ChatML).
QWEN_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% else %}{{ c['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
OV_TEMPLATE = QWEN_TEMPLATE.replace("<|vision_start|><|image_pad|><|vision_end|>", "<image>\n")


def random_images(batch: int, height: int = 48, width: int = 64, seed: int = 0) -> torch.Tensor:
    """``[B, H, W, 3]`` uniform images in [0, 1] from a seeded generator."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, height, width, 3, generator=g)


def _seeded_model(cls, config, seed: int):
    """Build ``cls(config)`` and redraw every weight matrix with std ``1/sqrt(fan_in)`` from a
    seeded generator: transformers' default init (std 0.02) makes tiny models output almost
    uniform distributions, which would hide bugs that mix up images or prompts."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = cls(config).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / fan_in**0.5)
    return model


def save_tiny_qwen25_vl(folder: Path, seed: int = 0) -> Path:
    """Qwen2.5-VL layout: config.json, model.safetensors, tokenizer, preprocessor, chat template."""
    from transformers import (
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2VLImageProcessorPil,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>"]
    tok = byte_bpe_tokenizer(
        specials + ["<|image_pad|>", "<|video_pad|>"], eos="<|im_end|>", pad="<|endoftext|>"
    )
    ids = tok.convert_tokens_to_ids
    vision = dict(
        depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=32,
        fullatt_block_indexes=[1], window_size=56, patch_size=14, spatial_merge_size=2,
        temporal_patch_size=2,
    )  # fmt: skip
    text = dict(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=1024,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        bos_token_id=None, eos_token_id=ids("<|im_end|>"), pad_token_id=ids("<|endoftext|>"),
    )  # fmt: skip
    config = Qwen2_5_VLConfig(
        vision_config=vision,
        text_config=text,
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
    )
    _seeded_model(Qwen2_5_VLForConditionalGeneration, config, seed).save_pretrained(folder)
    tok.save_pretrained(folder)
    Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112).save_pretrained(folder)
    (Path(folder) / "chat_template.jinja").write_text(QWEN_TEMPLATE, encoding="utf-8")
    return Path(folder)


def save_tiny_llava_onevision(folder: Path, seed: int = 0) -> Path:
    """LLaVA-OneVision (llava-hf) layout, incl. processor_config.json and anyres pinpoints."""
    from transformers import (
        LlavaOnevisionConfig,
        LlavaOnevisionForConditionalGeneration,
        LlavaOnevisionImageProcessorPil,
    )

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"]
    tok = byte_bpe_tokenizer(specials, eos="<|im_end|>", pad="<|endoftext|>")
    ids = tok.convert_tokens_to_ids
    pins = [[32, 32], [32, 64], [64, 32], [64, 64]]
    vision = dict(
        model_type="siglip_vision_model", hidden_size=32, intermediate_size=37,
        num_hidden_layers=1, num_attention_heads=2, image_size=32, patch_size=8,
        vision_use_head=False,
    )  # fmt: skip
    text = dict(
        model_type="qwen2", vocab_size=len(tok), hidden_size=32, intermediate_size=37,
        num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
        max_position_embeddings=2048, eos_token_id=ids("<|im_end|>"), pad_token_id=ids("<|endoftext|>"),
    )  # fmt: skip
    config = LlavaOnevisionConfig(
        vision_config=vision,
        text_config=text,
        image_token_index=ids("<image>"),
        video_token_index=ids("<video>"),
        image_grid_pinpoints=pins,
        vision_feature_select_strategy="full",
        vision_feature_layer=-1,
    )
    _seeded_model(LlavaOnevisionForConditionalGeneration, config, seed).save_pretrained(folder)
    tok.save_pretrained(folder)
    LlavaOnevisionImageProcessorPil(
        size={"height": 32, "width": 32}, image_grid_pinpoints=pins
    ).save_pretrained(folder)
    (Path(folder) / "chat_template.jinja").write_text(OV_TEMPLATE, encoding="utf-8")
    processor_config = {
        "processor_class": "LlavaOnevisionProcessor",
        "image_token": "<image>",
        "video_token": "<video>",
        "num_image_tokens": 16,
        "vision_feature_select_strategy": "full",
        "vision_aspect_ratio": "anyres_max_9",
    }
    (Path(folder) / "processor_config.json").write_text(
        json.dumps(processor_config), encoding="utf-8"
    )
    return Path(folder)


def save_tiny_owlv2(folder: Path, seed: int = 0) -> Path:
    """OWLv2 (google/owlv2-*) layout: CLIP-style tokenizer, Owlv2 image processor (pad to square)."""
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessorPil

    tok = clip_like_tokenizer()
    text = dict(
        vocab_size=len(tok), hidden_size=32, intermediate_size=37, num_hidden_layers=1,
        num_attention_heads=2, max_position_embeddings=16, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    vision = dict(
        hidden_size=32, intermediate_size=37, num_hidden_layers=1, num_attention_heads=2,
        image_size=64, patch_size=16,
    )  # fmt: skip
    config = Owlv2Config(text_config=text, vision_config=vision, projection_dim=32)
    _seeded_model(Owlv2ForObjectDetection, config, seed).save_pretrained(folder)
    tok.save_pretrained(folder)
    Owlv2ImageProcessorPil(size={"height": 64, "width": 64}).save_pretrained(folder)
    return Path(folder)


def save_tiny_grounding_dino(folder: Path, seed: int = 0) -> Path:
    """Grounding DINO (IDEA-Research/grounding-dino-*) layout: Swin backbone + BERT text encoder."""
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
    )

    tok = bert_like_tokenizer()
    backbone = dict(
        model_type="swin", window_size=4, embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1],
        image_size=64, out_features=["stage2", "stage3", "stage4"], out_indices=[2, 3, 4],
    )  # fmt: skip
    text = dict(
        model_type="bert", vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=37, max_position_embeddings=64,
    )  # fmt: skip
    config = GroundingDinoConfig(
        backbone_config=backbone, text_config=text, d_model=32, encoder_layers=1, decoder_layers=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, encoder_attention_heads=2, decoder_attention_heads=2,
        num_queries=12, num_feature_levels=4, encoder_n_points=2, decoder_n_points=2,
        max_text_len=32, fusion_droppath=0.0,
    )  # fmt: skip
    _seeded_model(GroundingDinoForObjectDetection, config, seed).save_pretrained(folder)
    tok.save_pretrained(folder)
    GroundingDinoImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96}).save_pretrained(
        folder
    )
    return Path(folder)


def save_tiny_instructblip_t5(folder: Path, seed: int = 0) -> Path:
    """InstructBLIP + Flan-T5 (Salesforce/instructblip-flan-t5-*) layout, written by the
    processor's own save_pretrained (``qformer_tokenizer/`` subfolder, processor_config.json)."""
    from transformers import (
        BlipImageProcessorPil,
        InstructBlipConfig,
        InstructBlipForConditionalGeneration,
        InstructBlipProcessor,
    )

    tok, qtok = t5_like_tokenizer(), bert_like_tokenizer()
    processor = InstructBlipProcessor(
        image_processor=BlipImageProcessorPil(size={"height": 32, "width": 32}),
        tokenizer=tok,  # the processor adds its "<image>" token to this tokenizer
        qformer_tokenizer=qtok,
        num_query_tokens=4,
    )
    vision = dict(
        hidden_size=32,
        intermediate_size=37,
        num_hidden_layers=1,
        num_attention_heads=2,
        image_size=32,
        patch_size=8,
    )
    qformer = dict(
        vocab_size=len(qtok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, max_position_embeddings=64, encoder_hidden_size=32,
        cross_attention_frequency=1,
    )  # fmt: skip
    text = dict(
        model_type="t5", vocab_size=len(tok), d_model=32, d_kv=16, d_ff=37, num_layers=1,
        num_decoder_layers=1, num_heads=2, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0,
    )  # fmt: skip
    config = InstructBlipConfig(
        vision_config=vision,
        qformer_config=qformer,
        text_config=text,
        num_query_tokens=4,
        image_token_index=tok.convert_tokens_to_ids("<image>"),
    )
    _seeded_model(InstructBlipForConditionalGeneration, config, seed).save_pretrained(folder)
    processor.save_pretrained(folder)
    return Path(folder)
