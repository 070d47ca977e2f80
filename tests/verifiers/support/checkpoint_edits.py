"""Broken copies of tiny checkpoints: a tensor dropped, reshaped or a layer duplicated, the
way a truncated download or a file of another model size looks."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import torch

State = dict[str, torch.Tensor]


def copy_folder(src: Path, dst: Path) -> Path:
    """A copy of the model folder ``src`` at ``dst`` (to break without touching ``src``)."""
    shutil.copytree(src, dst)
    return dst


def edit_safetensors(path: Path, edit: Callable[[State], State]) -> Path:
    """Rewrite the ``.safetensors`` file ``path`` in place with ``edit(state)``."""
    from safetensors.torch import load_file, save_file

    state = edit(dict(load_file(str(path))))
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path


def edit_pickle(path: Path, edit: Callable[[State], State], key: str | None = None) -> Path:
    """Rewrite the weights-only pickle ``path`` in place; ``key`` names a wrapping dict."""
    obj = torch.load(path, weights_only=True)
    if key is None:
        obj = edit(dict(obj))
    else:
        obj[key] = edit(dict(obj[key]))
    torch.save(obj, path)
    return path


def drop(*keys: str) -> Callable[[State], State]:
    def edit(state: State) -> State:
        for k in keys:
            del state[k]
        return state

    return edit


def reshape(key: str, shape: tuple[int, ...]) -> Callable[[State], State]:
    """Replace ``key`` by a tensor of ``shape`` (a file of another model size)."""

    def edit(state: State) -> State:
        state[key] = torch.zeros(shape, dtype=state[key].dtype)
        return state

    return edit


def duplicate_layer(prefix: str, source: int, target: int) -> Callable[[State], State]:
    """Copy every tensor under ``{prefix}{source}.`` to ``{prefix}{target}.`` (an extra layer)."""
    pattern = re.compile(rf"^{re.escape(prefix)}{source}\.")

    def edit(state: State) -> State:
        for k in [k for k in state if pattern.match(k)]:
            state[pattern.sub(f"{prefix}{target}.", k)] = state[k].clone()
        return state

    return edit


def key_like(path: Path, contains: str, ndim: int = 2) -> tuple[str, tuple[int, ...]]:
    """The first key (sorted) of the ``.safetensors`` file ``path`` containing ``contains``
    with an ``ndim``-dimensional tensor, and its shape."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        for k in sorted(f.keys()):
            shape = tuple(f.get_slice(k).get_shape())
            if contains in k and len(shape) == ndim:
                return k, shape
    raise KeyError(f"no {ndim}-d tensor with {contains!r} in {path}")
