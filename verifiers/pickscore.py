"""PickScore: a CLIP-H/14 fine-tuned on Pick-a-Pic preferences, via ``transformers`` (differentiable).

``score = exp(t) · cos(e_img, e_txt)`` with the fine-tuned ``logit_scale`` ``t``
(``exp(t) ≈ 100``; typical scores 18–23). This is the number the PickScore reference
code softmaxes over candidate images; the softmax is left out because it would make a
score depend on the other images in the batch. Facts and layout:
``docs/verifiers/pickscore.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .clip_score import CLIPScore
from .dual_encoder import MODEL_FILES, build_dual_encoder
from .files import WeightSource, require_files
from .options import TorchOptions, option

MODEL_ID = "yuvalkirstain/PickScore_v1"
SOURCE = WeightSource("pickscore", "PickScore", MODEL_ID, MODEL_FILES)


@dataclass(frozen=True)
class PickScoreOptions(TorchOptions):
    """Options of `load_pickscore` (``path``: the PickScore_v1 folder)."""

    tokenizer_path: str = option(
        "", "Folder with the CLIP-H tokenizer files, if the model folder has none", kind="path"
    )
    cache_size: int = option(64, "Text embeddings kept in memory (per prompt)", min=0)


class PickScore(CLIPScore):
    """PickScore verifier: a `CLIPScore` in ``"logit"`` mode on the PickScore weights."""

    name = "pickscore"


def load_pickscore(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 8,
    tokenizer_path: str | Path | None = None,
    cache_size: int = 64,
) -> PickScore:
    """Load PickScore from a local copy of ``yuvalkirstain/PickScore_v1`` (HF CLIP folder).

    The folder holds ``config.json``, ``model.safetensors`` (or ``pytorch_model.bin``), the
    CLIP tokenizer files and ``preprocessor_config.json``; ``tokenizer_path`` may point at
    ``laion/CLIP-ViT-H-14-laion2B-s32B-b79K`` instead when the tokenizer files are missing.
    """
    folder = require_files(path, SOURCE)
    model, tok, kind, pre, max_len = build_dual_encoder(
        folder, SOURCE, tokenizer_path=tokenizer_path, device=device, dtype=dtype, allowed=("clip",)
    )
    return PickScore(
        model,
        tok,
        kind=kind,
        preprocess=pre,
        max_length=max_len,
        mode="logit",
        cache_size=cache_size,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )
