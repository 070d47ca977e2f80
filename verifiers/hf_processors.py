"""Processors (tokenizers + PIL image processor + chat template) of local transformers folders.

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

import torch

from .files import WeightSource, log
from .hf_models import import_transformers, transformers_version


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


def _load_image_processor(transformers: Any, folder: Path, model_type: str, title: str) -> Any:
    """PIL image processor of the folder. Some published folders name a class that newer
    transformers dropped (e.g. ``Qwen2_5_VLImageProcessor``); then the model type's own PIL
    processor reads the same ``preprocessor_config.json``."""
    # transformers >= 5.4 selects processors by backend; older ones by use_fast (slow = PIL)
    kw: dict[str, Any] = (
        {"backend": "pil"} if transformers_version(transformers) >= (5, 4) else {"use_fast": False}
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
            "%s: %s...; using %s for model_type %r", title, str(exc)[:80], cls.__name__, model_type
        )
        return cls.from_pretrained(str(folder), local_files_only=True)


def _processor_class(transformers: Any, model_type: str, title: str) -> type:
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    name = PROCESSOR_MAPPING_NAMES.get(model_type)
    if name is None or not hasattr(transformers, name):
        raise ValueError(
            f"{title}: transformers {transformers.__version__} has no processor for model_type "
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


def build_processor(folder: Path, model_type: str, source: WeightSource) -> Any:
    """Assemble the model's processor from the folder's parts (tokenizer(s), PIL image
    processor, chat template, ``processor_config.json`` options); no video processor."""
    transformers = import_transformers(source)
    title = source.title
    cls = _processor_class(transformers, model_type, title)
    parts: dict[str, Any] = {}
    for attr in _attributes(cls):
        if attr == "image_processor":
            parts[attr] = _load_image_processor(transformers, folder, model_type, title)
        elif attr == "video_processor":
            parts[attr] = None
        elif attr == "tokenizer" or attr.endswith("_tokenizer"):
            sub = folder if attr == "tokenizer" else folder / attr
            parts[attr] = transformers.AutoTokenizer.from_pretrained(
                str(sub), local_files_only=True, trust_remote_code=False
            )
        else:
            raise ValueError(f"{title}: processor part {attr!r} of {cls.__name__} is not supported")
    options = _read_json(folder / "processor_config.json")
    accepted = set(inspect.signature(cls.__init__).parameters) - set(parts) - {"self", "kwargs"}
    kwargs = {k: v for k, v in options.items() if k in accepted}
    ignored = sorted(set(options) - set(kwargs) - {"processor_class"})
    if ignored:
        log.debug("%s: ignoring processor_config.json keys %s", title, ignored)
    if "chat_template" in accepted and "tokenizer" in parts:
        kwargs["chat_template"] = read_chat_template(folder, parts["tokenizer"])
    return cls(**parts, **kwargs)


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
