"""One local transformers folder -> ``(model, processor)`` for the VLM and detector verifiers.

The folder layout and the processor assembly are described in ``docs/verifiers/hf_folders.md``
and `hf_processors`; the weights are checked by `hf_models.from_pretrained_checked` (a
missing or mis-shaped tensor is refused at load time, naming the key and the shapes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .files import WeightSource, require_files
from .hf_models import HF_WEIGHT_FILES, from_pretrained_checked, import_transformers
from .hf_processors import build_processor


def load_hf_model(
    path: str | Path,
    source: WeightSource,
    *,
    auto_class: str,
    device: torch.device | str,
    dtype: torch.dtype,
    model_types: set[str] | None = None,
) -> tuple[Any, Any, Path]:
    """Load ``(model, processor, folder)`` from a local Hugging Face folder.

    ``auto_class`` names the transformers auto class (``"AutoModelForImageTextToText"``,
    ``"AutoModelForZeroShotObjectDetection"``); ``model_types``, if given, are the accepted
    ``config.model_type`` values (checked before any weight is read). The model is put in
    eval mode on ``device`` with ``dtype`` and its parameters frozen.
    """
    transformers = import_transformers(source)
    needed = source.part(
        subfolder=source.subfolder, model_id=source.model_id, files=("config.json", HF_WEIGHT_FILES)
    )
    folder = require_files(path, needed)
    config = transformers.AutoConfig.from_pretrained(
        str(folder), local_files_only=True, trust_remote_code=False
    )
    if model_types is not None and config.model_type not in model_types:
        raise ValueError(
            f"{source.title}: '{folder}' holds a {config.model_type!r} model; expected one of "
            f"{sorted(model_types)} (see {source.docs})"
        )
    processor = build_processor(folder, config.model_type, source)
    cls = getattr(transformers, auto_class)
    model = from_pretrained_checked(cls, folder, source, device=device, dtype=dtype)
    return model, processor, folder
