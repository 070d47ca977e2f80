"""Loading local Hugging Face model folders (VLMs, open-vocabulary detectors) without downloads.

A folder is what ``save_pretrained`` writes (or what a user downloads from the Hub by hand):
``config.json``, ``*.safetensors`` weights, the tokenizer files, ``preprocessor_config.json``
and, for chat models, ``chat_template.jinja`` / ``chat_template.json``. Everything is read with
``local_files_only=True`` and ``trust_remote_code=False``; nothing is ever downloaded.

Processors are assembled from their parts (tokenizer, PIL image processor, chat template,
``processor_config.json`` options) instead of through ``AutoProcessor``: recent transformers
processors for video-capable VLMs (Qwen2.5-VL, LLaVA-OneVision) insist on a video processor,
and video processors need torchvision, which does not import beside every torch build
ComfyUI users have. Images always go through the PIL image processors, so scores do not
depend on whether torchvision happens to be installed.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .hf_local import import_transformers
from .loading import log, require_path


def to_pil(images: torch.Tensor) -> list[Any]:
    """ComfyUI images ``[B, H, W, 3]`` in [0, 1] -> list of RGB ``PIL.Image`` (uint8, rounded)."""
    from PIL import Image

    arr = (images.detach().float().clamp(0, 1) * 255.0).round().to(torch.uint8).cpu().numpy()
    return [Image.fromarray(np.ascontiguousarray(a)) for a in arr]


def _version(module: Any) -> tuple[int, int]:
    """``(major, minor)`` of a module's ``__version__`` (``"5.23.0"`` -> ``(5, 23)``)."""
    parts = [int(p) if p.isdigit() else 0 for p in module.__version__.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_chat_template(folder: Path, tokenizer: Any) -> str | None:
    """Chat template of a model folder: ``chat_template.jinja``, then the legacy
    ``chat_template.json`` (key ``chat_template``), then the tokenizer's own template."""
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    legacy = _read_json(folder / "chat_template.json").get("chat_template")
    if isinstance(legacy, str):
        return legacy
    return getattr(tokenizer, "chat_template", None)


def _pil_image_processor_class(transformers: Any, model_type: str) -> type | None:
    from transformers.models.auto.image_processing_auto import IMAGE_PROCESSOR_MAPPING_NAMES

    names = IMAGE_PROCESSOR_MAPPING_NAMES.get(model_type)
    if isinstance(names, dict):  # transformers 5: {"torchvision": ..., "pil": ...}
        name = names.get("pil")
    elif isinstance(names, (tuple, list)):  # transformers 4: (slow, fast)
        name = names[0]
    else:
        name = names
    return getattr(transformers, name, None) if name else None


def _load_image_processor(transformers: Any, folder: Path, model_type: str, family: str) -> Any:
    """PIL image processor of the folder. Some published folders name a class that newer
    transformers dropped (e.g. ``Qwen2_5_VLImageProcessor``); then the model type's own PIL
    processor reads the same ``preprocessor_config.json``."""
    # transformers >= 5.4 selects processors by backend; older ones by use_fast (slow = PIL)
    kw: dict[str, Any] = (
        {"backend": "pil"} if _version(transformers) >= (5, 4) else {"use_fast": False}
    )
    try:
        return transformers.AutoImageProcessor.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False, **kw
        )
    except (ValueError, KeyError) as exc:
        cls = _pil_image_processor_class(transformers, model_type)
        if cls is None:
            raise
        log.info(
            "%s: %s...; using %s for model_type %r", family, str(exc)[:80], cls.__name__, model_type
        )
        return cls.from_pretrained(str(folder), local_files_only=True)


def _processor_class(transformers: Any, model_type: str, family: str) -> type:
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    name = PROCESSOR_MAPPING_NAMES.get(model_type)
    if name is None or not hasattr(transformers, name):
        raise ValueError(
            f"{family}: transformers {transformers.__version__} has no processor for model_type "
            f"{model_type!r}; use a model folder of a supported architecture"
        )
    base = getattr(transformers, name)

    def check_argument_for_proper_class(self, argument_name, argument):
        # A missing video processor is fine: we only ever pass images.
        if argument_name == "video_processor" and argument is None:
            return None
        return base.check_argument_for_proper_class(self, argument_name, argument)

    return type(
        f"{base.__name__}ImagesOnly",
        (base,),
        {"check_argument_for_proper_class": check_argument_for_proper_class},
    )


def _attributes(cls: type) -> list[str]:
    attrs = getattr(cls, "attributes", None)
    return list(attrs) if attrs else list(cls.get_attributes())


def build_processor(folder: Path, model_type: str, *, family: str) -> Any:
    """Assemble the model's processor from the folder's parts (tokenizer(s), PIL image
    processor, chat template, ``processor_config.json`` options); no video processor."""
    transformers = import_transformers(family)
    cls = _processor_class(transformers, model_type, family)
    parts: dict[str, Any] = {}
    for attr in _attributes(cls):
        if attr == "image_processor":
            parts[attr] = _load_image_processor(transformers, folder, model_type, family)
        elif attr == "video_processor":
            parts[attr] = None
        elif attr == "tokenizer" or attr.endswith("_tokenizer"):
            sub = folder if attr == "tokenizer" else folder / attr
            parts[attr] = transformers.AutoTokenizer.from_pretrained(
                str(sub), local_files_only=True, trust_remote_code=False
            )
        else:
            raise ValueError(
                f"{family}: processor part {attr!r} of {cls.__name__} is not supported"
            )
    options = _read_json(folder / "processor_config.json")
    accepted = set(inspect.signature(cls.__init__).parameters) - set(parts) - {"self", "kwargs"}
    kwargs = {k: v for k, v in options.items() if k in accepted}
    ignored = sorted(set(options) - set(kwargs) - {"processor_class"})
    if ignored:
        log.debug("%s: ignoring processor_config.json keys %s", family, ignored)
    if "chat_template" in accepted and "tokenizer" in parts:
        kwargs["chat_template"] = read_chat_template(folder, parts["tokenizer"])
    return cls(**parts, **kwargs)


def load_hf_model(
    path: str | Path,
    *,
    auto_class: str,
    family: str,
    model_id: str,
    subfolder: str,
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
    transformers = import_transformers(family)
    folder = require_path(path, family=family, model_id=model_id, subfolder=subfolder)
    if not (folder / "config.json").is_file():
        raise ValueError(
            f"{family}: '{folder}' is not a Hugging Face model folder (no config.json); download "
            f"the whole repository '{model_id}' into ComfyUI/models/verifiers/{subfolder}/"
        )
    config = transformers.AutoConfig.from_pretrained(
        str(folder), local_files_only=True, trust_remote_code=False
    )
    if model_types is not None and config.model_type not in model_types:
        raise ValueError(
            f"{family}: '{folder}' holds a {config.model_type!r} model; expected one of "
            f"{sorted(model_types)}"
        )
    processor = build_processor(folder, config.model_type, family=family)
    dtype_kw = "dtype" if _version(transformers) >= (4, 56) else "torch_dtype"
    model = getattr(transformers, auto_class).from_pretrained(
        str(folder), local_files_only=True, trust_remote_code=False, **{dtype_kw: dtype}
    )
    model = model.to(device).eval()
    model.requires_grad_(False)
    return model, processor, folder


def move_inputs(inputs: Any, device: torch.device, dtype: torch.dtype) -> dict[str, Any]:
    """Move a processor's output to ``device``; floating tensors (pixels) are cast to ``dtype``."""
    out: dict[str, Any] = {}
    for key, value in dict(inputs).items():
        if isinstance(value, torch.Tensor):
            value = (
                value.to(device=device, dtype=dtype)
                if value.is_floating_point()
                else value.to(device)
            )
        out[key] = value
    return out


def chat_text(processor: Any, question: str) -> str:
    """The model's prompt for one image followed by ``question``, ending where the assistant's
    answer starts (``add_generation_prompt=True``). Processors without a chat template (e.g.
    InstructBLIP, which inserts its query tokens itself) get the bare question."""
    if getattr(processor, "chat_template", None):
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}
        ]
        return processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return question


def is_encoder_decoder(model: Any) -> bool:
    """True for VLMs whose language model is an encoder-decoder (InstructBLIP/BLIP-2 + Flan-T5)."""
    cfg = model.config
    return bool(getattr(cfg, "is_encoder_decoder", False)) or (
        getattr(cfg, "use_decoder_only_language_model", True) is False
    )


def decoder_start_id(model: Any) -> int:
    """``decoder_start_token_id`` of an encoder-decoder language model (T5: the pad id, 0)."""
    cfg = model.config
    text_cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    for c in (text_cfg, cfg):
        start = getattr(c, "decoder_start_token_id", None)
        if start is not None:
            return int(start)
    raise ValueError("encoder-decoder VLM config has no decoder_start_token_id")
