"""The reward-vs-NFE plot of a search, drawn with Pillow (no plotting library needed).

Per latent batch item: the best reward so far as a step line over NFEs spent, and the
rewards of each step's population as dots at the NFE count where that step ended. Pure
(never imports ComfyUI); returns an ``[H, W, 3]`` uint8 array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw, ImageFont

COLORS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189))


@dataclass
class Series:
    """One search: ``best`` = [(nfe, best reward so far)], ``population`` = [(nfe, reward)]."""

    label: str
    best: list[tuple[int, float]] = field(default_factory=list)
    population: list[tuple[int, float]] = field(default_factory=list)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[lo, hi]``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(1, count)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


def render(series: Sequence[Series], budget: int, size: tuple[int, int] = (640, 400)) -> np.ndarray:
    """Draw the plot; ``budget`` is the x-axis end (NFEs per search)."""
    w, h = size
    left, right, top, bottom = 70, 20, 30, 50
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font, small = _font(14), _font(11)
    values = [r for s in series for _, r in s.best + s.population if math.isfinite(r)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.05 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    x_end = max(1, budget)

    def px(nfe: float, reward: float) -> tuple[float, float]:
        x = left + (w - left - right) * nfe / x_end
        y = top + (h - top - bottom) * (hi - reward) / (hi - lo)
        return x, y

    draw.rectangle([left, top, w - right, h - bottom], outline=(0, 0, 0))
    for v in nice_ticks(lo, hi):
        _, y = px(0, v)
        draw.line([left - 4, y, left, y], fill=(0, 0, 0))
        draw.line([left, y, w - right, y], fill=(235, 235, 235))
        draw.text((left - 6, y), f"{v:.3g}", fill=(0, 0, 0), font=small, anchor="rm")
    for v in nice_ticks(0, x_end):
        x, _ = px(v, lo)
        draw.line([x, h - bottom, x, h - bottom + 4], fill=(0, 0, 0))
        draw.text((x, h - bottom + 6), f"{v:g}", fill=(0, 0, 0), font=small, anchor="mt")
    draw.text((w / 2, h - 18), "NFE used", fill=(0, 0, 0), font=font, anchor="mm")
    draw.text((8, 8), "reward (best so far; dots: population)", fill=(0, 0, 0), font=font)
    for i, s in enumerate(series):
        color = COLORS[i % len(COLORS)]
        faint = tuple(int(c + 0.6 * (255 - c)) for c in color)
        for nfe, r in s.population:
            if math.isfinite(r):
                x, y = px(nfe, r)
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=faint)
        points = [px(n, r) for n, r in s.best if math.isfinite(r)]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):  # a step line: best so far
            draw.line([(x0, y0), (x1, y0), (x1, y1)], fill=color, width=2)
        if points:
            x, y = points[-1]
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)
        if len(series) > 1:
            draw.text(
                (w - right - 8, top + 8 + 16 * i), s.label, fill=color, font=small, anchor="ra"
            )
    return np.asarray(img, dtype=np.uint8)
