"""A plain-torch OpenCLIP ViT (image + text towers) that loads open_clip state dicts as they are.

``open_clip`` itself imports torchvision, which does not import beside a CPU torch wheel,
so this module re-implements the plain OpenCLIP ``CLIP`` model (pre-LN transformer,
GELU MLP, class-token pooling, causal text transformer pooled at the end-of-text token)
with exactly the upstream parameter names, e.g. ::

    visual.conv1.weight                         [W, 3, P, P]   (no bias)
    visual.class_embedding                      [W]
    visual.positional_embedding                 [(S/P)^2 + 1, W]
    visual.ln_pre.{weight,bias}                 [W]
    visual.transformer.resblocks.N.ln_1.{weight,bias}
    visual.transformer.resblocks.N.attn.in_proj_weight   [3W, W]
    visual.transformer.resblocks.N.attn.in_proj_bias     [3W]
    visual.transformer.resblocks.N.attn.out_proj.{weight,bias}
    visual.transformer.resblocks.N.ln_2.{weight,bias}
    visual.transformer.resblocks.N.mlp.c_fc.{weight,bias}    [4W, W], [4W]
    visual.transformer.resblocks.N.mlp.c_proj.{weight,bias}  [W, 4W], [W]
    visual.ln_post.{weight,bias}, visual.proj   [W, E]
    token_embedding.weight [V, T], positional_embedding [L, T], transformer.resblocks.N.*,
    ln_final.{weight,bias}, text_projection [T, E], logit_scale []

Image features: ``ln_post(h[:, 0]) @ proj``; text features: ``ln_final(h)[eot] @ text_projection``.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class OpenCLIPConfig:
    """Architecture numbers of an OpenCLIP ViT model (``model_configs/<name>.json`` upstream)."""

    embed_dim: int
    image_size: int
    patch_size: int
    vision_width: int
    vision_layers: int
    vision_heads: int
    context_length: int
    vocab_size: int
    text_width: int
    text_heads: int
    text_layers: int
    mlp_ratio: float = 4.0
    quick_gelu: bool = False


#: open_clip ``ViT-H-14.json``: head_width 80 -> 1280 / 80 = 16 vision heads.
VIT_H_14 = OpenCLIPConfig(
    embed_dim=1024,
    image_size=224,
    patch_size=14,
    vision_width=1280,
    vision_layers=32,
    vision_heads=16,
    context_length=77,
    vocab_size=49408,
    text_width=1024,
    text_heads=16,
    text_layers=24,
)


class QuickGELU(nn.Module):
    """``x · sigmoid(1.702 x)`` (OpenAI-trained weights only; OpenCLIP ViT-H uses exact GELU)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """Multi-head self-attention with ``nn.MultiheadAttention``'s parameter names."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, w = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        q, k, v = qkv.view(b, n, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, w))


class ResidualAttentionBlock(nn.Module):
    """Pre-LN block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, quick_gelu: bool) -> None:
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        act = QuickGELU() if quick_gelu else nn.GELU()
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, hidden)),
                    ("gelu", act),
                    ("c_proj", nn.Linear(hidden, width)),
                ]
            )
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """A stack of `ResidualAttentionBlock` under the upstream name ``resblocks``."""

    def __init__(self, width: int, layers: int, heads: int, mlp_ratio: float, quick_gelu: bool):
        super().__init__()
        self.resblocks = nn.ModuleList(
            ResidualAttentionBlock(width, heads, mlp_ratio, quick_gelu) for _ in range(layers)
        )

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    """OpenCLIP image tower: patchify, class token, ``ln_pre``, blocks, ``ln_post``, ``proj``."""

    def __init__(self, cfg: OpenCLIPConfig) -> None:
        super().__init__()
        w, p = cfg.vision_width, cfg.patch_size
        grid = cfg.image_size // p
        self.conv1 = nn.Conv2d(3, w, kernel_size=p, stride=p, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(w))
        self.positional_embedding = nn.Parameter(torch.empty(grid * grid + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(
            w, cfg.vision_layers, cfg.vision_heads, cfg.mlp_ratio, cfg.quick_gelu
        )
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(torch.empty(w, cfg.embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised pixels ``[B, 3, S, S]`` -> image features ``[B, E]`` (not unit-norm)."""
        x = self.conv1(x).flatten(2).transpose(1, 2)  # [B, grid^2, W]
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj


class OpenCLIP(nn.Module):
    """OpenCLIP ``CLIP`` with the upstream attribute (= state-dict key) names."""

    def __init__(self, cfg: OpenCLIPConfig) -> None:
        super().__init__()
        self.config = cfg
        self.visual = VisionTransformer(cfg)
        t = cfg.text_width
        self.token_embedding = nn.Embedding(cfg.vocab_size, t)
        self.positional_embedding = nn.Parameter(torch.empty(cfg.context_length, t))
        self.transformer = Transformer(
            t, cfg.text_layers, cfg.text_heads, cfg.mlp_ratio, cfg.quick_gelu
        )
        self.ln_final = nn.LayerNorm(t)
        self.text_projection = nn.Parameter(torch.empty(t, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.empty(()))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Normalised pixels ``[B, 3, S, S]`` -> unit image features ``[B, E]``."""
        return F.normalize(self.visual(pixels), dim=-1)

    def encode_text(self, ids: torch.Tensor, eot_index: torch.Tensor) -> torch.Tensor:
        """Token ids ``[B, L]`` and end-of-text positions ``[B]`` -> unit text features ``[B, E]``."""
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        causal = torch.full((n, n), float("-inf"), device=ids.device, dtype=x.dtype).triu(1)
        x = self.ln_final(self.transformer(x, causal))
        pooled = x[torch.arange(x.shape[0], device=ids.device), eot_index]
        return F.normalize(pooled @ self.text_projection, dim=-1)
