"""A small U-Net velocity model for 32x32 single-channel images, cheap enough for CPU search.

Input ``x [B, 1, 32, 32]`` and time ``t [B]`` in [0, 1] (t = 1 pure noise); output the
velocity ``v [B, 1, 32, 32]`` of the linear path ``x_t = (1 - t) x0 + t eps``, i.e. the
regression target ``v = eps - x0``.

Layout: a 2x2 pixel-unshuffle turns the image into ``[B, 4, 16, 16]``; an encoder of
residual blocks at 16x16, 8x8 and 4x4 (``channels``), a middle block, a decoder with skip
concatenations, and a pixel-shuffle back to 32x32. Each residual block is
GroupNorm -> SiLU -> 3x3 conv, plus a per-channel shift from the time embedding, then
GroupNorm -> SiLU -> 3x3 conv (zero-initialised), plus the (1x1-projected) input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class UNetConfig:
    """Shape of the U-Net. ``channels[i]`` is the width at resolution ``16 / 2**i``."""

    channels: tuple[int, ...] = (32, 64, 128)
    blocks_per_level: int = 1
    time_dim: int = 128
    groups: int = 8

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of ``t [B]`` in [0, 1]: ``[sin(1000 t f_k), cos(1000 t f_k)]``.

    Frequencies ``f_k = 10000^(-k / (dim/2))``, ``k = 0..dim/2-1``. Returns ``[B, dim]``.
    """
    half = dim // 2
    freqs = torch.exp(
        -math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half
    )
    arg = 1000.0 * t.to(torch.float32)[:, None] * freqs[None]
    return torch.cat([arg.sin(), arg.cos()], dim=1)


class ResBlock(nn.Module):
    """Residual block with a time-embedding shift; ``[B, cin, H, W] -> [B, cout, H, W]``."""

    def __init__(self, cin: int, cout: int, time_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(time_dim, cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.time(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class FlowUNet(nn.Module):
    """Velocity network ``v_theta(x, t)`` for ``x [B, 1, 32, 32]``, ``t [B]`` in [0, 1]."""

    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        cfg = config or UNetConfig()
        self.config = cfg
        td = cfg.time_dim
        self.time_mlp = nn.Sequential(nn.Linear(td, td), nn.SiLU(), nn.Linear(td, td))
        self.stem = nn.Conv2d(4, cfg.channels[0], 3, padding=1)
        self.down = nn.ModuleList()
        skips = []
        c = cfg.channels[0]
        for width in cfg.channels:
            level = nn.ModuleList()
            for _ in range(cfg.blocks_per_level):
                level.append(ResBlock(c, width, td, cfg.groups))
                c = width
            self.down.append(level)
            skips.append(c)
        self.mid = ResBlock(c, c, td, cfg.groups)
        self.up = nn.ModuleList()
        for i in reversed(range(len(cfg.channels))):
            width = cfg.channels[i]
            self.up.append(ResBlock(c + skips[i], width, td, cfg.groups))
            c = width
        self.head_norm = nn.GroupNorm(cfg.groups, c)
        self.head = nn.Conv2d(c, 4, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (1, 32, 32):
            raise ValueError(f"x must be [B, 1, 32, 32], got {tuple(x.shape)}")
        emb = self.time_mlp(timestep_embedding(t, self.config.time_dim))
        h = self.stem(F.pixel_unshuffle(x, 2))
        hs = []
        for i, level in enumerate(self.down):
            if i > 0:
                h = F.avg_pool2d(h, 2)
            for block in level:
                h = block(h, emb)
            hs.append(h)
        h = self.mid(h, emb)
        for j, block in enumerate(self.up):
            i = len(self.down) - 1 - j
            h = block(torch.cat([h, hs[i]], dim=1), emb)
            if i > 0:
                h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        return F.pixel_shuffle(self.head(F.silu(self.head_norm(h))), 2)
