"""A small LRU cache of text embeddings (they never depend on the pixels)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch


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
