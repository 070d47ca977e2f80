"""Local-only loading of Hugging Face ``transformers`` models and tokenizers, weights checked.

``transformers`` is an optional dependency (extra ``verifiers``) and is imported lazily.
Every call passes ``local_files_only=True`` (a folder that is not complete raises
`MissingWeightsError` instead of reaching for the hub) and never trusts remote code.
Pickled ``pytorch_model.bin`` files are read with ``weights_only=True``;
``model.safetensors`` is preferred when both exist.

``from_pretrained`` on its own initialises a tensor missing from the checkpoint at random
and only logs it. `from_pretrained_checked` instead loads with ``output_loading_info`` and
refuses the folder (``ValueError`` naming the file, keys and shapes, see `state_dicts`) when
a tensor is missing, has the wrong shape or belongs to layers the configuration lacks. The
key names transformers reports are after its own checkpoint conversions, so old and new
published layouts are judged alike.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from .files import WeightSource, optional_import
from .state_dicts import layer_copies, refuse_checkpoint

#: The weight files of a transformers folder (``a|b``: either), for `files.require_files`.
HF_WEIGHT_FILES = (
    "model.safetensors|model.safetensors.index.json|pytorch_model.bin|pytorch_model.bin.index.json"
)


def import_transformers(source: WeightSource) -> ModuleType:
    """``import transformers`` or raise `MissingDependencyError` naming the extra."""
    return optional_import("transformers", source)


def transformers_version(transformers: ModuleType) -> tuple[int, int]:
    """``(major, minor)`` of transformers (``"5.23.0"`` -> ``(5, 23)``)."""
    parts = [int(p) if p.isdigit() else 0 for p in transformers.__version__.split(".")[:2]]
    return (parts + [0, 0])[0], (parts + [0, 0])[1]


def weights_file(folder: Path) -> Path:
    """The weights file (or shard index) transformers reads in ``folder``, for messages."""
    for name in HF_WEIGHT_FILES.split("|"):
        if (folder / name).is_file():
            return folder / name
    shards = sorted(folder.glob("*.safetensors"))
    return shards[0] if len(shards) == 1 else folder


def check_loading_info(
    model: torch.nn.Module, info: dict[str, Any], folder: Path, source: WeightSource
) -> None:
    """Refuse a load whose report has missing, mis-shaped or extra-layer tensors."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = {k: expected.get(k, ()) for k in info.get("missing_keys", ())}
    wrong = {k: (tuple(m), tuple(c)) for k, c, m in info.get("mismatched_keys", ())}
    extra = layer_copies(info.get("unexpected_keys", ()), expected)
    errors = [str(e) for e in info.get("error_msgs", ()) if e]
    if missing or wrong or extra or errors:
        raise refuse_checkpoint(
            weights_file(folder),
            source,
            missing=missing,
            wrong=wrong,
            extra_layers=extra,
            note="; ".join(errors)[:500],
        )


def from_pretrained_checked(
    cls: Any,
    folder: Path,
    source: WeightSource,
    *,
    device: torch.device | str,
    dtype: torch.dtype,
) -> torch.nn.Module:
    """``cls.from_pretrained(folder)`` offline, no remote code, in ``dtype``, with its weights
    checked (see the module docstring); frozen, in eval mode, on ``device``. ``cls`` is a
    concrete model class (``CLIPModel``) or an Auto class."""
    transformers = import_transformers(source)
    dtype_kw = "dtype" if transformers_version(transformers) >= (4, 56) else "torch_dtype"
    kwargs: dict[str, Any] = {
        "local_files_only": True,
        "trust_remote_code": False,
        "output_loading_info": True,
        # mismatched tensors are reported in the loading info (and then refused here)
        # instead of failing with an error that does not name them
        "ignore_mismatched_sizes": True,
        dtype_kw: dtype,
    }
    if "weights_only" in inspect.signature(cls.from_pretrained).parameters:
        kwargs["weights_only"] = True
    model, info = cls.from_pretrained(str(folder), **kwargs)
    check_loading_info(model, info, folder, source)
    model = model.to(device=torch.device(device)).eval()
    model.requires_grad_(False)
    return model


def load_tokenizer(folder: Path, source: WeightSource, cls_name: str | None = None) -> Any:
    """Load a tokenizer from a local folder (``AutoTokenizer`` unless ``cls_name`` is given)."""
    transformers = import_transformers(source)
    if cls_name is None:
        return transformers.AutoTokenizer.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False
        )
    return getattr(transformers, cls_name).from_pretrained(str(folder), local_files_only=True)
