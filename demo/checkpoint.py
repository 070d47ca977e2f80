"""Saving and loading the shipped Fashion-MNIST weights (safetensors, metadata as JSON).

A checkpoint is one ``.safetensors`` file: the module's state dict (stored in ``dtype``,
fp16 for the shipped files) plus string metadata ``{"arch": ..., "config": <json>, ...}``
that says how to rebuild the module. Loading never downloads anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

#: Folder of the shipped weights.
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def save_module(
    module: nn.Module,
    path: str | Path,
    *,
    arch: str,
    config: dict[str, object],
    extra: dict[str, object] | None = None,
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write ``module``'s state dict (floats cast to ``dtype``) and metadata to ``path``."""
    from safetensors.torch import save_file

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().to(dtype) if v.is_floating_point() else v.detach()).contiguous().cpu()
        for k, v in module.state_dict().items()
    }
    meta = {"arch": arch, "config": json.dumps(config)}
    for key, value in (extra or {}).items():
        meta[key] = value if isinstance(value, str) else json.dumps(value)
    save_file(state, str(p), metadata=meta)
    return p


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Return ``(state_dict, metadata)`` of a checkpoint written by `save_module`."""
    from safetensors import safe_open

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(
            f"weights file '{p}' not found; the shipped weights live in {WEIGHTS_DIR} "
            f"(re-create them with the training scripts in the repository's training/ folder)"
        )
    state = {}
    with safe_open(str(p), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
        for key in fh.keys():
            state[key] = fh.get_tensor(key)
    if "arch" not in meta or "config" not in meta:
        raise ValueError(f"'{p}' lacks the 'arch'/'config' metadata of a FlowSearch checkpoint")
    return state, meta


def load_into(module: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Copy ``state`` into ``module`` (strict; values cast to the module's float dtype)."""
    own = module.state_dict()
    cast = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    module.load_state_dict(cast, strict=True)
    return module
