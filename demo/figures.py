"""Figures of Fashion-MNIST samples: a labelled image grid saved as PNG.

matplotlib is imported inside the function, so importing this module (and the package)
never needs it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import torch

from .data import to_unit_range


def save_image_grid(
    rows: Sequence[tuple[str, torch.Tensor]],
    path: str | Path,
    *,
    column_labels: Sequence[str] | None = None,
    cell_labels: Sequence[Sequence[str]] | None = None,
    title: str | None = None,
    scale: float = 0.9,
) -> Path:
    """Save a grid with one row per ``(label, images [N, 1, 32, 32] in [-1, 1])`` entry.

    Rows may have different lengths (missing cells stay blank). ``column_labels`` go above
    the first row; ``cell_labels[r][i]`` (e.g. a verdict) under image ``i`` of row ``r``.
    ``scale`` is the size of one image in inches. Returns the written path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not rows:
        raise ValueError("rows must hold at least one (label, images) entry")
    ncols = max(int(x.shape[0]) for _, x in rows)
    nrows = len(rows)
    label_w = 1.6
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(label_w + scale * ncols, 0.4 + scale * 1.15 * nrows),
        squeeze=False,
    )
    for r, (label, images) in enumerate(rows):
        pics = to_unit_range(images.detach().float().cpu())[:, 0]
        for i in range(ncols):
            ax = axes[r][i]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if i < pics.shape[0]:
                ax.imshow(pics[i].numpy(), cmap="gray", vmin=0.0, vmax=1.0)
            if cell_labels is not None and i < len(cell_labels[r]):
                ax.set_xlabel(cell_labels[r][i], fontsize=6, labelpad=1)
            if r == 0 and column_labels is not None and i < len(column_labels):
                ax.set_title(column_labels[i], fontsize=7)
        axes[r][0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        width_chars = int((label_w + scale * ncols) * 13)
        fig.suptitle(textwrap.fill(title, max(width_chars, 30)), fontsize=9)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
