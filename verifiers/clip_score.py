"""CLIPScore from a local Hugging Face CLIP or SigLIP folder (differentiable).

With L2-normalised embeddings ``e_img = f(x) / |f(x)|`` and ``e_txt = g(p) / |g(p)|`` and
``cos = e_img · e_txt``, the score is one of (``mode``):

- ``"clipscore"`` (default): ``w · max(cos, 0)`` with ``w = 2.5`` (Hessel et al. 2021);
- ``"logit"``: the model's own logit ``exp(t) · cos`` (CLIP; ``exp(t) ≈ 100``), plus the
  learned bias ``b`` for SigLIP: ``exp(t) · cos + b``;
- ``"probability"`` (SigLIP only): ``sigmoid(exp(t) · cos + b)``, the per-pair match
  probability SigLIP was trained to give (a CLIP softmax would depend on the batch).

Images are resized/cropped/normalised in torch (`image_ops`), so gradients reach the pixels.
Facts, layout and costs: ``docs/verifiers/clip_score.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from .base import Verifier
from .dual_encoder import CLASSES, MODEL_FILES, build_dual_encoder, read_model_type
from .embedding_cache import EmbeddingCache
from .files import WeightSource, require_files
from .image_ops import ImagePreprocess
from .options import TorchOptions, option

MODES = ("clipscore", "logit", "probability")
SOURCE = WeightSource(
    "clip_score", "CLIPScore", "openai/clip-vit-large-patch14", MODEL_FILES,
    subfolder="clip-vit-large-patch14",
)  # fmt: skip


@dataclass(frozen=True)
class CLIPScoreOptions(TorchOptions):
    """Options of `load_clip_score` (``path``: a CLIP or SigLIP folder)."""

    mode: str = option(
        "clipscore", "clipscore: 2.5·max(cos, 0); logit: the model's logit; "
        "probability: SigLIP's match probability", choices=MODES,
    )  # fmt: skip
    weight: float = option(2.5, "w in the clipscore mode's w·max(cos, 0)", min=0.0, step=0.1)
    tokenizer_path: str = option(
        "", "Folder with the tokenizer files, if the model folder has none", kind="path"
    )
    cache_size: int = option(64, "Text embeddings kept in memory (per prompt)", min=0)


class CLIPScore(Verifier):
    """Image-text agreement from a dual encoder (CLIP or SigLIP); see the module docstring."""

    name = "clip_score"
    differentiable = True

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Any,
        *,
        kind: str,
        preprocess: ImagePreprocess,
        max_length: int,
        mode: str = "clipscore",
        weight: float = 2.5,
        cache_size: int = 64,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        batch_size: int = 8,
    ) -> None:
        super().__init__(device=device, dtype=dtype, batch_size=batch_size)
        if kind not in CLASSES:
            raise ValueError(f"kind must be one of {tuple(CLASSES)}, got {kind!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if mode == "probability" and kind != "siglip":
            raise ValueError(
                "mode='probability' needs a SigLIP model (a CLIP softmax depends on the batch); "
                "use mode='clipscore' or 'logit' with CLIP"
            )
        self.model, self.tokenizer, self.kind = model, tokenizer, kind
        self.preprocess, self.max_length = preprocess, int(max_length)
        self.mode, self.weight = mode, float(weight)
        self.input_size = preprocess.size
        self._text_cache = EmbeddingCache(cache_size)

    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, H, W, 3]`` in ``[0, 1]`` -> unit image embeddings ``[B, D]`` (float32)."""
        x = self.preprocess(images, device=self.device, dtype=self.dtype)
        pooled = self.model.vision_model(pixel_values=x).pooler_output
        if self.kind == "clip":
            pooled = self.model.visual_projection(pooled)
        return F.normalize(pooled.float(), dim=-1)

    def _encode_text_uncached(self, prompts: list[str]) -> torch.Tensor:
        tok = self.tokenizer(
            prompts,
            padding="max_length",
            max_length=self.max_length,
            truncation=True,
            return_tensors="pt",
        )
        ids = tok["input_ids"].to(self.device)
        if self.kind == "clip":
            mask = tok["attention_mask"].to(self.device)
            pooled = self.model.text_model(input_ids=ids, attention_mask=mask).pooler_output
            pooled = self.model.text_projection(pooled)
        else:  # SigLIP was trained on max-length padding without an attention mask
            pooled = self.model.text_model(input_ids=ids).pooler_output
        return F.normalize(pooled.float(), dim=-1)

    def encode_text(self, prompts: list[str]) -> torch.Tensor:
        """Prompts -> unit text embeddings ``[B, D]`` (float32, cached per prompt)."""
        return self._text_cache.get(prompts, self._encode_text_uncached)

    def score_from_cosine(self, cos: torch.Tensor) -> torch.Tensor:
        """Map cosine similarities ``[B]`` to scores according to ``mode``."""
        if self.mode == "clipscore":
            return self.weight * cos.clamp(min=0.0)
        logit = self.model.logit_scale.float().exp().reshape(()) * cos
        if self.kind == "siglip":
            logit = logit + self.model.logit_bias.float().reshape(())
        return logit if self.mode == "logit" else torch.sigmoid(logit)

    def score_batch(self, images: torch.Tensor, prompts: list[str]) -> torch.Tensor:
        cos = (self.encode_images(images) * self.encode_text(prompts)).sum(dim=-1)
        return self.score_from_cosine(cos)


def load_clip_score(
    path: str | Path,
    *,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    batch_size: int = 8,
    mode: str = "clipscore",
    weight: float = 2.5,
    tokenizer_path: str | Path | None = None,
    cache_size: int = 64,
) -> CLIPScore:
    """Load CLIPScore from a local HF CLIP/SigLIP folder (``config.json`` + weights + tokenizer).

    ``tokenizer_path`` points at another folder when the model folder has no tokenizer files.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    folder = require_files(path, SOURCE)
    if mode == "probability" and read_model_type(folder) != "siglip":
        raise ValueError(
            "mode='probability' needs a SigLIP model folder; use 'clipscore' or 'logit'"
        )
    model, tok, kind, pre, max_len = build_dual_encoder(
        folder, SOURCE, tokenizer_path=tokenizer_path, device=device, dtype=dtype
    )
    return CLIPScore(
        model,
        tok,
        kind=kind,
        preprocess=pre,
        max_length=max_len,
        mode=mode,
        weight=weight,
        cache_size=cache_size,
        device=device,
        dtype=dtype,
        batch_size=batch_size,
    )
