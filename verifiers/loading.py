"""Loading verifier weights from local files: safetensors first, pickles only weights-only.

Nothing here downloads. A missing file raises `MissingWeightsError` that says where the
file was expected, which public model id to download and into which ComfyUI folder.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from types import ModuleType

import torch

log = logging.getLogger("flowsearch.verifiers")

#: ComfyUI models sub-folder the nodes search for verifier weights (``models/verifiers/<name>/``).
COMFY_FOLDER = "models/verifiers"


class MissingWeightsError(FileNotFoundError):
    """Raised when a verifier's weights are not where they were looked for."""


class MissingDependencyError(ImportError):
    """Raised when an optional dependency a verifier family needs is not installed."""


def require_path(path: str | Path, *, family: str, model_id: str, subfolder: str) -> Path:
    """Return ``path`` as a Path if it exists, else raise a `MissingWeightsError` with the fix.

    ``subfolder`` is the folder name under ComfyUI's ``models/verifiers/`` the user should use.
    """
    p = Path(path).expanduser()
    if p.exists():
        return p
    raise MissingWeightsError(
        f"{family} weights not found at '{p}'. Download the public model '{model_id}' yourself "
        f"(FlowSearch never downloads) and place it at ComfyUI/{COMFY_FOLDER}/{subfolder}/ "
        f"or pass the path of the downloaded folder/file."
    )


def find_weights_file(
    path: Path,
    names: tuple[str, ...],
    *,
    family: str,
    model_id: str,
    subfolder: str,
    hint: str = "",
    any_single: bool = False,
) -> Path:
    """``path`` if it is a file, else the first of ``names`` inside the folder ``path``.

    With ``any_single``, a folder holding exactly one ``.safetensors``/``.pt``/``.pth`` file
    also resolves to it. Otherwise `MissingWeightsError` lists what was looked for and says
    where to put the download (``hint`` names the file to fetch)."""
    if path.is_file():
        return path
    for name in names:
        if (path / name).is_file():
            return path / name
    found = sorted(p for p in path.iterdir() if p.suffix in (".safetensors", ".pt", ".pth"))
    if any_single and len(found) == 1:
        return found[0]
    several = f"; found several: {', '.join(p.name for p in found)}" if any_single and found else ""
    raise MissingWeightsError(
        f"{family} weights not found in '{path}' (looked for {', '.join(names)}{several}). "
        f"Download {hint or 'them'} from the public model '{model_id}' yourself and place it in "
        f"ComfyUI/{COMFY_FOLDER}/{subfolder}/, or pass the file path."
    )


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


def optional_import(module: str, *, family: str, extra: str) -> ModuleType:
    """Import an optional dependency or raise `MissingDependencyError` naming the install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{family} needs the optional package '{module}' ({exc}); install it with "
            f"`pip install flowsearch[{extra}]`."
        ) from exc


def strip_prefix(
    state: dict[str, torch.Tensor], prefix: str = "module."
) -> dict[str, torch.Tensor]:
    """Drop a DistributedDataParallel-style ``prefix`` when every key has it."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def load_checked(model: torch.nn.Module, state: dict[str, torch.Tensor], source: str):
    """Load ``state`` into ``model`` (typically built on the meta device) and freeze it.

    Missing keys and shape mismatches raise ``ValueError`` naming ``source``; extra keys (other
    heads, optimiser leftovers) are logged and ignored. The tensors are assigned, not copied,
    so they keep the file's dtype and device. Returns ``model`` in eval mode, gradients off.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    wrong = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or wrong:
        lines = [f"'{source}' does not match the expected architecture:"]
        if missing:
            lines.append(f"  {len(missing)} missing keys, e.g. {missing[:5]}")
        if wrong:
            lines.append(f"  {len(wrong)} shape mismatches, e.g. {wrong[:5]}")
        raise ValueError("\n".join(lines))
    extra = sorted(set(state) - set(expected))
    if extra:
        log.info("%s: ignoring %d unused keys, e.g. %s", source, len(extra), extra[:3])
    model.load_state_dict({k: state[k] for k in expected}, strict=True, assign=True)
    return model.eval().requires_grad_(False)
