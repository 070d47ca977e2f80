"""Loading a Hugging Face CLIP or SigLIP dual encoder (CLIPScore, PickScore) from a local folder.

The folder is what ``save_pretrained`` writes: ``config.json``, ``model.safetensors`` (or
``pytorch_model.bin``), the tokenizer files and ``preprocessor_config.json``. The weights are
checked tensor by tensor (`hf_models.from_pretrained_checked`); the preprocessing follows the
folder's ``preprocessor_config.json`` as ``CLIPImageProcessor`` / ``SiglipImageProcessor``
read it (`preprocess_config`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from .files import WeightSource, require_files
from .hf_models import HF_WEIGHT_FILES, from_pretrained_checked, import_transformers, load_tokenizer
from .image_ops import ImagePreprocess
from .preprocess_config import CLIP_PROCESSOR, SIGLIP_PROCESSOR, preprocess_from_hf_folder

TOKENIZER_FILES = "tokenizer.json|vocab.json|spiece.model"
MODEL_FILES = ("config.json", HF_WEIGHT_FILES)
CLASSES = {"clip": "CLIPModel", "siglip": "SiglipModel"}


def read_model_type(folder: Path) -> str:
    """``model_type`` from ``config.json`` of a HF folder."""
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    return str(cfg.get("model_type", ""))


def build_dual_encoder(
    folder: Path,
    source: WeightSource,
    *,
    tokenizer_path: str | Path | None,
    device: torch.device | str,
    dtype: torch.dtype,
    allowed: tuple[str, ...] = ("clip", "siglip"),
) -> tuple[torch.nn.Module, Any, str, ImagePreprocess, int]:
    """Load ``(model, tokenizer, kind, preprocess, max_length)`` from a local folder that
    `files.require_files` has checked; the tokenizer may come from ``tokenizer_path``."""
    kind = read_model_type(folder)
    if kind not in allowed:
        raise ValueError(
            f"{source.title}: '{folder}/config.json' has model_type {kind!r}; expected one of "
            f"{allowed} (see {source.docs})"
        )
    transformers = import_transformers(source)
    tok_dir = folder if tokenizer_path is None else Path(tokenizer_path).expanduser()
    tok_source = source.part(
        subfolder=source.subfolder, model_id=source.model_id, files=[TOKENIZER_FILES]
    )
    require_files(tok_dir, tok_source)
    tokenizer = load_tokenizer(tok_dir, source)
    cls = getattr(transformers, CLASSES[kind])
    model = from_pretrained_checked(cls, folder, source, device=device, dtype=dtype)
    vcfg, tcfg = model.config.vision_config, model.config.text_config
    if kind == "clip":
        defaults = CLIP_PROCESSOR
        max_length = min(77, int(tcfg.max_position_embeddings))
    else:  # SigLIP was trained on max-length padding of its full text context
        defaults = SIGLIP_PROCESSOR
        max_length = int(tcfg.max_position_embeddings)
    preprocess = preprocess_from_hf_folder(folder, defaults, int(vcfg.image_size))
    return model, tokenizer, kind, preprocess, max_length
