"""Tiny random reward models in the real on-disk formats, for tests (no downloads).

Each ``make_*`` writes a folder laid out like the public release a user downloads
(HF ``save_pretrained`` folders, open_clip / ImageReward state dicts with the upstream key
names, aesthetic heads as ``.pth`` and ``.safetensors``) with narrow widths, so the real
loaders read them through the same code path as the full-size files. Tokenizers are built
from tiny vocabularies written here. All weights come from an explicit ``torch.Generator``.
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import torch
from torch import nn

from flowsearch.verifiers.blip_model import BlipRewardConfig
from flowsearch.verifiers.openclip_model import OpenCLIP, OpenCLIPConfig

WORDS = ["a", "photo", "of", "cat", "dog", "red", "car", "the", "hello", "world", "astronaut"]


def init_params_(module: nn.Module, seed: int, std: float = 0.2) -> nn.Module:
    """Deterministic init: LayerNorm weights ``1 + N(0, 0.1)``, everything else ``N(0, std)``."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in module.modules():
            for name, p in mod.named_parameters(recurse=False):
                noise = torch.randn(p.shape, generator=g, dtype=torch.float32)
                is_gain = isinstance(mod, nn.LayerNorm) and name == "weight"
                p.copy_((1.0 + 0.1 * noise) if is_gain else std * noise)
    return module


def _bytes_to_unicode() -> list[str]:
    """The 256 printable stand-ins for bytes used by the CLIP BPE (GPT-2 scheme)."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    keep += list(range(ord("®"), ord("ÿ") + 1))
    chars, extra = keep[:], 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return [chr(c) for c in chars]


def write_clip_bpe(folder: Path) -> int:
    """Write a tiny CLIP BPE (``vocab.json``, ``merges.txt``); returns the vocab size.

    Byte symbols and their ``</w>`` forms, a few merges, then ``<|startoftext|>`` and
    ``<|endoftext|>`` as the two highest ids, like the real 49408-token vocabulary.
    """
    folder.mkdir(parents=True, exist_ok=True)
    chars = _bytes_to_unicode()
    merges = [("c", "a"), ("ca", "t</w>"), ("t", "h"), ("th", "e</w>"), ("o", "f</w>")]
    vocab = chars + [c + "</w>" for c in chars] + ["".join(m) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}), "utf-8")
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", "utf-8")
    return len(vocab)


def make_tiny_clip(folder: Path, seed: int = 0, image_size: int = 32) -> Path:
    """A HF ``CLIPModel`` folder (config, safetensors, tokenizer, preprocessor config)."""
    import transformers

    vocab = write_clip_bpe(folder)
    tok = transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    text = dict(
        vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=77, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip
    vision = dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        image_size=image_size, patch_size=8,
    )  # fmt: skip
    cfg = transformers.CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)
    model = init_params_(transformers.CLIPModel(cfg).eval(), seed)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(100.0))
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    pre = {
        "size": {"shortest_edge": image_size},
        "crop_size": {"height": image_size, "width": image_size},
        "do_center_crop": True,
        "resample": 3,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(pre), "utf-8")
    return folder


def make_tiny_siglip(folder: Path, seed: int = 0) -> Path:
    """A HF ``SiglipModel`` folder with a tiny trained SentencePiece tokenizer."""
    import sentencepiece as spm
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    sentences = [" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 4
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_writer=buf, vocab_size=48, model_type="unigram",
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2,
    )  # fmt: skip
    (folder / "spiece.model").write_bytes(buf.getvalue())
    tok = transformers.SiglipTokenizer(str(folder / "spiece.model"))
    text = dict(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=16,
    )  # fmt: skip
    vision = dict(
        hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        image_size=32, patch_size=8,
    )  # fmt: skip
    cfg = transformers.SiglipConfig(text_config=text, vision_config=vision)
    model = init_params_(transformers.SiglipModel(cfg).eval(), seed)
    with torch.no_grad():
        model.logit_scale.fill_(math.log(10.0))
        model.logit_bias.fill_(-1.0)
    model.save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    pre = {
        "size": {"height": 32, "width": 32},
        "resample": 3,
        "image_mean": [0.5] * 3,
        "image_std": [0.5] * 3,
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(pre), "utf-8")
    return folder


def tiny_openclip_config(vocab_size: int) -> OpenCLIPConfig:
    """OpenCLIP ViT with ViT-H-14's patch size and context length, narrow and shallow."""
    return OpenCLIPConfig(
        embed_dim=16, image_size=28, patch_size=14, vision_width=32, vision_layers=2,
        vision_heads=2, context_length=77, vocab_size=vocab_size, text_width=32, text_heads=2,
        text_layers=2,
    )  # fmt: skip


def make_tiny_hps(folder: Path, seed: int = 0, fmt: str = "pt") -> tuple[Path, OpenCLIPConfig]:
    """``folder/HPS_v2.1_compressed.{pt,safetensors}`` (fp16, upstream keys) + ``tokenizer/``."""
    vocab = write_clip_bpe(folder / "tokenizer")
    cfg = tiny_openclip_config(vocab)
    model = init_params_(OpenCLIP(cfg), seed)
    state = {k: v.half() for k, v in model.state_dict().items()}
    if fmt == "pt":
        torch.save({"state_dict": state}, folder / "HPS_v2.1_compressed.pt")
    else:
        from safetensors.torch import save_file

        save_file(state, str(folder / "HPS_v2.1_compressed.safetensors"))
    return folder, cfg


def _linear_head_state(widths: list[int], seed: int, prefix: str) -> dict[str, torch.Tensor]:
    """Linear layers at indices 0, 2, 4, 6, 7 (the linearMSE / ImageReward layout)."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for idx, (i, o) in zip([0, 2, 4, 6, 7], zip(widths[:-1], widths[1:], strict=True), strict=True):
        state[f"{prefix}{idx}.weight"] = torch.randn(o, i, generator=g) / math.sqrt(i)
        state[f"{prefix}{idx}.bias"] = 0.1 * torch.randn(o, generator=g)
    return state


def make_tiny_aesthetic(folder: Path, seed: int = 0) -> Path:
    """``folder/`` with the head as ``.pth`` and ``.safetensors`` and ``clip-vit-large-patch14/``."""
    from collections import OrderedDict

    from safetensors.torch import save_file

    make_tiny_clip(folder / "clip-vit-large-patch14", seed=seed)
    state = _linear_head_state([16, 24, 16, 8, 4, 1], seed + 1, "layers.")
    torch.save(OrderedDict(state), folder / "sac+logos+ava1-l14-linearMSE.pth")
    save_file(state, str(folder / "sac+logos+ava1-l14-linearMSE.safetensors"))
    return folder


def write_bert_vocab(folder: Path) -> int:
    """A tiny ``bert-base-uncased``-style ``vocab.txt``; returns its size."""
    folder.mkdir(parents=True, exist_ok=True)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    vocab = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters
    vocab += ["##" + c for c in letters] + WORDS[1:] + [",", ".", "!"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", "utf-8")
    return len(vocab)


def tiny_blip_config(vocab_size: int) -> BlipRewardConfig:
    """ImageReward's BLIP with its patch size, narrow and shallow."""
    return BlipRewardConfig(
        image_size=32, patch_size=16, vision_width=48, vision_layers=2, vision_heads=2,
        vocab_size=vocab_size, hidden_size=32, text_layers=2, text_heads=2,
        intermediate_size=64, max_position_embeddings=40,
    )  # fmt: skip


def make_tiny_image_reward(folder: Path, seed: int = 0) -> tuple[Path, BlipRewardConfig]:
    """``ImageReward.pt`` (upstream keys + the unused extras), ``med_config.json``, ``tokenizer/``."""
    from flowsearch.verifiers.blip_model import BlipCore

    cfg = tiny_blip_config(write_bert_vocab(folder / "tokenizer") + 2)  # + [DEC], [ENC]
    core = init_params_(BlipCore(cfg), seed)
    state = {f"blip.{k}": v for k, v in core.state_dict().items()}
    state.update(_linear_head_state([cfg.hidden_size, 24, 16, 8, 4, 1], seed + 1, "mlp.layers."))
    g = torch.Generator().manual_seed(seed + 2)
    state["blip.text_encoder.embeddings.position_ids"] = torch.arange(cfg.max_position_embeddings)[
        None
    ]
    state["blip.vision_proj.weight"] = torch.randn(8, cfg.vision_width, generator=g)
    state["blip.text_proj.weight"] = torch.randn(8, cfg.hidden_size, generator=g)
    torch.save(state, folder / "ImageReward.pt")
    med = {
        "architectures": ["BertModel"], "hidden_act": "gelu", "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size, "layer_norm_eps": 1e-12,
        "max_position_embeddings": cfg.max_position_embeddings, "model_type": "bert",
        "num_attention_heads": cfg.text_heads, "num_hidden_layers": cfg.text_layers,
        "vocab_size": cfg.vocab_size, "encoder_width": 768, "add_cross_attention": True,
    }  # fmt: skip
    (folder / "med_config.json").write_text(json.dumps(med), "utf-8")
    return folder, cfg


#: Families whose tiny checkpoint loads through the registry with default options.
TINY_CHECKPOINTS = ("clip_score", "pickscore", "aesthetic")


def write_tiny_checkpoint(family: str, verifiers_dir: Path, seed: int = 0) -> Path:
    """Write a tiny loadable checkpoint of ``family`` into ``verifiers_dir/<family>/`` laid out
    as in ``docs/verifiers/<family>.md`` (``verifiers_dir`` plays ComfyUI's
    ``models/verifiers``); returns the path to pass as the ``path`` option.

    Defined for `TINY_CHECKPOINTS` (CLIP-based families, loadable with default options)."""
    root = Path(verifiers_dir) / family
    if family == "clip_score":
        return make_tiny_clip(root / "tiny-clip", seed=seed)
    if family == "pickscore":
        return make_tiny_clip(root, seed=seed)
    if family == "aesthetic":
        return make_tiny_aesthetic(root, seed=seed)
    raise ValueError(f"no tiny checkpoint for {family!r}; choose one of {TINY_CHECKPOINTS}")
