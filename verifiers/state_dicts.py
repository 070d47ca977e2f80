"""Reading verifier state dicts and checking them against the model they are meant for.

A checkpoint is accepted only when it holds every tensor the model expects, each with the
expected shape. Otherwise `refuse_checkpoint` raises a ``ValueError`` that names the file,
the keys, the expected and found shapes and the public model the file should be: a
missing tensor is never left randomly initialised, and a mis-shaped one never fails later
inside a forward pass.

Extra tensors are ignored (logged) unless they are *more copies of a layer the model has*:
a key that equals an expected key up to its numeric indices (``blocks.12.attn.qkv.weight``
when the model has blocks 0-11). Those mean the file is a bigger model than the
configuration says, and are refused too. Other extras (another head, an optimiser's
left-overs, an old ``position_ids`` buffer) carry nothing the model uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from .files import WeightSource, log

Shape = tuple[int, ...]
_INDEX = re.compile(r"\.\d+(?=\.|$)")
_SHOWN = 8  # keys listed per kind of problem


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict from ``.safetensors`` or, failing that, a pickle with ``weights_only=True``."""
    p = Path(path)
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(p))
    obj = torch.load(str(p), map_location="cpu", weights_only=True)
    # Some public checkpoints wrap the weights: {"state_dict": ...} or {"model": ...}.
    for key in ("state_dict", "model", "module"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise ValueError(f"'{p}' does not hold a state dict (got {type(obj).__name__})")
    return obj


def strip_prefix(
    state: dict[str, torch.Tensor], prefix: str = "module."
) -> dict[str, torch.Tensor]:
    """Drop a DistributedDataParallel-style ``prefix`` when every key has it."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def shapes(state: Mapping[str, torch.Tensor]) -> dict[str, Shape]:
    """``key -> shape`` of a state dict."""
    return {k: tuple(v.shape) for k, v in state.items()}


def layer_copies(unexpected: Iterable[str], expected: Iterable[str]) -> list[str]:
    """The unexpected keys that equal an expected key up to numeric indices (extra layers)."""
    patterns = {_INDEX.sub(".#", k) for k in expected}
    return sorted(k for k in unexpected if _INDEX.sub(".#", k) in patterns)


def _listing(items: list[str]) -> list[str]:
    more = [f"    ... and {len(items) - _SHOWN} more"] if len(items) > _SHOWN else []
    return [f"    {s}" for s in items[:_SHOWN]] + more


def _fmt(shape: Iterable[int]) -> str:
    return "[" + ", ".join("?" if int(d) < 0 else str(int(d)) for d in shape) + "]"


def refuse_checkpoint(
    file: str | Path,
    source: WeightSource,
    *,
    missing: Mapping[str, Shape] | None = None,
    wrong: Mapping[str, tuple[Shape, Shape]] | None = None,
    extra_layers: Iterable[str] = (),
    note: str = "",
) -> ValueError:
    """The load-time error for a checkpoint that does not fit its model.

    ``missing``: key -> expected shape; ``wrong``: key -> (expected, found); ``extra_layers``:
    keys of layers the model does not have."""
    lines = [
        f"{source.title}: '{file}' does not hold the weights this model expects "
        f"(it should hold '{source.model_id}'; see {source.docs}).{' ' + note if note else ''}"
    ]
    if wrong:
        lines.append(f"  {len(wrong)} tensor(s) of the wrong shape (name: expected vs found):")
        lines += _listing([f"{k}: {_fmt(e)} vs {_fmt(f)}" for k, (e, f) in sorted(wrong.items())])
    if missing:
        lines.append(f"  {len(missing)} missing tensor(s) (name: expected shape):")
        lines += _listing([f"{k}: {_fmt(s)}" for k, s in sorted(missing.items())])
    extra = sorted(extra_layers)
    if extra:
        lines.append(
            f"  {len(extra)} tensor(s) of layers the model does not have (the file is a "
            "bigger model than its configuration):"
        )
        lines += _listing(extra)
    lines.append(
        "  A truncated download or a file of another model size gives this; download the "
        "file again or use the model named above."
    )
    return ValueError("\n".join(lines))


def check_state_dict(
    expected: Mapping[str, Shape],
    found: Mapping[str, Shape],
    *,
    file: str | Path,
    source: WeightSource,
    note: str = "",
) -> None:
    """Raise `refuse_checkpoint`'s error unless ``found`` holds every ``expected`` key with
    its shape and no extra copies of the model's layers (other extras are logged)."""
    missing = {k: s for k, s in expected.items() if k not in found}
    wrong = {
        k: (tuple(s), tuple(found[k]))
        for k, s in expected.items()
        if k in found and tuple(found[k]) != tuple(s)
    }
    unexpected = set(found) - set(expected)
    extra_layers = layer_copies(unexpected, expected)
    if missing or wrong or extra_layers:
        raise refuse_checkpoint(
            file, source, missing=missing, wrong=wrong, extra_layers=extra_layers, note=note
        )
    if unexpected:
        log.info(
            "%s: ignoring %d unused tensors in '%s', e.g. %s",
            source.title,
            len(unexpected),
            file,
            sorted(unexpected)[:3],
        )


def load_checked(
    model: torch.nn.Module,
    state: dict[str, torch.Tensor],
    *,
    file: str | Path,
    source: WeightSource,
) -> torch.nn.Module:
    """Load ``state`` into ``model`` (typically built on the meta device) after
    `check_state_dict`, and freeze it.

    The tensors are assigned, not copied, so they keep the file's dtype and device. Returns
    ``model`` in eval mode with gradients off."""
    expected = model.state_dict()
    check_state_dict(shapes(expected), shapes(state), file=file, source=source)
    model.load_state_dict({k: state[k] for k in expected}, strict=True, assign=True)
    return model.eval().requires_grad_(False)
