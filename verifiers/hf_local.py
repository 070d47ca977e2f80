"""Local-only loading of Hugging Face ``transformers`` models and tokenizers.

``transformers`` is an optional dependency (extra ``verifiers``) and is imported lazily.
Every call passes ``local_files_only=True``: a folder that is not complete raises
`MissingWeightsError` instead of reaching for the hub. Remote code is never trusted
(``trust_remote_code=False`` for the Auto classes; concrete model classes never run
remote code). Pickled ``pytorch_model.bin`` files are read by ``transformers`` with
``weights_only=True``; ``model.safetensors`` is preferred when both exist.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from .loading import optional_import, require_path

EXTRA = "verifiers"


def import_transformers(family: str) -> ModuleType:
    """``import transformers`` or raise `MissingDependencyError` naming the extra."""
    return optional_import("transformers", family=family, extra=EXTRA)


def require_files(
    folder: str | Path,
    files: Sequence[str],
    *,
    family: str,
    model_id: str,
    subfolder: str,
) -> Path:
    """Check ``folder`` exists and holds each of ``files`` (first match of ``a|b`` alternatives)."""
    root = require_path(folder, family=family, model_id=model_id, subfolder=subfolder)
    if not root.is_dir():
        raise NotADirectoryError(
            f"{family} expects a model folder (Hugging Face layout), got the file '{root}'"
        )
    for spec in files:
        options = spec.split("|")
        if not any((root / name).is_file() for name in options):
            require_path(root / options[0], family=family, model_id=model_id, subfolder=subfolder)
    return root


def from_pretrained_local(
    cls: Any,
    folder: Path,
    *,
    device: torch.device | str,
    dtype: torch.dtype,
) -> torch.nn.Module:
    """``cls.from_pretrained(folder)`` offline, frozen, in eval mode, on ``device``/``dtype``."""
    kwargs: dict[str, Any] = {"local_files_only": True}
    params = inspect.signature(cls.from_pretrained).parameters
    if "weights_only" in params:
        kwargs["weights_only"] = True
    model = cls.from_pretrained(str(folder), **kwargs)
    model = model.to(device=torch.device(device), dtype=dtype).eval()
    model.requires_grad_(False)
    return model


def load_tokenizer(folder: Path, *, family: str, cls_name: str | None = None) -> Any:
    """Load a tokenizer from a local folder (``AutoTokenizer`` unless ``cls_name`` is given)."""
    transformers = import_transformers(family)
    if cls_name is None:
        return transformers.AutoTokenizer.from_pretrained(
            str(folder), local_files_only=True, trust_remote_code=False
        )
    return getattr(transformers, cls_name).from_pretrained(str(folder), local_files_only=True)


class EmbeddingCache:
    """A small LRU cache ``prompt -> Tensor`` for text embeddings (they never depend on pixels).

    ``get(prompts, encode)`` returns ``[len(prompts), D]``; only prompts missing from the
    cache go to ``encode(list[str]) -> [n, D]``, in one call. Cached tensors are detached;
    entries made under ``torch.inference_mode`` (ComfyUI) still serve later autograd calls.
    """

    def __init__(self, capacity: int = 64) -> None:
        if capacity < 0:
            raise ValueError(f"cache capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._store: OrderedDict[str, torch.Tensor] = OrderedDict()

    def get(self, prompts: list[str], encode: Callable[[list[str]], torch.Tensor]) -> torch.Tensor:
        """Embeddings for ``prompts`` in order, encoding each distinct missing prompt once."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._store]
        fresh: dict[str, torch.Tensor] = {}
        if missing:
            with torch.no_grad():
                out = encode(missing)
            fresh = {p: out[i].detach() for i, p in enumerate(missing)}
        rows = [self._store[p] if p in self._store else fresh[p] for p in prompts]
        for p, emb in fresh.items():
            self._put(p, emb)
        for p in prompts:
            if p in self._store:
                self._store.move_to_end(p)
        # a fresh tensor: usable in autograd even if the rows were made under inference_mode
        return torch.stack(rows)

    def _put(self, prompt: str, emb: torch.Tensor) -> None:
        if self.capacity == 0:
            return
        self._store[prompt] = emb
        while len(self._store) > self.capacity:
            self._store.popitem(last=False)

    def __len__(self) -> int:
        return len(self._store)
