"""Plain-torch BLIP image encoder and cross-attention BERT, with ImageReward's key names.

ImageReward (THUDM) scores ``mlp(text_encoder(prompt, cross-attending to ViT(image))[:, 0])``.
Its ``ImageReward.pt`` is a flat state dict of the upstream ``ImageReward`` module; the keys
this module reads (all others, e.g. ``blip.vision_proj``, ``blip.text_proj`` and the
``embeddings.position_ids`` buffer, are ignored) ::

    blip.visual_encoder.cls_token [1, 1, Wv]; pos_embed [1, (S/P)^2 + 1, Wv]
    blip.visual_encoder.patch_embed.proj.{weight [Wv, 3, P, P], bias}
    blip.visual_encoder.blocks.N.{norm1, attn.qkv [3Wv, Wv], attn.proj, norm2, mlp.fc1, mlp.fc2}
    blip.visual_encoder.norm                                          (LayerNorm eps 1e-6)
    blip.text_encoder.embeddings.{word_embeddings [V, H], position_embeddings [512, H], LayerNorm}
    blip.text_encoder.encoder.layer.N.attention.self.{query,key,value}
    blip.text_encoder.encoder.layer.N.attention.output.{dense, LayerNorm}
    blip.text_encoder.encoder.layer.N.crossattention.self.{query [H, H], key/value [H, Wv]}
    blip.text_encoder.encoder.layer.N.crossattention.output.{dense, LayerNorm}
    blip.text_encoder.encoder.layer.N.{intermediate.dense, output.dense, output.LayerNorm}
    mlp.layers.{0,2,4,6,7}.{weight,bias}                             (768→1024→128→64→16→1)

The ViT is pre-LN (timm style); the BERT is post-LN (``LayerNorm(x + sublayer(x))``, eps
1e-12) with exact GELU, absolute positions and no token-type embeddings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class BlipRewardConfig:
    """Numbers of ImageReward's BLIP: ``vit='large'`` at 224 px and ``med_config.json``."""

    image_size: int = 224
    patch_size: int = 16
    vision_width: int = 1024
    vision_layers: int = 24
    vision_heads: int = 16
    vocab_size: int = 30524
    hidden_size: int = 768
    text_layers: int = 12
    text_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    layer_norm_eps: float = 1e-12

    @classmethod
    def from_med_config(cls, path: str | Path, base: BlipRewardConfig | None = None):
        """Text-side numbers from ImageReward's ``med_config.json`` (vision side from ``base``)."""
        cfg = json.loads(Path(path).read_text(encoding="utf-8"))
        return replace(
            base or cls(),
            vocab_size=int(cfg["vocab_size"]),
            hidden_size=int(cfg["hidden_size"]),
            text_layers=int(cfg["num_hidden_layers"]),
            text_heads=int(cfg["num_attention_heads"]),
            intermediate_size=int(cfg["intermediate_size"]),
            max_position_embeddings=int(cfg["max_position_embeddings"]),
            layer_norm_eps=float(cfg.get("layer_norm_eps", 1e-12)),
        )


def _heads(x: torch.Tensor, n: int) -> torch.Tensor:
    b, t, w = x.shape
    return x.view(b, t, n, w // n).transpose(1, 2)


class VitAttention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        out = F.scaled_dot_product_attention(*(_heads(t, self.heads) for t in (q, k, v)))
        return self.proj(out.transpose(1, 2).flatten(2))


class VitMlp(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(width, 4 * width)
        self.fc2 = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


class VitBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = VitAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = VitMlp(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, width: int, patch: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, width, kernel_size=patch, stride=patch)


class BlipVisionEncoder(nn.Module):
    """BLIP ViT: ``[B, 3, S, S]`` normalised pixels -> all tokens ``[B, 1 + (S/P)^2, Wv]``."""

    def __init__(self, cfg: BlipRewardConfig) -> None:
        super().__init__()
        w, grid = cfg.vision_width, cfg.image_size // cfg.patch_size
        self.patch_embed = PatchEmbed(w, cfg.patch_size)
        self.cls_token = nn.Parameter(torch.empty(1, 1, w))
        self.pos_embed = nn.Parameter(torch.empty(1, grid * grid + 1, w))
        self.blocks = nn.ModuleList(VitBlock(w, cfg.vision_heads) for _ in range(cfg.vision_layers))
        self.norm = nn.LayerNorm(w, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embed[:, : x.shape[1]]
        for block in self.blocks:
            x = block(x)
        return self.norm(x)


class BertSelf(nn.Module):
    def __init__(self, hidden: int, kv_width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(kv_width, hidden)
        self.value = nn.Linear(kv_width, hidden)

    def forward(self, x: torch.Tensor, kv: torch.Tensor, mask: torch.Tensor | None):
        q, k, v = (_heads(t, self.heads) for t in (self.query(x), self.key(kv), self.value(kv)))
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask).transpose(1, 2).flatten(2)


class BertOutput(nn.Module):
    """``LayerNorm(dense(h) + residual)`` — BERT's post-LN sublayer output."""

    def __init__(self, in_width: int, hidden: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(in_width, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, h: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(h) + residual)


class BertAttention(nn.Module):
    def __init__(self, hidden: int, kv_width: int, heads: int, eps: float) -> None:
        super().__init__()
        self.self = BertSelf(hidden, kv_width, heads)
        self.output = BertOutput(hidden, hidden, eps)

    def forward(self, x: torch.Tensor, kv: torch.Tensor, mask: torch.Tensor | None):
        return self.output(self.self(x, kv, mask), x)


class Intermediate(nn.Module):
    def __init__(self, hidden: int, inner: int) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, inner)


class BertLayer(nn.Module):
    def __init__(self, cfg: BlipRewardConfig) -> None:
        super().__init__()
        h, eps = cfg.hidden_size, cfg.layer_norm_eps
        self.attention = BertAttention(h, h, cfg.text_heads, eps)
        self.crossattention = BertAttention(h, cfg.vision_width, cfg.text_heads, eps)
        self.intermediate = Intermediate(h, cfg.intermediate_size)
        self.output = BertOutput(cfg.intermediate_size, h, eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        x = self.attention(x, x, mask)
        x = self.crossattention(x, image, None)
        return self.output(F.gelu(self.intermediate.dense(x)), x)


class BertEmbeddings(nn.Module):
    def __init__(self, cfg: BlipRewardConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.position_embeddings = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.LayerNorm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        pos = torch.arange(ids.shape[1], device=ids.device)
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(pos))


class BertEncoder(nn.Module):
    def __init__(self, cfg: BlipRewardConfig) -> None:
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(cfg) for _ in range(cfg.text_layers))


class BlipTextEncoder(nn.Module):
    """BERT with cross-attention to image tokens (BLIP ``mode='multimodal'``)."""

    def __init__(self, cfg: BlipRewardConfig) -> None:
        super().__init__()
        self.embeddings = BertEmbeddings(cfg)
        self.encoder = BertEncoder(cfg)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        """Ids/mask ``[B, L]`` and image tokens ``[B, N, Wv]`` -> hidden states ``[B, L, H]``."""
        x = self.embeddings(ids)
        keep = mask[:, None, None, :].to(torch.bool)  # padding keys are not attended
        additive = torch.zeros(keep.shape, dtype=x.dtype, device=x.device)
        additive = additive.masked_fill(~keep, torch.finfo(x.dtype).min)
        for layer in self.encoder.layer:
            x = layer(x, additive, image.to(x.dtype))
        return x


class BlipCore(nn.Module):
    """The ``blip`` sub-module of ImageReward: image encoder + text encoder."""

    def __init__(self, cfg: BlipRewardConfig) -> None:
        super().__init__()
        self.visual_encoder = BlipVisionEncoder(cfg)
        self.text_encoder = BlipTextEncoder(cfg)
